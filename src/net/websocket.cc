// Every use of Beast's WebSocket code in cex: the session both sides share, the server's hub and
// the reconnecting client. They live in one translation unit because each one that includes
// Beast's WebSocket stream costs about half a minute to compile.

#include "net/websocket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "net/url.h"
#include "net/websocket_client.h"
#include "net/websocket_hub.h"

namespace cex {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using Tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using WsStream = websocket::stream<beast::tcp_stream>;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
template <typename T>
using Awaitable = asio::awaitable<T>;

// Every asynchronous step reports its error as a value; nothing is thrown on network errors.
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// How long a peer gets to answer the close frame when the whole server or client stops.
constexpr milliseconds kStopGrace{1000};

// Outgoing messages are cut into frames of this size: big enough that a large result is not
// thousands of tiny writes, small enough for peers that limit frames.
constexpr size_t kFrameBytes = size_t{64} * 1024;

// Logs what escaped a coroutine; nothing may leave an event-loop callback.
void logEscaped(const std::exception_ptr& error, std::string_view where) {
  if (!error) {
    return;
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("websocket {} failed what={}", where, e.what());
  } catch (...) {
    spdlog::error("websocket {} failed what=unknown", where);
  }
}

// Why a connection ended, as owners hear it. Peers' protocol errors are invalid input, not
// failures of cex.
Status endStatus(const ErrorCode& ec, const WsStream& ws) {
  if (ec == websocket::error::closed) {
    const websocket::close_reason& reason = ws.reason();
    std::string text = "websocket closed code=" + std::to_string(reason.code);
    if (!reason.reason.empty()) {
      text += " reason=" + std::string(reason.reason.data(), reason.reason.size());
    }
    return Status::unavailable(std::move(text));
  }
  if (ec == beast::error::timeout) {
    return Status::timeout("websocket timed out: peer silent or close unanswered");
  }
  if (ec == websocket::error::message_too_big) {
    return Status::resourceExhausted("websocket message over the size limit");
  }
  if (ec == websocket::condition::protocol_violation) {
    return Status::invalidArgument("websocket protocol violation: " + ec.message());
  }
  if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
    return Status::unavailable("websocket closed locally");
  }
  return Status::unavailable("websocket connection lost: " + ec.message());
}

// Calls an owner's callback; an exception closes the connection instead of escaping the loop.
// Returns false when the callback threw.
template <typename Callback, typename... Args>
bool invokeGuarded(std::string_view what, std::string_view tag, const Callback& callback,
                   Args&&... args) {
  if (!callback) {
    return true;
  }
  try {
    callback(std::forward<Args>(args)...);
    return true;
  } catch (const std::exception& e) {
    spdlog::error("websocket {} threw {} what={}", what, tag, e.what());
  } catch (...) {
    spdlog::error("websocket {} threw {} what=unknown", what, tag);
  }
  return false;
}

// ----------------------------------------------------------------------------------------------
// The session both sides share

// One WebSocket connection after (or during) its handshake: reads whole messages, writes the
// queued ones one at a time and closes with a handshake bounded in time. The stream is only
// touched on the session's strand; send(), close() and abort() may come from any thread.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Tcp::socket&& socket, const WebSocketOptions& options, std::string tag);

  WsStream& stream() { return ws_; }

  const std::string& tag() const { return tag_; }

  // Applies the options' limits and timers; before the handshake.
  void configure();

  // After the handshake: from now on send() queues. False when close() or abort() came first.
  bool markOpen();

  bool isOpen() const;

  // Reads messages and hands each to `deliver` until the connection ends; returns why it ended.
  // Messages arriving after close() are dropped. Strand only.
  Awaitable<Status> readMessages(const std::function<void(std::string&&, bool)>& deliver);

  // See WebSocketConnection::send.
  bool send(std::string&& data, bool binary);

  // Sends what is queued, then a close frame with `code`; the socket is cut `grace` later if
  // the close has not completed by then. Before the handshake, aborts instead.
  void close(websocket::close_code code, milliseconds grace);

  // Drops the connection at once, without a close frame.
  void abort();

  // Ends everything: queued messages, the socket, the close deadline. Strand only.
  void shutDownNow();

 private:
  enum class State { Connecting, Open, Closing, Closed };
  enum class Step { Write, Close, Done };

  struct Outgoing {
    std::string data;
    bool binary = false;
  };

  Step takeNext(Outgoing& next);
  Awaitable<void> writeLoop();
  Awaitable<void> closeHandshake();
  bool isClosing() const;
  void startWriter();
  void armDeadline(milliseconds grace);
  void finishWrite(size_t size);
  void dropQueueLocked();

  asio::any_io_executor executor_;
  WsStream ws_;
  WebSocketOptions options_;
  std::string tag_;                // "id=3 remote=..." or "url=...", for logs
  asio::steady_timer deadline_;    // cuts a close that takes too long; strand only
  asio::steady_timer close_done_;  // cancelled when our close handshake ends; strand only
  bool close_finished_ = false;    // strand only

  mutable std::mutex mu_;
  State state_ = State::Connecting;  // guarded by mu_
  std::deque<Outgoing> queue_;       // guarded by mu_
  size_t queued_bytes_ = 0;          // guarded by mu_; includes the message in flight
  bool writing_ = false;             // guarded by mu_; a writeLoop owns the stream
  websocket::close_code close_code_{websocket::close_code::normal};  // guarded by mu_
};

Session::Session(Tcp::socket&& socket, const WebSocketOptions& options, std::string tag)
    : executor_(socket.get_executor()),
      ws_(std::move(socket)),
      options_(options),
      tag_(std::move(tag)),
      deadline_(executor_),
      close_done_(executor_, asio::steady_timer::time_point::max()) {}

void Session::configure() {
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = options_.handshake_timeout;
  timeouts.idle_timeout = options_.idle_timeout.count() > 0
                              ? websocket::stream_base::duration(options_.idle_timeout)
                              : websocket::stream_base::none();
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.read_message_max(options_.max_message_bytes);
  ws_.write_buffer_bytes(kFrameBytes);

  // The WebSocket layer keeps its own timers; the TCP layer's would cut idle but healthy peers.
  beast::get_lowest_layer(ws_).expires_never();
  ErrorCode ec;
  beast::get_lowest_layer(ws_).socket().set_option(Tcp::no_delay(true), ec);
}

bool Session::markOpen() {
  std::lock_guard lock(mu_);
  if (state_ != State::Connecting) {
    return false;
  }
  state_ = State::Open;
  return true;
}

bool Session::isOpen() const {
  std::lock_guard lock(mu_);
  return state_ == State::Open;
}

bool Session::isClosing() const {
  std::lock_guard lock(mu_);
  return state_ == State::Closing;
}

Awaitable<Status> Session::readMessages(const std::function<void(std::string&&, bool)>& deliver) {
  for (;;) {
    // Read straight into the string the owner receives: large results are not copied again.
    std::string message;
    auto buffer = asio::dynamic_buffer(message);
    auto [ec, n] = co_await ws_.async_read(buffer, kAwait);

    // Our own close takes the reading over to await the peer's answer; the connection has
    // ended only once that handshake has.
    if (ec == asio::error::operation_aborted && isClosing()) {
      if (!close_finished_) {
        co_await close_done_.async_wait(kAwait);
      }
      co_return Status::unavailable("websocket closed locally");
    }
    if (ec) {
      co_return endStatus(ec, ws_);
    }
    if (isOpen()) {
      deliver(std::move(message), ws_.got_binary());
    }
  }
}

bool Session::send(std::string&& data, bool binary) {
  size_t queued = 0;
  bool over = false;
  bool start = false;
  {
    std::lock_guard lock(mu_);
    if (state_ != State::Open) {
      return false;
    }
    queued = queued_bytes_ + data.size();
    over = queued > options_.max_queued_bytes;
    if (over) {
      state_ = State::Closed;
      dropQueueLocked();
    } else {
      queued_bytes_ = queued;
      queue_.push_back({std::move(data), binary});
      start = !writing_;
      writing_ = true;
    }
  }

  // A peer that does not read would otherwise hold this memory for as long as it likes.
  if (over) {
    spdlog::warn("websocket send queue over limit, dropping connection {} queued_bytes={} limit={}",
                 tag_, queued, options_.max_queued_bytes);
    abort();
    return false;
  }
  if (start) {
    startWriter();
  }
  return true;
}

void Session::close(websocket::close_code code, milliseconds grace) {
  bool graceful = false;
  bool start = false;
  {
    std::lock_guard lock(mu_);
    if (state_ == State::Closing || state_ == State::Closed) {
      return;
    }
    graceful = state_ == State::Open;
    state_ = graceful ? State::Closing : State::Closed;
    close_code_ = code;
    start = graceful && !writing_;
    writing_ = writing_ || graceful;
  }

  // Still connecting: there is no handshake to close, only a socket to drop.
  if (!graceful) {
    abort();
    return;
  }
  asio::post(executor_, [self = shared_from_this(), start, grace] {
    self->armDeadline(grace);
    if (start) {
      asio::co_spawn(self->executor_, self->writeLoop(),
                     [](const std::exception_ptr& e) { logEscaped(e, "write"); });
    }
  });
}

void Session::abort() {
  asio::post(executor_, [self = shared_from_this()] { self->shutDownNow(); });
}

void Session::shutDownNow() {
  {
    std::lock_guard lock(mu_);
    state_ = State::Closed;
    dropQueueLocked();
  }
  deadline_.cancel();
  close_finished_ = true;
  close_done_.cancel();
  beast::get_lowest_layer(ws_).close();
}

void Session::startWriter() {
  asio::post(executor_, [self = shared_from_this()] {
    asio::co_spawn(self->executor_, self->writeLoop(),
                   [](const std::exception_ptr& e) { logEscaped(e, "write"); });
  });
}

void Session::armDeadline(milliseconds grace) {
  // Already over: a timer now would only keep the session, and its loop, alive for nothing.
  {
    std::lock_guard lock(mu_);
    if (state_ == State::Closed) {
      return;
    }
  }
  deadline_.expires_after(grace);
  deadline_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    if (!ec) {
      spdlog::debug("websocket close unanswered, dropping connection {}", self->tag_);
      self->shutDownNow();
    }
  });
}

Session::Step Session::takeNext(Outgoing& next) {
  std::lock_guard lock(mu_);
  if (state_ == State::Closed) {
    writing_ = false;
    return Step::Done;
  }
  if (!queue_.empty()) {
    next = std::move(queue_.front());
    queue_.pop_front();
    return Step::Write;
  }
  if (state_ == State::Closing) {
    return Step::Close;  // writing_ stays set: nothing may be written after the close frame
  }
  writing_ = false;
  return Step::Done;
}

Awaitable<void> Session::writeLoop() {
  for (;;) {
    Outgoing next;
    Step step = takeNext(next);
    if (step == Step::Done) {
      co_return;
    }
    if (step == Step::Close) {
      co_await closeHandshake();
      co_return;
    }

    ws_.text(!next.binary);
    auto [ec, n] = co_await ws_.async_write(asio::buffer(next.data), kAwait);
    finishWrite(next.data.size());
    if (ec) {
      spdlog::debug("websocket write failed {} reason={}", tag_, ec.message());
      shutDownNow();
      co_return;
    }
  }
}

Awaitable<void> Session::closeHandshake() {
  websocket::close_code code;
  {
    std::lock_guard lock(mu_);
    code = close_code_;
  }
  auto [ec] = co_await ws_.async_close(code, kAwait);
  if (ec) {
    spdlog::debug("websocket close failed {} reason={}", tag_, ec.message());
  }
  shutDownNow();
}

void Session::finishWrite(size_t size) {
  std::lock_guard lock(mu_);
  queued_bytes_ -= size;
}

void Session::dropQueueLocked() {
  for (const Outgoing& dropped : queue_) {
    queued_bytes_ -= dropped.data.size();
  }
  queue_.clear();
}

// ----------------------------------------------------------------------------------------------
// The server's side

// A registered path prefix and what serves it.
struct Route {
  std::string prefix;
  std::shared_ptr<const WebSocketHandler> handler;
};

// "/a" covers "/a" and "/a/b" but not "/ab"; "/a/" covers everything below it.
bool prefixCovers(std::string_view prefix, std::string_view path) {
  if (path.substr(0, prefix.size()) != prefix) {
    return false;
  }
  return path.size() == prefix.size() || prefix.back() == '/' || path[prefix.size()] == '/';
}

// What the hub shares with its connections. Connection handles may hold it after the hub is
// gone.
struct HubState {
  explicit HubState(const WebSocketOptions& o) : options(o) {}

  // The handler of the longest prefix covering `path`, or null.
  std::shared_ptr<const WebSocketHandler> route(std::string_view path) const;

  const WebSocketOptions options;
  std::atomic<uint64_t> next_id{1};

  mutable std::mutex mu;
  std::vector<Route> routes;  // guarded by mu; longest prefix first
  bool stopping = false;      // guarded by mu; no new connections once set
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions;  // guarded by mu

  // Held shared while a handle touches a session and exclusively while the hub is destroyed:
  // no session is woken, nor freed by an owner's thread, once its io_context is gone.
  std::shared_mutex life_mu;
  bool alive = true;  // guarded by life_mu
};

std::shared_ptr<const WebSocketHandler> HubState::route(std::string_view path) const {
  std::lock_guard lock(mu);
  for (const Route& route : routes) {
    if (prefixCovers(route.prefix, path)) {
      return route.handler;
    }
  }
  return nullptr;
}

// The WebSocketConnection that handlers hold: reaches the session only while both it and the
// hub exist.
class ConnectionHandle final : public WebSocketConnection {
 public:
  ConnectionHandle(const std::shared_ptr<Session>& session, std::shared_ptr<HubState> state,
                   uint64_t id, const HttpRequest& request)
      : session_(session),
        state_(std::move(state)),
        id_(id),
        remote_(request.remote_address),
        path_(request.path),
        query_(request.query) {}

  bool send(std::string text) override {
    return withSession([&](Session& session) { return session.send(std::move(text), false); });
  }

  bool sendBinary(std::string data) override {
    return withSession([&](Session& session) { return session.send(std::move(data), true); });
  }

  void close() override {
    withSession([&](Session& session) {
      session.close(websocket::close_code::normal, state_->options.handshake_timeout);
      return true;
    });
  }

  uint64_t id() const override { return id_; }

  const std::string& remoteAddress() const override { return remote_; }

  const std::string& path() const override { return path_; }

  const std::string& query() const override { return query_; }

 private:
  template <typename Action>
  bool withSession(Action&& action) {
    std::shared_lock lock(state_->life_mu);
    if (!state_->alive) {
      return false;
    }
    std::shared_ptr<Session> session = session_.lock();
    return session && action(*session);
  }

  std::weak_ptr<Session> session_;
  std::shared_ptr<HubState> state_;
  uint64_t id_;
  std::string remote_;
  std::string path_;
  std::string query_;
};

// The upgrade request as Beast's handshake code wants it. Only HTTP/1.1 requests get here.
http::request<http::empty_body> toBeastRequest(const HttpRequest& request) {
  http::request<http::empty_body> out;
  out.method_string(request.method);
  out.target(request.target);
  out.version(11);
  for (const HttpHeader& header : request.headers) {
    out.insert(header.name, header.value);
  }
  return out;
}

// Answers the handshake, then runs the handler's callbacks until the connection ends.
Awaitable<void> serveConnection(std::shared_ptr<HubState> state, std::shared_ptr<Session> session,
                                WebSocketConnectionPtr connection, HttpRequest request,
                                std::shared_ptr<const WebSocketHandler> handler) {
  const std::string& tag = session->tag();
  session->configure();
  http::request<http::empty_body> upgrade = toBeastRequest(request);
  auto [ec] = co_await session->stream().async_accept(upgrade, kAwait);
  bool opened = !ec && session->markOpen();
  if (opened) {
    spdlog::debug("websocket open {}", tag);

    // A throwing handler costs its own connection, nothing else.
    auto guard = [&](bool ok) {
      if (!ok) {
        session->close(websocket::close_code::internal_error, state->options.handshake_timeout);
      }
    };
    guard(invokeGuarded("on_open", tag, handler->on_open, connection));
    Status why = co_await session->readMessages([&](std::string&& message, bool binary) {
      guard(invokeGuarded("on_message", tag, handler->on_message, connection, std::move(message),
                          binary));
    });
    spdlog::debug("websocket closed {} reason=\"{}\"", tag, why.message());
  } else {
    spdlog::debug("websocket handshake refused {} reason=\"{}\"", tag,
                  ec ? ec.message() : "stopping");
  }

  session->shutDownNow();
  {
    std::lock_guard lock(state->mu);
    state->sessions.erase(connection->id());
  }
  if (opened) {
    invokeGuarded("on_close", tag, handler->on_close, connection);
  }
}

// The protocol of a connected socket, which Asio needs to adopt it.
Tcp protocolOf(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0 &&
      address.ss_family == AF_INET6) {
    return Tcp::v6();
  }
  return Tcp::v4();
}

// Runs an io_context until it has no work left; an exception thrown out of a handler is logged
// and the loop goes on.
void runLoop(asio::io_context& io, std::string_view what) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("{} loop failed what={}", what, e.what());
    }
  }
}

}  // namespace

struct WebSocketHub::Impl {
  explicit Impl(const WebSocketOptions& options)
      : work(io.get_executor()), state(std::make_shared<HubState>(options)) {}

  // Closes every session and lets the loop end; on the loop.
  void closeAll();

  // Declared first so it is destroyed last: everything below uses its services.
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;  // kept until stop
  std::shared_ptr<HubState> state;
};

void WebSocketHub::Impl::closeAll() {
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard lock(state->mu);
    if (state->stopping) {
      return;
    }
    state->stopping = true;
    for (auto& [id, weak] : state->sessions) {
      if (auto session = weak.lock()) {
        open.push_back(std::move(session));
      }
    }
  }
  spdlog::debug("websocket hub stopping connections={}", open.size());
  for (auto& session : open) {
    session->close(websocket::close_code::going_away, kStopGrace);
  }
  work.reset();
}

WebSocketHub::WebSocketHub(const WebSocketOptions& options)
    : impl_(std::make_unique<Impl>(options)) {}

WebSocketHub::~WebSocketHub() {
  std::unique_lock lock(impl_->state->life_mu);
  impl_->state->alive = false;
}

Status WebSocketHub::addRoute(std::string prefix, WebSocketHandler handler) {
  if (prefix.empty() || prefix.front() != '/') {
    return Status::invalidArgument("websocket route \"" + prefix + "\": must start with '/'");
  }
  HubState& state = *impl_->state;
  std::lock_guard lock(state.mu);
  for (const Route& route : state.routes) {
    if (route.prefix == prefix) {
      return Status::invalidArgument("websocket route \"" + prefix + "\": already registered");
    }
  }
  auto shared = std::make_shared<const WebSocketHandler>(std::move(handler));
  state.routes.push_back({std::move(prefix), std::move(shared)});
  std::stable_sort(state.routes.begin(), state.routes.end(), [](const Route& a, const Route& b) {
    return a.prefix.size() > b.prefix.size();
  });
  return Status::ok();
}

bool WebSocketHub::serves(std::string_view path) const {
  return impl_->state->route(path) != nullptr;
}

void WebSocketHub::adopt(int fd, HttpRequest&& request) {
  const std::shared_ptr<HubState>& state = impl_->state;
  std::shared_ptr<const WebSocketHandler> handler = state->route(request.path);
  Tcp::socket socket(asio::make_strand(impl_->io));
  ErrorCode ec;
  socket.assign(protocolOf(fd), fd, ec);
  if (ec) {
    spdlog::warn("websocket adopt failed remote={} reason={}", request.remote_address,
                 ec.message());
    ::close(fd);
    return;
  }

  // Registered before it starts, so that a concurrent stop() cannot miss it.
  uint64_t id = state->next_id++;
  std::string tag =
      fmt::format("id={} remote={} path={}", id, request.remote_address, request.path);
  auto session = std::make_shared<Session>(std::move(socket), state->options, std::move(tag));
  auto handle = std::make_shared<ConnectionHandle>(session, state, id, request);
  {
    std::lock_guard lock(state->mu);
    if (state->stopping || !handler) {
      return;  // the socket closes with the session
    }
    state->sessions.emplace(id, session);
  }
  auto executor = session->stream().get_executor();
  asio::co_spawn(executor,
                 serveConnection(state, std::move(session), std::move(handle), std::move(request),
                                 std::move(handler)),
                 [](const std::exception_ptr& e) { logEscaped(e, "connection"); });
}

void WebSocketHub::run(int threads) {
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) {
    workers.emplace_back([this] { runLoop(impl_->io, "websocket"); });
  }
  runLoop(impl_->io, "websocket");
  for (std::thread& worker : workers) {
    worker.join();
  }
}

void WebSocketHub::stop() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->closeAll(); });
}

// ----------------------------------------------------------------------------------------------
// The client

namespace {

class ClientImpl final : public WebSocketClient {
 public:
  ClientImpl(WebSocketClientOptions options, Url url, WebSocketClientHandler handler);
  ~ClientImpl() override;
  ClientImpl(const ClientImpl&) = delete;
  ClientImpl& operator=(const ClientImpl&) = delete;
  ClientImpl(ClientImpl&&) = delete;
  ClientImpl& operator=(ClientImpl&&) = delete;

  void start() override;
  bool send(std::string text) override;
  bool sendBinary(std::string data) override;
  bool connected() const override;
  void stop() override;

 private:
  Awaitable<void> runForever();
  Awaitable<Status> connect(Session& session);
  Awaitable<void> serve(const std::shared_ptr<Session>& session);
  // The wait before the next attempt; grows with each failure in a row.
  milliseconds nextDelay();
  void setCurrent(std::shared_ptr<Session> session);
  std::shared_ptr<Session> current() const;
  void halt();

  // Declared first so it is destroyed last: everything below uses its services.
  asio::io_context io_;
  asio::strand<asio::io_context::executor_type> strand_;
  Tcp::resolver resolver_;   // strand only
  asio::steady_timer wait_;  // back-off between attempts; strand only
  const WebSocketClientOptions options_;
  const Url url_;
  const WebSocketClientHandler handler_;
  std::mt19937_64 random_;  // strand only
  int failures_ = 0;        // attempts failed in a row; strand only

  std::atomic<bool> stopping_{false};
  std::mutex thread_mu_;
  std::thread thread_;  // guarded by thread_mu_

  mutable std::mutex mu_;
  std::shared_ptr<Session> current_;  // guarded by mu_; the connection being made or served
};

ClientImpl::ClientImpl(WebSocketClientOptions options, Url url, WebSocketClientHandler handler)
    : strand_(asio::make_strand(io_)),
      resolver_(strand_),
      wait_(strand_),
      options_(std::move(options)),
      url_(std::move(url)),
      handler_(std::move(handler)),
      random_(std::random_device{}()) {}

ClientImpl::~ClientImpl() {
  stop();
}

void ClientImpl::start() {
  std::lock_guard lock(thread_mu_);
  if (thread_.joinable() || stopping_) {
    return;
  }
  asio::co_spawn(strand_, runForever(),
                 [](const std::exception_ptr& e) { logEscaped(e, "client"); });
  thread_ = std::thread([this] { runLoop(io_, "websocket client"); });
}

bool ClientImpl::send(std::string text) {
  std::shared_ptr<Session> session = current();
  return session && session->send(std::move(text), false);
}

bool ClientImpl::sendBinary(std::string data) {
  std::shared_ptr<Session> session = current();
  return session && session->send(std::move(data), true);
}

bool ClientImpl::connected() const {
  std::shared_ptr<Session> session = current();
  return session && session->isOpen();
}

void ClientImpl::stop() {
  if (!stopping_.exchange(true)) {
    asio::post(strand_, [this] { halt(); });
  }

  // From a callback the loop cannot be joined; it ends by itself once the connection has.
  std::lock_guard lock(thread_mu_);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

void ClientImpl::halt() {
  resolver_.cancel();
  wait_.cancel();
  if (std::shared_ptr<Session> session = current()) {
    session->close(websocket::close_code::going_away, kStopGrace);
  }
}

void ClientImpl::setCurrent(std::shared_ptr<Session> session) {
  std::lock_guard lock(mu_);
  current_ = std::move(session);
}

std::shared_ptr<Session> ClientImpl::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

Awaitable<void> ClientImpl::runForever() {
  // halt() runs on this strand, so stopping_ is seen either here or by the step it cancels.
  while (!stopping_) {
    auto session =
        std::make_shared<Session>(Tcp::socket(strand_), options_.websocket, "url=" + options_.url);
    setCurrent(session);
    Status status = co_await connect(*session);
    if (status.isOk()) {
      co_await serve(session);
    }
    setCurrent(nullptr);
    session->shutDownNow();
    if (stopping_) {
      break;
    }

    milliseconds delay = nextDelay();
    if (!status.isOk()) {
      spdlog::debug("websocket client connect failed url={} reason=\"{}\" retry_ms={}",
                    options_.url, status.message(), delay.count());
      invokeGuarded("on_connect_failed", options_.url, handler_.on_connect_failed, status, delay);
    }
    wait_.expires_after(delay);
    co_await wait_.async_wait(kAwait);
  }
  spdlog::debug("websocket client stopped url={}", options_.url);
}

Awaitable<Status> ClientImpl::connect(Session& session) {
  auto [resolve_ec, endpoints] =
      co_await resolver_.async_resolve(url_.host, std::to_string(url_.port), kAwait);
  if (resolve_ec) {
    co_return Status::unavailable("websocket resolve " + url_.host + ": " + resolve_ec.message());
  }

  beast::tcp_stream& tcp = beast::get_lowest_layer(session.stream());
  tcp.expires_after(options_.connect_timeout);
  auto [connect_ec, endpoint] = co_await tcp.async_connect(endpoints, kAwait);
  if (connect_ec == beast::error::timeout) {
    co_return Status::timeout("websocket connect " + url_.hostHeader() + ": timed out");
  }
  if (connect_ec) {
    co_return Status::unavailable("websocket connect " + url_.hostHeader() + ": " +
                                  connect_ec.message());
  }

  session.configure();
  session.stream().set_option(websocket::stream_base::decorator(
      [headers = options_.headers](websocket::request_type& request) {
        for (const HttpHeader& header : headers) {
          request.set(header.name, header.value);
        }
      }));
  auto [ec] = co_await session.stream().async_handshake(url_.hostHeader(), url_.target, kAwait);
  if (ec) {
    co_return Status::unavailable("websocket upgrade " + options_.url + ": " + ec.message());
  }
  if (!session.markOpen()) {
    co_return Status::unavailable("websocket client stopping");
  }
  co_return Status::ok();
}

Awaitable<void> ClientImpl::serve(const std::shared_ptr<Session>& session) {
  spdlog::info("websocket client connected url={}", options_.url);
  auto opened = Clock::now();

  // An owner's exception drops this connection; the next one starts afresh.
  auto guard = [&](bool ok) {
    if (!ok) {
      session->close(websocket::close_code::internal_error, options_.websocket.handshake_timeout);
    }
  };
  guard(invokeGuarded("on_open", options_.url, handler_.on_open));
  Status why = co_await session->readMessages([&](std::string&& message, bool binary) {
    guard(
        invokeGuarded("on_message", options_.url, handler_.on_message, std::move(message), binary));
  });

  // Sends during on_close must already fail.
  session->shutDownNow();
  setCurrent(nullptr);
  spdlog::info("websocket client disconnected url={} reason=\"{}\"", options_.url, why.message());
  invokeGuarded("on_close", options_.url, handler_.on_close, why);

  // Only a connection that held for a while resets the back-off: a server that accepts and
  // drops at once must not be hammered.
  if (Clock::now() - opened >= options_.max_backoff) {
    failures_ = 0;
  }
}

milliseconds ClientImpl::nextDelay() {
  double base = static_cast<double>(options_.min_backoff.count());
  double limit = static_cast<double>(options_.max_backoff.count());
  for (int i = 0; i < failures_ && base < limit; ++i) {
    base *= 2;
  }
  base = std::min(base, limit);
  ++failures_;
  std::uniform_real_distribution<double> draw(base / 2, base);
  return milliseconds(static_cast<int64_t>(draw(random_)));
}

}  // namespace

Result<std::unique_ptr<WebSocketClient>> WebSocketClient::create(WebSocketClientOptions options,
                                                                 WebSocketClientHandler handler) {
  Result<Url> url = parseUrl(options.url);
  if (!url.ok()) {
    return url.status();
  }
  if (url->scheme != "ws") {
    return Status::invalidArgument("websocket client url " + options.url + ": not ws://");
  }
  if (options.min_backoff.count() <= 0 || options.max_backoff < options.min_backoff) {
    return Status::invalidArgument("websocket client: need 0 < min_backoff <= max_backoff");
  }
  return std::unique_ptr<WebSocketClient>(
      std::make_unique<ClientImpl>(std::move(options), std::move(url).value(), std::move(handler)));
}

}  // namespace cex

#include "net/http_server.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "net/websocket_hub.h"

namespace cex {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using Tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
template <typename T>
using Awaitable = asio::awaitable<T>;

// Every asynchronous step reports its error as a value; nothing is thrown on network errors.
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// After a response that ends the connection, the unread rest of the request is drained for at
// most this long and this much, so that closing does not reset the connection under the
// client before it has read the response.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1 << 20;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// ----------------------------------------------------------------------------------------------
// Responses

std::string_view reasonPhrase(int status) {
  http::status known = http::int_to_status(static_cast<unsigned>(status));
  if (known != http::status::unknown) {
    beast::string_view reason = http::obsolete_reason(known);
    return {reason.data(), reason.size()};
  }

  // An unregistered code still needs a phrase: strict clients reject an empty one.
  switch (status / 100) {
    case 2:
      return "Success";
    case 3:
      return "Redirection";
    case 4:
      return "Client Error";
    default:
      return "Server Error";
  }
}

// The response the server itself sends for 4xx/5xx it decides on (bad framing, a throwing
// handler): a short text that never echoes internals.
HttpResponse errorResponse(int status) {
  HttpResponse response;
  response.status = status;
  response.headers.push_back({"Content-Type", "text/html; charset=utf-8"});
  response.body = std::string(reasonPhrase(status));
  response.body += '\n';
  return response;
}

bool isTokenChar(char c) {
  return c > ' ' && c < 127 && c != ':' && c != '(' && c != ')' && c != ',' && c != '/' &&
         c != ';' && c != '<' && c != '=' && c != '>' && c != '?' && c != '@' && c != '[' &&
         c != '\\' && c != ']' && c != '{' && c != '}' && c != '"';
}

// Headers the server derives itself from the body and the connection state; a handler's own
// are left out rather than risk two conflicting values.
bool isFramingHeader(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Connection");
}

// Whether a handler's header can go on the wire. An empty value or a line break in a value
// would break strict clients, or let the value inject headers of its own.
bool isWellFormed(const HttpHeader& header) {
  if (header.name.empty() || trim(header.value).empty()) {
    return false;
  }
  for (char c : header.name) {
    if (!isTokenChar(c)) {
      return false;
    }
  }
  return header.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

// 204 and 304 never carry a body, so they get no Content-Length either (RFC 9110 8.6).
bool isBodiless(int status) {
  return status == 204 || status == 304;
}

void appendNumber(std::string& out, uint64_t value) {
  std::array<char, 24> digits;
  auto end = std::to_chars(digits.data(), digits.data() + digits.size(), value).ptr;
  out.append(digits.data(), end);
}

// How the response head must describe the connection.
struct Framing {
  bool keep_alive = true;
  int version = 11;  // of the request: 10 or 11
};

// Writes the status line and headers of `response` into `out`, reusing its capacity.
void buildHead(std::string& out, const HttpResponse& response, Framing framing) {
  out.clear();
  out += "HTTP/1.1 ";
  appendNumber(out, static_cast<uint64_t>(response.status));
  out += ' ';
  out += reasonPhrase(response.status);
  out += "\r\n";
  for (const HttpHeader& header : response.headers) {
    if (isFramingHeader(header.name)) {
      continue;
    }
    if (!isWellFormed(header)) {
      spdlog::warn("http response header dropped name={} status={}", header.name, response.status);
      continue;
    }
    out.append(header.name).append(": ").append(header.value).append("\r\n");
  }
  if (!isBodiless(response.status)) {
    out += "Content-Length: ";
    appendNumber(out, response.body.size());
    out += "\r\n";
  }

  // HTTP/1.1 keeps the connection by default; HTTP/1.0 only when told so.
  if (!framing.keep_alive) {
    out += "Connection: close\r\n";
  } else if (framing.version == 10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
}

// ----------------------------------------------------------------------------------------------
// Requests

// Splits an origin-form or absolute-form request target into path and query. Returns false
// for a target no handler could route.
bool splitTarget(std::string_view target, HttpRequest& request) {
  std::string_view rest = target;
  if (rest.empty()) {
    return false;
  }
  if (rest.front() != '/' && rest != "*") {
    // Absolute form ("http://host/path"), as sent to proxies: keep only the path.
    size_t scheme_end = rest.find("://");
    if (scheme_end == std::string_view::npos || (!iequals(rest.substr(0, scheme_end), "http") &&
                                                 !iequals(rest.substr(0, scheme_end), "https"))) {
      return false;
    }
    size_t path_start = rest.find('/', scheme_end + 3);
    rest = path_start == std::string_view::npos ? std::string_view("/") : rest.substr(path_start);
  }
  size_t question = rest.find('?');
  request.path = std::string(rest.substr(0, question));
  if (question != std::string_view::npos) {
    request.query = std::string(rest.substr(question + 1));
  }
  request.target = std::string(target);
  return true;
}

// Parses one request straight into an HttpRequest: headers land in the request's own list and
// body bytes are appended to request.body, so the body is copied once, from the socket buffer.
class RequestParser final : public http::basic_parser<true> {
 public:
  RequestParser(uint64_t body_limit, uint32_t header_limit) {
    this->body_limit(body_limit);
    this->header_limit(header_limit);
  }

  HttpRequest& request() { return request_; }

  int version() const { return version_; }

  // True when the client waits for "100 Continue" before sending the body.
  bool expectsContinue() const { return expect_continue_ && version_ >= 11; }

 private:
  void on_request_impl(http::verb, beast::string_view method, beast::string_view target,
                       int version, ErrorCode& ec) override {
    if (version != 10 && version != 11) {
      ec = http::error::bad_version;
      return;
    }
    version_ = version;
    request_.method.assign(method.data(), method.size());
    if (!splitTarget({target.data(), target.size()}, request_)) {
      ec = http::error::bad_target;
    }
  }

  void on_response_impl(int, beast::string_view, int, ErrorCode&) override {}

  void on_field_impl(http::field field, beast::string_view name, beast::string_view value,
                     ErrorCode&) override {
    if (field == http::field::expect && iequals({value.data(), value.size()}, "100-continue")) {
      expect_continue_ = true;
    }
    request_.headers.push_back(
        {std::string(name.data(), name.size()), std::string(value.data(), value.size())});
  }

  void on_header_impl(ErrorCode&) override {}

  void on_body_init_impl(const boost::optional<uint64_t>& length, ErrorCode&) override {
    // The parser has already checked the declared length against the limit. Only a little is
    // reserved until the bytes arrive, so idle clients cannot claim memory by declaring.
    declared_length_ = length.value_or(0);
    request_.body.reserve(std::min<size_t>(declared_length_, kEagerReserve));
  }

  size_t on_body_impl(beast::string_view body, ErrorCode&) override {
    if (request_.body.size() + body.size() > request_.body.capacity()) {
      request_.body.reserve(declared_length_);
    }
    request_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(uint64_t, beast::string_view, ErrorCode&) override {}

  size_t on_chunk_body_impl(uint64_t, beast::string_view body, ErrorCode&) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(ErrorCode&) override {}

  static constexpr size_t kEagerReserve = size_t{64} * 1024;

  HttpRequest request_;
  int version_ = 11;
  bool expect_continue_ = false;
  size_t declared_length_ = 0;  // Content-Length, or 0 when chunked
};

// The response status for a failed read, or 0 when the connection just ends without one
// (the client went away, timed out, or the server is stopping).
int statusForReadError(const ErrorCode& ec) {
  if (ec == http::error::body_limit) {
    return 413;
  }
  if (ec == http::error::header_limit) {
    return 431;
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
    return 0;
  }
  if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
    return 400;
  }
  return 0;
}

// Whether a Sec-WebSocket-Key is what RFC 6455 demands: 16 bytes in base64, i.e. 22 base64
// characters and "==". The WebSocket library would accept any short string.
bool isWebSocketKey(std::optional<std::string_view> key) {
  if (!key || key->size() != 24 || key->substr(22) != "==") {
    return false;
  }
  return std::all_of(key->begin(), key->begin() + 22, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  });
}

// Whether a comma-separated header value ("keep-alive, Upgrade") lists `token`.
bool hasToken(std::optional<std::string_view> value, std::string_view token) {
  if (!value) {
    return false;
  }
  for (std::string_view part : split(*value, ',')) {
    if (iequals(trim(part), token)) {
      return true;
    }
  }
  return false;
}

// ----------------------------------------------------------------------------------------------
// Connections

class Connection;

// What connections share with the server. Responders may hold it after the server is gone.
struct ServerState {
  HttpServerOptions options;
  HttpHandler handler;
  // Set before run() when a WebSocket route exists; the server owns it and outlives every
  // connection's use of it.
  WebSocketHub* hub = nullptr;

  std::mutex mu;
  bool stopping = false;  // guarded by mu; no new connections once set
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;  // guarded by mu

  // Held shared while a responder touches a connection and exclusively while the server is
  // destroyed: no connection is woken, nor freed by a responder's thread, once the io_context
  // that its socket belongs to is gone.
  std::shared_mutex life_mu;
  bool alive = true;  // guarded by life_mu

  // Hands a response to the connection if both it and the server still exist.
  void deliver(const std::weak_ptr<Connection>& target, HttpResponse&& response);
};

// What a connection does after one request.
enum class Next { Continue, Linger, Close };

// What a connection does with a request that asks to upgrade.
enum class Upgrade { No, HandOver, Refuse };

// One client connection: reads requests one at a time, hands each to the handler and writes
// its response before reading the next. All socket work runs on the connection's strand;
// only deliver() is called from other threads.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Tcp::socket&& socket, std::shared_ptr<ServerState> state);

  // Serves requests until the connection ends; `self` keeps the connection alive meanwhile.
  static Awaitable<void> serve(std::shared_ptr<Connection> self);
  // Stores the handler's response and wakes the serving coroutine. Any thread, but only
  // through ServerState::deliver, which guarantees the io_context is alive.
  void deliver(HttpResponse&& response);
  // Aborts all pending work. Only on the connection's strand.
  void close();
  // Closes once the response already given is written, or now if there is none. Only on the
  // connection's strand.
  void closeAfterReply();

  const asio::any_io_executor& executor() const { return executor_; }

 private:
  enum class ReplyState { Idle, Handling, Waiting, Ready };

  Awaitable<Next> serveOne();
  Awaitable<ErrorCode> readRequest();
  Awaitable<Next> reject(const ErrorCode& ec);
  Awaitable<Next> dispatch();
  Upgrade checkUpgrade(const HttpRequest& request) const;
  Awaitable<Next> handOver(HttpRequest&& request, Upgrade upgrade);
  void invokeHandler(HttpRequest&& request);
  // Replaces an invalid status with 500 and applies a handler's "Connection: close".
  void checkReply(HttpResponse& reply, Framing& framing);
  std::optional<HttpResponse> takeReplyOrWait();
  Awaitable<std::optional<HttpResponse>> awaitReply();
  Awaitable<bool> write(const HttpResponse& response, bool head, Framing framing);
  Awaitable<void> lingerClose();
  void armTimer();

  asio::any_io_executor executor_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::shared_ptr<ServerState> state_;
  std::string remote_;
  std::string head_;    // response head being written; its capacity is reused
  std::string target_;  // target of the request being served, for logs
  bool closed_ = false;
  bool writing_ = false;
  bool close_after_reply_ = false;

  // Hand-over of the response from the handler's thread to the strand.
  asio::steady_timer wake_;  // waited on in Waiting; cancelled to wake
  std::mutex reply_mu_;
  ReplyState reply_state_ = ReplyState::Idle;  // guarded by reply_mu_
  HttpResponse reply_;                         // guarded by reply_mu_
};

// The Responder's shared part: passes the response on exactly once, and answers 500 if every
// copy of the Responder is dropped without a call, so that no client waits forever. Holds the
// connection weakly: while the request is pending, the serving coroutine keeps it alive.
class ReplySlot {
 public:
  ReplySlot(std::weak_ptr<Connection> connection, std::shared_ptr<ServerState> state)
      : connection_(std::move(connection)), state_(std::move(state)) {}

  ReplySlot(const ReplySlot&) = delete;
  ReplySlot& operator=(const ReplySlot&) = delete;
  ReplySlot(ReplySlot&&) = delete;
  ReplySlot& operator=(ReplySlot&&) = delete;

  ~ReplySlot() {
    if (used_.load()) {
      return;
    }
    spdlog::error("http handler dropped responder without a response");
    try {
      state_->deliver(connection_, errorResponse(500));
    } catch (const std::exception& e) {
      spdlog::error("http responder cleanup failed what={}", e.what());
    }
  }

  // Returns false when a response was already given; this one is then dropped.
  bool fulfil(HttpResponse&& response) {
    if (used_.exchange(true)) {
      return false;
    }
    state_->deliver(connection_, std::move(response));
    return true;
  }

 private:
  std::weak_ptr<Connection> connection_;
  std::shared_ptr<ServerState> state_;
  std::atomic<bool> used_{false};
};

void ServerState::deliver(const std::weak_ptr<Connection>& target, HttpResponse&& response) {
  // The connection, if this is its last owner, is freed under the lock, while its io_context
  // certainly exists.
  std::shared_lock lock(life_mu);
  if (!alive) {
    return;
  }
  if (std::shared_ptr<Connection> connection = target.lock()) {
    connection->deliver(std::move(response));
  }
}

Connection::Connection(Tcp::socket&& socket, std::shared_ptr<ServerState> state)
    : executor_(socket.get_executor()),
      stream_(std::move(socket)),
      state_(std::move(state)),
      wake_(executor_) {
  // Responses go out in one write each; Nagle would only delay pipelined ones.
  ErrorCode ec;
  stream_.socket().set_option(Tcp::no_delay(true), ec);
  Tcp::endpoint remote = stream_.socket().remote_endpoint(ec);
  if (!ec) {
    remote_ = remote.address().to_string();
  }
}

Awaitable<void> Connection::serve(std::shared_ptr<Connection> self) {
  spdlog::debug("http connection open remote={}", self->remote_);
  Next next = Next::Continue;
  while (next == Next::Continue) {
    next = co_await self->serveOne();
  }
  if (next == Next::Linger) {
    co_await self->lingerClose();
  }
  self->close();
  spdlog::debug("http connection closed remote={}", self->remote_);
}

void Connection::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  stream_.close();
  wake_.cancel();
}

void Connection::closeAfterReply() {
  bool reply_ready = false;
  {
    std::lock_guard lock(reply_mu_);
    reply_ready = reply_state_ == ReplyState::Ready;
  }
  if (writing_ || reply_ready) {
    close_after_reply_ = true;
    return;
  }
  close();
}

void Connection::armTimer() {
  int seconds = state_->options.idle_timeout_seconds;
  if (seconds > 0) {
    stream_.expires_after(std::chrono::seconds(seconds));
  } else {
    stream_.expires_never();
  }
}

Awaitable<Next> Connection::serveOne() {
  ErrorCode ec = co_await readRequest();
  if (closed_) {
    co_return Next::Close;
  }
  if (ec) {
    co_return co_await reject(ec);
  }
  co_return co_await dispatch();
}

Awaitable<ErrorCode> Connection::readRequest() {
  const HttpServerOptions& options = state_->options;
  parser_.emplace(options.body_limit, static_cast<uint32_t>(options.header_limit));

  // The header first, so that a declared oversized body is refused before it is sent.
  armTimer();
  auto [ec, n] = co_await http::async_read_header(stream_, buffer_, *parser_, kAwait);
  if (ec || parser_->is_done()) {
    co_return ec;
  }

  // Curl holds bodies over 1 KiB back for a second unless told to go on. If body bytes are
  // already here the client has stopped waiting, and an interim response would be noise.
  if (parser_->expectsContinue() && buffer_.size() == 0) {
    armTimer();
    auto [write_ec, written] = co_await asio::async_write(
        stream_, asio::buffer(kContinue.data(), kContinue.size()), kAwait);
    if (write_ec) {
      co_return write_ec;
    }
  }
  armTimer();
  auto [body_ec, body_n] = co_await http::async_read(stream_, buffer_, *parser_, kAwait);
  co_return body_ec;
}

Awaitable<Next> Connection::reject(const ErrorCode& ec) {
  int status = statusForReadError(ec);
  if (status == 0) {
    spdlog::debug("http connection ended remote={} reason={}", remote_, ec.message());
    co_return Next::Close;
  }

  // A client's bad input is its problem, not the operator's: debug level only.
  spdlog::debug("http request rejected remote={} status={} reason={}", remote_, status,
                ec.message());
  HttpResponse response = errorResponse(status);
  bool ok = co_await write(response, false, {false, parser_->version()});
  co_return ok ? Next::Linger : Next::Close;
}

Awaitable<Next> Connection::dispatch() {
  RequestParser& parser = *parser_;
  Framing framing{parser.keep_alive(), parser.version()};
  HttpRequest& request = parser.request();
  std::string method = request.method;  // short: no allocation
  bool head = method == "HEAD";
  target_.assign(request.target);
  request.remote_address = remote_;
  if (Upgrade upgrade = checkUpgrade(request); upgrade != Upgrade::No) {
    co_return co_await handOver(std::move(request), upgrade);
  }
  auto start = std::chrono::steady_clock::now();
  invokeHandler(std::move(request));

  std::optional<HttpResponse> reply = co_await awaitReply();
  if (!reply) {
    spdlog::debug("http response dropped remote={} target={} reason=closed", remote_, target_);
    co_return Next::Close;
  }
  checkReply(*reply, framing);
  bool ok = co_await write(*reply, head, framing);
  if (spdlog::should_log(spdlog::level::debug)) {
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    spdlog::debug("http request method={} target={} status={} ms={:.2f} bytes={} remote={}", method,
                  target_, reply->status, ms, reply->body.size(), remote_);
  }
  if (!ok || close_after_reply_) {
    co_return Next::Close;
  }
  co_return framing.keep_alive ? Next::Continue : Next::Linger;
}

Upgrade Connection::checkUpgrade(const HttpRequest& request) const {
  WebSocketHub* hub = state_->hub;
  if (hub == nullptr || !hasToken(request.header("Upgrade"), "websocket") ||
      !hub->serves(request.path)) {
    return Upgrade::No;
  }

  // Frames sent before the handshake is answered would be lost in the hand-over, and RFC 6455
  // forbids sending them; WebSocket needs HTTP/1.1.
  if (buffer_.size() != 0 || parser_->version() != 11 ||
      !isWebSocketKey(request.header("Sec-WebSocket-Key"))) {
    return Upgrade::Refuse;
  }
  return Upgrade::HandOver;
}

Awaitable<Next> Connection::handOver(HttpRequest&& request, Upgrade upgrade) {
  if (upgrade == Upgrade::Refuse) {
    spdlog::debug("http upgrade refused remote={} target={} buffered={}", remote_, target_,
                  buffer_.size());
    bool ok = co_await write(errorResponse(400), false, {false, parser_->version()});
    co_return ok ? Next::Linger : Next::Close;
  }

  // The hub takes the socket over as a bare descriptor; this connection just ends.
  ErrorCode ec;
  int fd = stream_.socket().release(ec);
  if (ec) {
    spdlog::debug("http upgrade failed remote={} reason={}", remote_, ec.message());
    co_return Next::Close;
  }
  spdlog::debug("http upgrade to websocket remote={} target={}", remote_, target_);
  state_->hub->adopt(fd, std::move(request));
  co_return Next::Close;
}

void Connection::checkReply(HttpResponse& reply, Framing& framing) {
  if (reply.status < 200 || reply.status > 599) {
    spdlog::error("http handler gave invalid status={} target={}", reply.status, target_);
    reply = errorResponse(500);
  }

  // A handler may end the connection, e.g. while the service drains.
  auto connection = reply.header("Connection");
  if (connection && iequals(trim(*connection), "close")) {
    framing.keep_alive = false;
  }
}

void Connection::invokeHandler(HttpRequest&& request) {
  {
    std::lock_guard lock(reply_mu_);
    reply_state_ = ReplyState::Handling;
  }
  auto slot = std::make_shared<ReplySlot>(weak_from_this(), state_);
  Responder responder = [slot](HttpResponse&& response) {
    if (!slot->fulfil(std::move(response))) {
      spdlog::error("http responder called more than once");
    }
  };

  // A throwing handler must not take the loop down; the client gets a plain 500.
  try {
    state_->handler(std::move(request), std::move(responder));
  } catch (const std::exception& e) {
    spdlog::error("http handler threw target={} what={}", target_, e.what());
    slot->fulfil(errorResponse(500));
  } catch (...) {
    spdlog::error("http handler threw target={} what=unknown", target_);
    slot->fulfil(errorResponse(500));
  }
}

void Connection::deliver(HttpResponse&& response) {
  bool waiting = false;
  {
    std::lock_guard lock(reply_mu_);
    reply_ = std::move(response);
    waiting = reply_state_ == ReplyState::Waiting;
    reply_state_ = ReplyState::Ready;
  }

  // A response given inside the handler needs no wake-up: the coroutine checks right after.
  if (waiting) {
    asio::post(executor_, [self = shared_from_this()] { self->wake_.cancel(); });
  }
}

std::optional<HttpResponse> Connection::takeReplyOrWait() {
  std::lock_guard lock(reply_mu_);
  if (reply_state_ == ReplyState::Ready) {
    reply_state_ = ReplyState::Idle;
    return std::move(reply_);
  }
  reply_state_ = ReplyState::Waiting;
  return std::nullopt;
}

Awaitable<std::optional<HttpResponse>> Connection::awaitReply() {
  std::optional<HttpResponse> reply = takeReplyOrWait();
  if (reply || closed_) {
    co_return reply;
  }

  // deliver() posts the wake-up to this strand, so it cannot run before the wait starts.
  wake_.expires_at(asio::steady_timer::time_point::max());
  co_await wake_.async_wait(kAwait);
  if (closed_) {
    co_return std::nullopt;
  }
  co_return takeReplyOrWait();
}

Awaitable<bool> Connection::write(const HttpResponse& response, bool head, Framing framing) {
  buildHead(head_, response, framing);
  bool with_body = !head && !isBodiless(response.status) && !response.body.empty();
  std::array<asio::const_buffer, 2> buffers{
      asio::buffer(head_), with_body ? asio::buffer(response.body) : asio::const_buffer()};

  // Head and body in one gather write: clients that read until a short silence need both.
  armTimer();
  writing_ = true;
  auto [ec, n] = co_await asio::async_write(stream_, buffers, kAwait);
  writing_ = false;
  if (ec) {
    spdlog::debug("http write failed remote={} reason={}", remote_, ec.message());
    co_return false;
  }
  co_return true;
}

Awaitable<void> Connection::lingerClose() {
  if (closed_) {
    co_return;
  }
  ErrorCode ec;
  stream_.socket().shutdown(Tcp::socket::shutdown_send, ec);
  stream_.expires_after(kLingerTime);
  size_t drained = 0;
  while (!ec && !closed_ && drained < kLingerBytes) {
    size_t n = 0;
    std::tie(ec, n) = co_await stream_.async_read_some(buffer_.prepare(4096), kAwait);
    drained += n;
  }
}

// ----------------------------------------------------------------------------------------------
// The server

// Logs what escaped a coroutine; nothing may leave an event-loop callback.
void logEscaped(const std::exception_ptr& error, std::string_view where) {
  if (!error) {
    return;
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("http {} failed what={}", where, e.what());
  } catch (...) {
    spdlog::error("http {} failed what=unknown", where);
  }
}

class ServerImpl final : public HttpServer {
 public:
  ServerImpl(const HttpServerOptions& options, HttpHandler handler);
  ~ServerImpl() override;
  ServerImpl(const ServerImpl&) = delete;
  ServerImpl& operator=(const ServerImpl&) = delete;
  ServerImpl(ServerImpl&&) = delete;
  ServerImpl& operator=(ServerImpl&&) = delete;

  // Binds, listens and queues the accept loop.
  Status listen();

  Status addWebSocketRoute(std::string path_prefix, WebSocketHandler handler) override;

  uint16_t port() const override { return port_; }

  void run() override;
  void stop() override;

 private:
  Awaitable<void> acceptLoop();
  Awaitable<void> watchStop();
  void startConnection(Tcp::socket&& socket);
  void shutDown();
  void runLoop();

  // Declared first so it is destroyed last: everything below uses its services.
  asio::io_context io_;
  std::shared_ptr<ServerState> state_;
  asio::strand<asio::io_context::executor_type> strand_;  // acceptor and stop watcher
  Tcp::acceptor acceptor_;
  asio::posix::stream_descriptor stop_event_;  // eventfd that stop() writes to
  int stop_fd_ = -1;
  uint16_t port_ = 0;
  std::unique_ptr<WebSocketHub> hub_;  // made by the first addWebSocketRoute
  std::atomic<bool> running_{false};
};

ServerImpl::ServerImpl(const HttpServerOptions& options, HttpHandler handler)
    : io_(std::max(options.threads, 1)),
      state_(std::make_shared<ServerState>()),
      strand_(asio::make_strand(io_)),
      acceptor_(strand_),
      stop_event_(strand_) {
  state_->options = options;
  state_->options.threads = std::max(options.threads, 1);
  state_->handler = std::move(handler);
}

ServerImpl::~ServerImpl() {
  // Responders that fire from now on must not post into a dying io_context.
  std::unique_lock lock(state_->life_mu);
  state_->alive = false;
}

Status ServerImpl::listen() {
  const HttpServerOptions& options = state_->options;
  ErrorCode ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    return Status::invalidArgument("http listen host=" + options.host + ": not an IP address");
  }
  Tcp::endpoint endpoint(address, options.port);
  std::string where = "http listen " + options.host + ":" + std::to_string(options.port);

  // Each step can fail on its own, e.g. bind with "address already in use".
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_.set_option(Tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return Status::ioError(where + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();

  // stop() only writes to an eventfd, which is safe from any thread and even a signal handler.
  stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    return Status::fromErrno("http eventfd", errno);
  }
  stop_event_.assign(stop_fd_);
  asio::co_spawn(strand_, acceptLoop(),
                 [](const std::exception_ptr& e) { logEscaped(e, "accept"); });
  asio::co_spawn(strand_, watchStop(), [](const std::exception_ptr& e) { logEscaped(e, "stop"); });
  return Status::ok();
}

Status ServerImpl::addWebSocketRoute(std::string path_prefix, WebSocketHandler handler) {
  if (running_) {
    return Status::internal("http server: websocket routes must be added before run()");
  }
  if (!hub_) {
    hub_ = std::make_unique<WebSocketHub>(state_->options.websocket);
  }
  Status status = hub_->addRoute(std::move(path_prefix), std::move(handler));
  state_->hub = hub_.get();
  return status;
}

void ServerImpl::run() {
  running_ = true;
  int threads = state_->options.threads;
  spdlog::info("http serving host={} port={} threads={}", state_->options.host, port_, threads);

  // WebSocket connections run on a loop of their own; shutDown() stops it too.
  std::thread hub_runner;
  if (hub_) {
    hub_runner = std::thread([this, threads] { hub_->run(threads); });
  }
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) {
    workers.emplace_back([this] { runLoop(); });
  }
  runLoop();
  for (std::thread& worker : workers) {
    worker.join();
  }
  if (hub_runner.joinable()) {
    hub_runner.join();
  }
  spdlog::info("http stopped port={}", port_);
}

void ServerImpl::runLoop() {
  // The loop ends when stop() has closed everything and no work is left.
  for (;;) {
    try {
      io_.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("http loop failed what={}", e.what());
    }
  }
}

void ServerImpl::stop() {
  uint64_t one = 1;
  // Only fails with EAGAIN when the counter is saturated, i.e. stop is long since requested.
  if (::write(stop_fd_, &one, sizeof(one)) < 0) {
    return;
  }
}

Awaitable<void> ServerImpl::watchStop() {
  uint64_t count = 0;
  auto [ec, n] = co_await stop_event_.async_read_some(asio::buffer(&count, sizeof(count)), kAwait);
  if (ec == asio::error::operation_aborted) {
    co_return;
  }
  shutDown();
}

void ServerImpl::shutDown() {
  spdlog::info("http stopping port={}", port_);
  ErrorCode ec;
  acceptor_.close(ec);
  if (hub_) {
    hub_->stop();
  }

  // Each connection closes on its own strand; one blocked in a handler wakes and exits.
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    for (auto& [raw, weak] : state_->connections) {
      if (auto connection = weak.lock()) {
        open.push_back(std::move(connection));
      }
    }
  }
  // Responses already given still go out (a service that answers its waiting requests before
  // it stops is heard); the idle timeout bounds a client that does not read them.
  for (auto& connection : open) {
    asio::post(connection->executor(), [connection] { connection->closeAfterReply(); });
  }
}

Awaitable<void> ServerImpl::acceptLoop() {
  asio::steady_timer backoff(strand_);
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), kAwait);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
      co_return;
    }

    // Out of descriptors or memory: wait a little instead of spinning on the error.
    if (ec) {
      spdlog::warn("http accept failed reason={}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(kAwait);
      continue;
    }
    startConnection(std::move(socket));
  }
}

void ServerImpl::startConnection(Tcp::socket&& socket) {
  auto connection = std::make_shared<Connection>(std::move(socket), state_);
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopping) {
      return;
    }
    state_->connections.emplace(connection.get(), connection);
  }
  asio::co_spawn(connection->executor(), Connection::serve(connection),
                 [state = state_, connection](const std::exception_ptr& e) {
                   logEscaped(e, "connection");
                   std::lock_guard lock(state->mu);
                   state->connections.erase(connection.get());
                 });
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::create(const HttpServerOptions& options,
                                                       HttpHandler handler) {
  if (!handler) {
    return Status::invalidArgument("http server: no handler");
  }
  auto server = std::make_unique<ServerImpl>(options, std::move(handler));
  Status status = server->listen();
  if (!status.isOk()) {
    return status;
  }
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace cex

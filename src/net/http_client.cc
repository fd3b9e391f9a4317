#include "net/http_client.h"

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "net/url.h"

namespace cex {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using Tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;
using Request = http::request<http::string_body>;
template <typename T>
using Awaitable = asio::awaitable<T>;

// Every asynchronous step reports its error as a value; nothing is thrown on network errors.
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// A connection kept open for the next request to the same host.
struct IdleStream {
  std::unique_ptr<beast::tcp_stream> stream;
  Clock::time_point since;
};

// What one request over one connection gave.
struct Exchange {
  Result<HttpClientResponse> result = Status::internal("http exchange not run");
  bool reusable = false;    // the connection may carry another request
  bool unanswered = false;  // failed before a single byte of the answer arrived
};

// Methods that may be sent twice: a retry after a dropped idle connection is safe for them.
bool isIdempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}

// A name or value that would break the request head, or smuggle a header of its own.
bool isWellFormed(const HttpHeader& header) {
  constexpr std::string_view kBreaks("\r\n\0", 3);
  return !header.name.empty() && header.name.find_first_of(" :\t") == std::string::npos &&
         header.name.find_first_of(kBreaks) == std::string::npos &&
         header.value.find_first_of(kBreaks) == std::string::npos;
}

Result<Request> buildRequest(const Url& url, HttpClientRequest&& request) {
  Request out;
  if (request.method.empty() || request.method.find_first_of(" \r\n") != std::string::npos) {
    return Status::invalidArgument("http request: bad method \"" + request.method + "\"");
  }
  out.method_string(request.method);
  out.target(url.target);
  out.version(11);
  bool has_host = false;
  for (const HttpHeader& header : request.headers) {
    if (!isWellFormed(header)) {
      return Status::invalidArgument("http request: bad header \"" + header.name + "\"");
    }
    if (iequals(header.name, "Content-Length") || iequals(header.name, "Transfer-Encoding")) {
      continue;
    }
    has_host = has_host || iequals(header.name, "Host");
    out.insert(header.name, header.value);
  }
  if (!has_host) {
    out.set(http::field::host, url.hostHeader());
  }
  out.body() = std::move(request.body);
  out.prepare_payload();
  return out;
}

// A request checked and serialisable, with what sending and retrying it need to know.
struct Prepared {
  Url url;
  std::string key;  // of its host in the pool of idle connections
  Request message;
  bool head = false;
  bool idempotent = false;
  Deadline deadline;
};

Result<Prepared> prepare(HttpClientRequest&& request) {
  Result<Url> url = parseUrl(request.url);
  if (!url.ok()) {
    return url.status();
  }
  if (url->scheme != "http") {
    return Status::invalidArgument("http request url " + request.url + ": not http://");
  }
  Prepared out;
  out.deadline = Clock::now() + request.timeout;
  out.head = request.method == "HEAD";
  out.idempotent = isIdempotent(request.method);
  out.key = url->host + ":" + std::to_string(url->port);
  Result<Request> message = buildRequest(*url, std::move(request));
  if (!message.ok()) {
    return message.status();
  }
  out.message = std::move(message).value();
  out.url = std::move(url).value();
  return out;
}

HttpClientResponse toResponse(http::response<http::string_body>&& message) {
  HttpClientResponse out;
  out.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  out.body = std::move(message.body());
  return out;
}

// Whether an idle kept-alive connection still looks usable: the server has neither closed it
// nor sent anything unasked.
bool looksOpen(beast::tcp_stream& stream) {
  char byte;
  ssize_t n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// Logs what escaped a coroutine; nothing may leave an event-loop callback.
void logEscaped(const std::exception_ptr& error) {
  if (!error) {
    return;
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("http client request failed what={}", e.what());
  } catch (...) {
    spdlog::error("http client request failed what=unknown");
  }
}

class ClientImpl final : public HttpClient {
 public:
  explicit ClientImpl(const HttpClientOptions& options);
  ~ClientImpl() override;
  ClientImpl(const ClientImpl&) = delete;
  ClientImpl& operator=(const ClientImpl&) = delete;
  ClientImpl(ClientImpl&&) = delete;
  ClientImpl& operator=(ClientImpl&&) = delete;

  void request(HttpClientRequest request, HttpClientCallback callback) override;
  Result<HttpClientResponse> fetch(HttpClientRequest request) override;
  void stop() override;

 private:
  Awaitable<void> perform(HttpClientRequest request, HttpClientCallback callback);
  Awaitable<Result<HttpClientResponse>> send(HttpClientRequest request);
  Awaitable<Result<std::unique_ptr<beast::tcp_stream>>> connect(const Url& url, Deadline deadline);
  Awaitable<Exchange> exchange(beast::tcp_stream& stream, const Request& message, bool head,
                               Deadline deadline, const Url& url);
  Awaitable<Exchange> receive(beast::tcp_stream& stream, bool head, Deadline deadline,
                              const Url& url);
  std::unique_ptr<beast::tcp_stream> takeIdle(const std::string& key);
  void keepIdle(const std::string& key, std::unique_ptr<beast::tcp_stream> stream);
  Status failure(const ErrorCode& ec, std::string_view step, const Url& url) const;
  void halt();
  void runLoop();

  // Declared first so it is destroyed last: everything below uses its services.
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  const HttpClientOptions options_;
  std::unordered_map<std::string, std::vector<IdleStream>> idle_;  // loop thread only
  std::unordered_set<beast::tcp_stream*> active_;  // loop thread only; closed by halt()
  std::unordered_set<Tcp::resolver*> resolving_;   // loop thread only; cancelled by halt()

  std::mutex mu_;  // orders request() against stop(): nothing is posted once stopping_ is set
  std::atomic<bool> stopping_{false};
  std::mutex thread_mu_;
  std::thread thread_;  // guarded by thread_mu_
  std::thread::id loop_id_;
};

ClientImpl::ClientImpl(const HttpClientOptions& options) : options_(options) {
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { runLoop(); });
  loop_id_ = thread_.get_id();
}

ClientImpl::~ClientImpl() {
  stop();
}

void ClientImpl::runLoop() {
  for (;;) {
    try {
      io_.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("http client loop failed what={}", e.what());
    }
  }
}

void ClientImpl::request(HttpClientRequest request, HttpClientCallback callback) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      asio::post(
          io_, [this, request = std::move(request), callback = std::move(callback)]() mutable {
            asio::co_spawn(io_, perform(std::move(request), std::move(callback)), logEscaped);
          });
      return;
    }
  }
  callback(Status::unavailable("http client stopped"));
}

Result<HttpClientResponse> ClientImpl::fetch(HttpClientRequest request) {
  if (std::this_thread::get_id() == loop_id_) {
    return Status::internal("http client: fetch on the client's own thread would never return");
  }
  std::promise<Result<HttpClientResponse>> promise;
  std::future<Result<HttpClientResponse>> future = promise.get_future();
  this->request(std::move(request), [&promise](Result<HttpClientResponse>&& result) {
    promise.set_value(std::move(result));
  });
  return future.get();
}

void ClientImpl::stop() {
  {
    std::lock_guard lock(mu_);
    if (!stopping_.exchange(true)) {
      asio::post(io_, [this] { halt(); });
    }
  }

  // From a callback the loop cannot be joined; it ends by itself once the requests have.
  std::lock_guard lock(thread_mu_);
  if (thread_.joinable() && std::this_thread::get_id() != loop_id_) {
    thread_.join();
  }
}

void ClientImpl::halt() {
  for (Tcp::resolver* resolver : resolving_) {
    resolver->cancel();
  }
  for (beast::tcp_stream* stream : active_) {
    stream->close();
  }
  idle_.clear();
  work_.reset();
}

Awaitable<void> ClientImpl::perform(HttpClientRequest request, HttpClientCallback callback) {
  Result<HttpClientResponse> result = co_await send(std::move(request));
  try {
    callback(std::move(result));
  } catch (const std::exception& e) {
    spdlog::error("http client callback threw what={}", e.what());
  } catch (...) {
    spdlog::error("http client callback threw what=unknown");
  }
}

Awaitable<Result<HttpClientResponse>> ClientImpl::send(HttpClientRequest request) {
  if (stopping_) {
    co_return Status::unavailable("http client stopped");
  }
  Result<Prepared> prepared = prepare(std::move(request));
  if (!prepared.ok()) {
    co_return prepared.status();
  }
  const Url& url = prepared->url;
  const std::string& key = prepared->key;

  for (bool retried = false;; retried = true) {
    std::unique_ptr<beast::tcp_stream> stream = takeIdle(key);
    bool reused = stream != nullptr;
    if (!reused) {
      auto connected = co_await connect(url, prepared->deadline);
      if (!connected.ok()) {
        co_return connected.status();
      }
      stream = std::move(connected).value();
    }
    Exchange outcome =
        co_await exchange(*stream, prepared->message, prepared->head, prepared->deadline, url);
    if (outcome.result.ok() && outcome.reusable && !stopping_) {
      keepIdle(key, std::move(stream));
    }

    // The server may close an idle connection just as it is reused; the request never arrived.
    if (!outcome.result.ok() && reused && outcome.unanswered && prepared->idempotent && !retried &&
        !stopping_) {
      spdlog::debug("http client retrying on a new connection host={} reason=\"{}\"", key,
                    outcome.result.status().message());
      continue;
    }
    co_return std::move(outcome.result);
  }
}

Awaitable<Result<std::unique_ptr<beast::tcp_stream>>> ClientImpl::connect(const Url& url,
                                                                          Deadline deadline) {
  // The resolver has no timeout of its own; a timer cancels it at the deadline.
  auto resolver = std::make_shared<Tcp::resolver>(io_);
  asio::steady_timer timer(io_, deadline);
  timer.async_wait([resolver](const ErrorCode& ec) {
    if (!ec) {
      resolver->cancel();
    }
  });
  resolving_.insert(resolver.get());
  auto [resolve_ec, endpoints] =
      co_await resolver->async_resolve(url.host, std::to_string(url.port), kAwait);
  resolving_.erase(resolver.get());
  timer.cancel();
  if (resolve_ec) {
    if (Clock::now() >= deadline) {
      co_return Status::timeout("http resolve " + url.host + ": timed out");
    }
    co_return failure(resolve_ec, "resolve", url);
  }

  auto stream = std::make_unique<beast::tcp_stream>(io_);
  active_.insert(stream.get());
  stream->expires_at(deadline);
  auto [connect_ec, endpoint] = co_await stream->async_connect(endpoints, kAwait);
  active_.erase(stream.get());
  if (connect_ec) {
    co_return failure(connect_ec, "connect", url);
  }
  ErrorCode ec;
  stream->socket().set_option(Tcp::no_delay(true), ec);
  co_return std::move(stream);
}

Awaitable<Exchange> ClientImpl::exchange(beast::tcp_stream& stream, const Request& message,
                                         bool head, Deadline deadline, const Url& url) {
  active_.insert(&stream);
  stream.expires_at(deadline);
  auto [ec, n] = co_await http::async_write(stream, message, kAwait);
  Exchange out;
  if (ec) {
    out.result = failure(ec, "send", url);
    out.unanswered = true;
  } else {
    out = co_await receive(stream, head, deadline, url);
    out.reusable = out.reusable && message.keep_alive();
  }
  active_.erase(&stream);
  co_return out;
}

Awaitable<Exchange> ClientImpl::receive(beast::tcp_stream& stream, bool head, Deadline deadline,
                                        const Url& url) {
  beast::flat_buffer buffer;
  Exchange out;
  for (;;) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.body_limit);
    parser.header_limit(static_cast<uint32_t>(options_.header_limit));
    parser.skip(head);
    stream.expires_at(deadline);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kAwait);
    if (ec) {
      out.result = failure(ec, "receive", url);
      out.unanswered = !parser.got_some() && buffer.size() == 0;
      co_return out;
    }

    // Interim answers (100 Continue, 103 Early Hints) precede the real one.
    unsigned status = parser.get().result_int();
    if (status >= 100 && status < 200 && status != 101) {
      continue;
    }
    out.reusable = parser.keep_alive() && !parser.need_eof() && buffer.size() == 0;
    out.result = toResponse(parser.release());
    co_return out;
  }
}

Status ClientImpl::failure(const ErrorCode& ec, std::string_view step, const Url& url) const {
  std::string where = "http " + std::string(step) + " " + url.hostHeader();
  if (stopping_) {
    return Status::unavailable(where + ": http client stopped");
  }
  if (ec == beast::error::timeout) {
    return Status::timeout(where + ": timed out");
  }
  if (ec == http::error::body_limit || ec == http::error::header_limit ||
      ec == http::error::buffer_overflow) {
    return Status::resourceExhausted(where + ": response over the limit");
  }
  if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
      ec.category() == http::make_error_code(http::error::bad_method).category()) {
    return Status::ioError(where + ": malformed response: " + ec.message());
  }
  return Status::unavailable(where + ": " + ec.message());
}

std::unique_ptr<beast::tcp_stream> ClientImpl::takeIdle(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) {
    return nullptr;
  }

  // The newest first: it is the least likely to have been closed by the server meanwhile.
  std::vector<IdleStream>& idle = it->second;
  std::unique_ptr<beast::tcp_stream> found;
  while (!found && !idle.empty()) {
    IdleStream entry = std::move(idle.back());
    idle.pop_back();
    if (Clock::now() - entry.since < options_.idle_timeout && looksOpen(*entry.stream)) {
      found = std::move(entry.stream);
    }
  }
  if (idle.empty()) {
    idle_.erase(it);
  }
  return found;
}

void ClientImpl::keepIdle(const std::string& key, std::unique_ptr<beast::tcp_stream> stream) {
  std::vector<IdleStream>& idle = idle_[key];
  if (idle.size() >= options_.max_idle_per_host) {
    if (options_.max_idle_per_host == 0) {
      return;
    }
    idle.erase(idle.begin());
  }
  idle.push_back({std::move(stream), Clock::now()});
}

}  // namespace

std::unique_ptr<HttpClient> HttpClient::create(const HttpClientOptions& options) {
  return std::make_unique<ClientImpl>(options);
}

}  // namespace cex

#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "net/http_types.h"

namespace cex {

struct HttpClientRequest {
  std::string method = "GET";
  // http://host[:port]/path?query; https:// is refused until cex speaks TLS.
  std::string url;
  // Sent as given, hop-by-hop ones included: forwarding proxies decide what to pass on. Host is
  // added when missing; Content-Length and Transfer-Encoding always come from `body`.
  std::vector<HttpHeader> headers;
  std::string body;
  // For the whole exchange: resolving, connecting, sending and receiving.
  std::chrono::milliseconds timeout{60'000};
};

// A response as the server sent it; the body is complete (never chunked).
using HttpClientResponse = HttpResponse;

// Receives the outcome of one request: Timeout, Unavailable (refused, reset, client stopped),
// InvalidArgument (bad URL), ResourceExhausted (response over the limits) or IoError (a
// malformed response).
using HttpClientCallback = std::function<void(Result<HttpClientResponse>&& result)>;

struct HttpClientOptions {
  // Connections kept open per host:port for later requests.
  size_t max_idle_per_host = 8;
  // An idle connection older than this is closed instead of reused.
  std::chrono::milliseconds idle_timeout{30'000};
  // Responses with a larger body, or larger headers, fail with ResourceExhausted.
  size_t body_limit = size_t{256} * 1024 * 1024;
  size_t header_limit = size_t{64} * 1024;
};

// An HTTP/1.1 client for plain http:// on a thread of its own, so owners never see the network
// library. Connections are kept alive and reused per host; a request that fails on a reused
// connection before any answer arrived is retried once on a new one if its method is
// idempotent (the server may have closed the idle connection just then).
class HttpClient {
 public:
  // Stops the client. Must not run on the client's own thread (inside a callback).
  virtual ~HttpClient() = default;

  static std::unique_ptr<HttpClient> create(const HttpClientOptions& options = {});

  // Sends `request`; `callback` runs exactly once, on the client's thread (or at once on the
  // caller's thread after stop()), and must not block for long. Any thread.
  virtual void request(HttpClientRequest request, HttpClientCallback callback) = 0;

  // Sends `request` and waits for the outcome, for command-line tools. Not from a callback.
  virtual Result<HttpClientResponse> fetch(HttpClientRequest request) = 0;

  // Fails every pending request with Unavailable, closes all connections and ends the thread.
  // Any thread; from any other than the client's own it returns once the last callback has run.
  virtual void stop() = 0;
};

}  // namespace cex

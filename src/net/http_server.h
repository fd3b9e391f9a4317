#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "net/http_types.h"
#include "net/websocket.h"

namespace cex {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 10240;  // 0 picks a free port
  // Bodies above this get 413 without reaching the handler.
  size_t body_limit = size_t{16} * 1024 * 1024;
  // Request line plus headers above this get 431. Generous because /clientstate/<base64>
  // links carry a whole session in the path.
  size_t header_limit = size_t{64} * 1024;
  // Threads that run the network loop.
  int threads = 2;
  // A connection idle this long between requests is closed.
  int idle_timeout_seconds = 60;
  // Limits of the connections upgraded on a WebSocket route; they run on as many threads again.
  WebSocketOptions websocket;
};

// An HTTP/1.1 server: keep-alive, chunked or sized request bodies, responses written in
// one burst with Content-Length and a reason phrase. Malformed requests get 400, oversized
// bodies 413; neither reaches the handler. A request to upgrade to WebSocket on a registered
// route becomes a WebSocket connection; everything else stays plain HTTP.
class HttpServer {
 public:
  virtual ~HttpServer() = default;

  // Binds and listens; the handler runs once run() is called.
  static Result<std::unique_ptr<HttpServer>> create(const HttpServerOptions& options,
                                                    HttpHandler handler);

  // Serves WebSocket upgrade requests (GET, HTTP/1.1, "Upgrade: websocket") on `path_prefix`
  // with `handler`: "/a" covers "/a" and "/a/b" but not "/ab", and the longest prefix wins.
  // Other requests on the same paths still reach the HTTP handler. Call before run().
  virtual Status addWebSocketRoute(std::string path_prefix, WebSocketHandler handler) = 0;

  // The bound port (useful when options.port was 0).
  virtual uint16_t port() const = 0;
  // Serves until stop(); runs the loop on options.threads threads including the caller.
  // Call it once; destroy the server only after it has returned (or if it never ran).
  virtual void run() = 0;
  // Stops accepting, closes every connection and makes run() return; responses already
  // given to a Responder are still written, those still pending are dropped, WebSocket peers
  // get a close frame (1001) and a second to answer it.
  // Safe from any thread, before or during run(), and async-signal-safe.
  virtual void stop() = 0;
};

}  // namespace cex

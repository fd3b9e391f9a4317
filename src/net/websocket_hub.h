#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/http_types.h"
#include "net/websocket.h"

namespace cex {

// The WebSocket side of HttpServer, internal to net/. The server hands it a connection whose
// request asked to upgrade on a registered path; from then on the hub owns that socket and runs
// it on a network loop of its own. Connections cross over as bare descriptors, which keeps
// Beast's WebSocket code out of the HTTP server's translation unit.
class WebSocketHub {
 public:
  explicit WebSocketHub(const WebSocketOptions& options);
  // Refuses further use by connection handles; call only after run() has returned.
  ~WebSocketHub();
  WebSocketHub(const WebSocketHub&) = delete;
  WebSocketHub& operator=(const WebSocketHub&) = delete;
  WebSocketHub(WebSocketHub&&) = delete;
  WebSocketHub& operator=(WebSocketHub&&) = delete;

  // Serves upgrades on `prefix` (a path starting with '/'; "/a" covers "/a" and "/a/b" but not
  // "/ab"); the longest matching prefix wins. Any thread.
  Status addRoute(std::string prefix, WebSocketHandler handler);

  // Whether an upgrade request for `path` belongs here. Any thread.
  bool serves(std::string_view path) const;

  // Takes ownership of the connected socket `fd`, on which `request` (an upgrade request for a
  // served path) was read with nothing after it, and answers the handshake. After stop() the
  // descriptor is just closed. Any thread.
  void adopt(int fd, HttpRequest&& request);

  // Runs the loop on `threads` threads including the caller until stop() has been called and
  // every connection has ended.
  void run(int threads);

  // Closes every connection (1001, going away), refuses new ones and lets run() return once
  // they are gone; a peer that does not answer the close is cut off after a second. Any thread;
  // before, during or after run().
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cex

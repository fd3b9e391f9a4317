#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace cex {

// Limits and timers of one WebSocket connection, on the server and in WebSocketClient alike.
struct WebSocketOptions {
  // A message (all its fragments together) above this closes the connection with 1009.
  // Generous because compilation results travel whole.
  size_t max_message_bytes = size_t{64} * 1024 * 1024;
  // Outgoing bytes queued but not yet written. A peer that stops reading makes this grow; past
  // the limit its connection is dropped so that it cannot hold the process's memory.
  size_t max_queued_bytes = size_t{64} * 1024 * 1024;
  // With nothing received for half of this a ping goes out; with nothing for all of it the
  // peer is taken for dead and the connection is dropped.
  std::chrono::milliseconds idle_timeout{60'000};
  // Limit on the opening handshake and on the closing one.
  std::chrono::milliseconds handshake_timeout{10'000};
};

// One open WebSocket connection as a server-side handler sees it. Every method is safe from any
// thread, at any time: after the connection has ended, and even after the server is gone,
// sends are refused and close() does nothing.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;

  // Queues a text (or binary) message and returns at once; false when the connection is closing
  // or gone, or when this message took the queue over WebSocketOptions::max_queued_bytes (the
  // connection is then dropped). True means queued, not delivered.
  virtual bool send(std::string text) = 0;
  virtual bool sendBinary(std::string data) = 0;

  // Sends what is queued, then a close frame; the handler's on_close follows once the peer
  // has answered or the handshake timeout has passed.
  virtual void close() = 0;

  // Unique within the server's lifetime; never 0.
  virtual uint64_t id() const = 0;

  virtual const std::string& remoteAddress() const = 0;

  // Of the upgrade request: the path still percent-encoded, the query without '?'.
  virtual const std::string& path() const = 0;

  virtual const std::string& query() const = 0;
};

using WebSocketConnectionPtr = std::shared_ptr<WebSocketConnection>;

// What a server does with the WebSocket connections on one path prefix. The callbacks of one
// connection run one at a time on a network thread, in order: on_open, every on_message, then
// on_close exactly once. They must not block for long. An exception thrown by one is logged and
// closes that connection (1011). The pointer stays the same for the connection's whole life,
// so owners may keep it in their own maps until on_close.
struct WebSocketHandler {
  std::function<void(const WebSocketConnectionPtr& connection)> on_open;
  // `binary` tells a binary message from a text one; text is valid UTF-8.
  std::function<void(const WebSocketConnectionPtr& connection, std::string&& message, bool binary)>
      on_message;
  std::function<void(const WebSocketConnectionPtr& connection)> on_close;
};

}  // namespace cex

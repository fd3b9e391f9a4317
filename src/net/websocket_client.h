#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "net/http_types.h"
#include "net/websocket.h"

namespace cex {

struct WebSocketClientOptions {
  // ws://host[:port]/path; wss:// is refused until cex speaks TLS.
  std::string url;
  // Waits between connection attempts double from min to max; each is drawn at random from
  // its upper half so that many clients of a restarted server do not return in step.
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  // Limit on resolving and connecting; the upgrade itself has websocket.handshake_timeout.
  std::chrono::milliseconds connect_timeout{10'000};
  WebSocketOptions websocket;
  // Sent with every upgrade request, e.g. User-Agent.
  std::vector<HttpHeader> headers;
};

// What the owner of a WebSocketClient hears. Callbacks run one at a time on the client's own
// thread and must not block for long; an exception thrown by one is logged and drops the
// connection (the client then reconnects).
struct WebSocketClientHandler {
  // Connected, after the first start() and after every reconnect: subscribe here.
  std::function<void()> on_open;
  std::function<void(std::string&& message, bool binary)> on_message;
  // The connection that on_open announced has ended, for the reason given; follows every
  // on_open exactly once, including when stop() ends the connection.
  std::function<void(const Status& why)> on_close;
  // An attempt to connect failed; the next one follows after `retry_in`.
  std::function<void(const Status& why, std::chrono::milliseconds retry_in)> on_connect_failed;
};

// A WebSocket connection to one URL that stays up for as long as its owner runs: every lost or
// refused connection is retried, forever, with jittered exponential back-off. Runs on a thread
// of its own, so owners never see the network library. Keep-alive pings are sent and answered
// by the client itself.
class WebSocketClient {
 public:
  // Stops the client. Must not run on the client's own thread (inside a callback).
  virtual ~WebSocketClient() = default;

  // Checks the URL; nothing connects before start().
  static Result<std::unique_ptr<WebSocketClient>> create(WebSocketClientOptions options,
                                                         WebSocketClientHandler handler);

  // Starts the thread and the first connection attempt. Call once.
  virtual void start() = 0;

  // Queues a text (or binary) message on the current connection and returns at once. False
  // when there is no open connection (messages are not kept for the next one) or when the
  // queue went over WebSocketOptions::max_queued_bytes (the connection is then dropped and
  // retried). True means queued, not delivered. Any thread.
  virtual bool send(std::string text) = 0;
  virtual bool sendBinary(std::string data) = 0;

  // Whether a connection is open now. Any thread.
  virtual bool connected() const = 0;

  // Closes the connection (1001) and stops reconnecting. Any thread; from any other thread
  // than the client's own it returns only once the last callback has run, and none follow.
  virtual void stop() = 0;
};

}  // namespace cex

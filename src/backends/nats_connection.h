#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <nats/nats.h>

#include "backends/backends.h"
#include "base/status.h"

namespace cex {

// A NATS error as a cex Status: "nats: <operation> <name>: <text>", with the text of the
// client's last error where it has one. Connection trouble maps to Unavailable, a timeout to
// Timeout, a missing stream, consumer or key to NotFound.
Status natsError(natsStatus status, std::string_view operation, std::string_view name,
                 jsErrCode js_error = static_cast<jsErrCode>(0));

// `name` as one NATS subject token and stream-name part: letters, digits and '-' stay, any
// other byte becomes '_' and two hex digits, so distinct names stay distinct
// ("prod-blue" -> "prod-blue", "beta.green" -> "beta_2Egreen").
std::string natsToken(std::string_view name);

// One connection to a NATS server with its JetStream context, shared by the four NATS
// services. It reconnects forever (with a jittered wait); while it is down, operations fail
// fast with Unavailable instead of waiting for their timeouts. Thread-safe.
class NatsConnection {
 public:
  // Connects to options.url. A server that cannot be reached yet is not an error: the
  // connection keeps trying in the background and is unhealthy until it gets through.
  static Result<std::shared_ptr<NatsConnection>> connect(const NatsOptions& options);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  // Valid while this object lives.
  natsConnection* raw() const { return nc_; }

  jsCtx* js() const { return js_; }

  const NatsOptions& options() const { return options_; }

  bool connected() const;

  // OK when connected, else Unavailable naming `operation` and `name`.
  Status checkConnected(std::string_view operation, std::string_view name) const;

  // Waits up to `timeout` for the connection to be up; true if it is.
  bool waitConnected(std::chrono::milliseconds timeout) const;

  // Counts the connections made so far (1 after the first, 2 after a reconnect, ...), so that
  // server-side state can be re-checked after a reconnect (the server may have restarted).
  uint64_t session() const;

  // The connection's state, shared with the client library's callbacks.
  struct Events;

 private:
  NatsConnection(NatsOptions options, std::unique_ptr<Events> events);

  NatsOptions options_;
  std::unique_ptr<Events> events_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace cex

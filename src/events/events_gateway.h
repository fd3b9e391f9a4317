#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "backends/pub_sub.h"
#include "base/status.h"
#include "events/events_hub.h"

namespace cex {

struct EventsGatewayOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 10242;  // 0 picks a free port
  // NATS server whose pub/sub this gateway shares with the others ("nats://host:port"); empty
  // when it stands alone.
  std::string nats_url;
  // How long a result waits for its subscriber or its ack.
  int hold_seconds = 60;
  EventsLimits limits;
  // A frame larger than this closes its connection (1009). Results above kInlineResultLimit
  // should travel by reference (result_reference.h); this only bounds what one peer can send.
  size_t max_message_bytes = size_t{64} * 1024 * 1024;
  // Bytes queued for a peer that does not read; past this it is disconnected.
  size_t max_queued_bytes = size_t{64} * 1024 * 1024;
  // Network threads.
  int threads = 2;
  // Names this gateway on the shared pub/sub and in its peers' names; empty: random.
  std::string gateway_id;
};

// A `cex events` gateway: an EventsHub behind an HTTP server. WebSocket upgrades on any path
// ("/", "/prod", "/beta", ... all share one namespace) become peers of the hub; GET /healthcheck
// answers 200 with the hub's counters as JSON, or 503 while a configured pub/sub link is down.
// There is no authentication, as in Compiler Explorer: bind it where only routers and workers
// can reach it.
// TODO(events): connections are not capped per gateway or per address, so one host can still
// open many, each holding EventsLimits::max_subscriptions_per_peer subscriptions.
class EventsGateway {
 public:
  // Binds and listens; serving starts with run(). `pubsub` (may be null) links this gateway to
  // others; `pubsub_healthy` says whether that link is up now.
  static Result<std::unique_ptr<EventsGateway>> create(const EventsGatewayOptions& options,
                                                       std::shared_ptr<PubSub> pubsub,
                                                       std::function<bool()> pubsub_healthy);

  ~EventsGateway();
  EventsGateway(const EventsGateway&) = delete;
  EventsGateway& operator=(const EventsGateway&) = delete;
  EventsGateway(EventsGateway&&) = delete;
  EventsGateway& operator=(EventsGateway&&) = delete;

  // The bound port (useful when options.port was 0).
  uint16_t port() const;

  EventsHub& hub();

  // Serves until stop(). Call once; destroy the gateway only after it has returned.
  void run();

  // Makes run() return: every connection gets a close frame. Any thread; async-signal-safe.
  void stop();

  struct State;

 private:
  explicit EventsGateway(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

// The `cex events` role: serves a gateway on options.host:options.port until SIGTERM or SIGINT,
// joined to the other gateways through NATS when options.nats_url is set. Returns the process's
// exit status: 0 after a clean stop, 1 when it could not start.
int runEventsGateway(const EventsGatewayOptions& options);

}  // namespace cex

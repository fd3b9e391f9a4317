#include <optional>

#include <spdlog/spdlog.h>

#include "backends/backends.h"
#include "base/stop_signals.h"
#include "events/events_gateway.h"

namespace cex {

int runEventsGateway(const EventsGatewayOptions& options) {
  // Before any thread starts: threads inherit the mask, and a stop signal delivered to a
  // thread that does not block it would end the process on the spot.
  blockStopSignals();

  std::optional<Backends> backends;
  if (!options.nats_url.empty()) {
    NatsOptions nats;
    nats.url = options.nats_url;
    nats.client_name = "cex-events";
    auto made = makeNatsBackends(nats);
    if (!made.ok()) {
      spdlog::critical("events start failed nats={} error=\"{}\"", options.nats_url,
                       made.status().message());
      return 1;
    }
    backends = std::move(made).value();
  }
  auto gateway = EventsGateway::create(options, backends ? backends->pubsub : nullptr,
                                       backends ? backends->healthy : nullptr);
  if (!gateway.ok()) {
    spdlog::critical("events listen failed host={} port={} error=\"{}\"", options.host,
                     options.port, gateway.status().message());
    return 1;
  }

  StopWatch stop_watch("events", [gateway = gateway->get()] { gateway->stop(); });
  spdlog::info("events listening url=ws://{}:{}/ gateway={} nats={} hold_s={} max_held={}",
               options.host, (*gateway)->port(), (*gateway)->hub().gatewayId(),
               options.nats_url.empty() ? "none" : options.nats_url, options.hold_seconds,
               options.limits.max_held_results);
  (*gateway)->run();
  spdlog::info("events stopped");
  return 0;
}

}  // namespace cex

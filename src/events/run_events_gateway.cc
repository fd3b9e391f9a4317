#include <pthread.h>
#include <signal.h>

#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "backends/backends.h"
#include "events/events_gateway.h"

namespace cex {

namespace {

sigset_t stopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Waits for SIGINT or SIGTERM on a thread of its own and stops the gateway. The signals are
// blocked in every thread, so only sigwait sees them.
std::thread startSignalWatcher(EventsGateway* gateway) {
  sigset_t set = stopSignals();
  return std::thread([set, gateway] {
    int sig = 0;
    sigwait(&set, &sig);
    spdlog::info("events stopping signal={}", sig);
    gateway->stop();
  });
}

}  // namespace

int runEventsGateway(const EventsGatewayOptions& options) {
  ::signal(SIGPIPE, SIG_IGN);
  // Blocked before any thread starts: threads inherit the mask, and a stop signal delivered to
  // a thread that does not block it would end the process on the spot.
  sigset_t stop = stopSignals();
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

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

  std::thread watcher = startSignalWatcher(gateway->get());
  spdlog::info("events listening url=ws://{}:{}/ gateway={} nats={} hold_s={} max_held={}",
               options.host, (*gateway)->port(), (*gateway)->hub().gatewayId(),
               options.nats_url.empty() ? "none" : options.nats_url, options.hold_seconds,
               options.limits.max_held_results);
  (*gateway)->run();
  // run() also returns when the server stops on its own; wake the watcher in that case.
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  spdlog::info("events stopped");
  return 0;
}

}  // namespace cex

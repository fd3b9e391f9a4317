#include <spdlog/spdlog.h>

#include "api/api_handler.h"
#include "cmd/role_links.h"
#include "cmd/roles.h"
#include "events/events_client.h"
#include "net/http_server.h"
#include "router/shared_result_cache.h"
#include "worker/worker.h"

namespace cex {

int runWorkerCommand(const WorkerCommandOptions& o) {
  blockStopSignals();
  if (o.links.events_url.empty()) {
    spdlog::critical("worker start failed error=\"--events ws://host:port/<env> is required\"");
    return 1;
  }
  auto instance = buildInstance(o.instance);
  if (!instance.ok()) {
    spdlog::critical("worker start failed error=\"{}\"", instance.status().message());
    return 1;
  }
  Instance& inst = **instance;
  auto backends =
      connectBackends(o.links.nats_url, o.lease_seconds, "cex-worker-" + o.env + "-" + o.colour);
  if (!backends.ok()) {
    spdlog::critical("worker start failed error=\"{}\"", backends.status().message());
    return 1;
  }
  auto cache = makeKvResultCache(backends->kv, std::chrono::hours(1));
  WebSocketClientOptions ws;
  ws.url = o.links.events_url;
  auto events = EventsClient::createWebSocket(
      ws, [](const std::string&, std::string&&) {}, workerEventsOptions());
  if (!events.ok()) {
    spdlog::critical("worker start failed error=\"{}\"", events.status().message());
    return 1;
  }

  WorkerOptions options;
  options.env = o.env;
  options.colour = o.colour;
  options.lease_renewal = std::chrono::seconds(o.lease_seconds) / 4;
  options.consumers = o.consumers > 0 ? o.consumers : inst.service->settings().slots;
  Worker worker(options, backends->queue, backends->blobs, events->get(), inst.service.get(),
                cache.get());
  inst.api.path_prefix = o.env;  // other environments forward to /<env>/api/...
  ApiHandler api(inst.api, inst.service.get());
  // The instance is healthy only while it can take jobs and deliver their results.
  api.setHealthHook(
      [&worker, events = events->get(), healthy = backends->healthy](std::string* reason) {
        if (!events->connected()) {
          *reason = "events gateway not connected";
        } else if (!healthy()) {
          *reason = "queue backend not connected";
        } else if (!worker.consuming()) {
          *reason = "not consuming";
        }
        return reason->empty();
      });

  HttpServerOptions http;
  http.host = o.host;
  http.port = static_cast<uint16_t>(o.port);
  auto server = HttpServer::create(http, [&api](HttpRequest&& r, Responder respond) {
    api.handle(std::move(r), std::move(respond));
  });
  if (!server.ok()) {
    spdlog::critical("worker listen failed error=\"{}\"", server.status().message());
    return 1;
  }
  worker.start();
  StopWatch stop_watch("worker", [&worker, server = server->get(), drain = o.drain_seconds] {
    worker.stop(std::chrono::seconds(drain));
    server->stop();
  });
  spdlog::info("worker listening url=http://{}:{}/ env={} colour={} consumers={} compilers={}",
               o.host, (*server)->port(), o.env, o.colour, options.consumers,
               inst.discovery.registry.compilers().size());
  (*server)->run();
  worker.stop(std::chrono::milliseconds(0));
  spdlog::info("worker stopped");
  return 0;
}

}  // namespace cex

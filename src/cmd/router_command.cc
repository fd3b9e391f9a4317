#include <cstdlib>

#include <spdlog/spdlog.h>

#include "cmd/role_links.h"
#include "cmd/roles.h"
#include "net/http_server.h"
#include "router/compile_router.h"

namespace cex {

namespace {

std::string adminToken(const std::string& given) {
  if (!given.empty()) {
    return given;
  }
  const char* env = std::getenv("CEX_ADMIN_TOKEN");  // NOLINT(concurrency-mt-unsafe): start-up
  return env != nullptr ? env : "";
}

}  // namespace

int runRouterCommand(const RouterCommandOptions& o) {
  blockStopSignals();
  if (o.links.events_url.empty()) {
    spdlog::critical("router start failed error=\"--events ws://host:port/<env> is required\"");
    return 1;
  }
  auto backends = connectBackends(o.links.nats_url, o.lease_seconds, "cex-router-" + o.env);
  if (!backends.ok()) {
    spdlog::critical("router start failed error=\"{}\"", backends.status().message());
    return 1;
  }
  RoutingTable routes(backends->kv);
  ActiveColours colours(backends->kv);
  for (Status s : {routes.watch(), colours.watch()}) {
    if (!s.isOk()) {
      spdlog::critical("router start failed error=\"{}\"", s.message());
      return 1;
    }
  }
  auto cache = makeLayeredResultCache(size_t{64} << 20, std::chrono::seconds(60),
                                      makeKvResultCache(backends->kv, std::chrono::hours(1)));
  auto http = HttpClient::create();

  RouterOptions options;
  options.env = o.env;
  options.wait_timeout = std::chrono::seconds(o.wait_seconds);
  options.backlog_limit = o.backlog_limit;
  options.admin_token = adminToken(o.admin_token);
  CompileRouter router(options, RouterLinks{backends->queue, backends->blobs, &routes, &colours,
                                            cache.get(), http.get(), nullptr, backends->healthy});
  WebSocketClientOptions ws;
  ws.url = o.links.events_url;
  auto events = EventsClient::createWebSocket(ws, router.resultHandler());
  if (!events.ok()) {
    spdlog::critical("router start failed error=\"{}\"", events.status().message());
    return 1;
  }
  router.setEventsClient(events->get());

  HttpServerOptions http_options;
  http_options.host = o.host;
  http_options.port = static_cast<uint16_t>(o.port);
  auto server = HttpServer::create(http_options, [&router](HttpRequest&& r, Responder respond) {
    router.handle(std::move(r), std::move(respond));
  });
  if (!server.ok()) {
    spdlog::critical("router listen failed error=\"{}\"", server.status().message());
    return 1;
  }
  StopWatch stop_watch("router", [&router, server = server->get(), drain = o.drain_seconds] {
    router.shutdown(std::chrono::seconds(drain));
    server->stop();
  });
  spdlog::info("router listening url=http://{}:{}/ env={} nats={} events={}", o.host,
               (*server)->port(), o.env, o.links.nats_url, o.links.events_url);
  (*server)->run();
  router.shutdown(std::chrono::milliseconds(0));
  spdlog::info("router stopped");
  return 0;
}

}  // namespace cex

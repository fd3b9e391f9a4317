#include <chrono>

#include <spdlog/spdlog.h>

#include "cmd/commands.h"
#include "cmd/local_pipeline.h"
#include "cmd/role_links.h"
#include "net/http_server.h"

namespace cex {

int runServe(const ServeOptions& options) {
  auto start = std::chrono::steady_clock::now();
  // Before any thread starts: threads inherit the mask, and a signal delivered to a thread
  // that does not block it would end the process on the spot.
  blockStopSignals();
  auto instance = buildInstance(options.instance);
  if (!instance.ok()) {
    spdlog::critical("serve start failed error=\"{}\"", instance.status().message());
    return 1;
  }
  Instance& inst = **instance;
  auto api = std::make_shared<ApiHandler>(inst.api, inst.service.get());
  auto pipeline = LocalPipeline::create(inst, "");
  if (!pipeline.ok()) {
    spdlog::critical("serve start failed error=\"{}\"", pipeline.status().message());
    return 1;
  }
  CompileRouter* router = &(*pipeline)->router();

  HttpServerOptions http;
  http.host = options.host;
  http.port = static_cast<uint16_t>(options.port);
  http.threads = options.http_threads;
  http.body_limit = static_cast<size_t>(
      inst.properties.getInt("bodyParserLimit", static_cast<int64_t>(options.body_limit)));
  // Compiles take the router's path; everything else (listings, /healthcheck) is the API's.
  auto server = HttpServer::create(http, [api, router](HttpRequest&& request, Responder respond) {
    bool compile = CompileRouter::handlesCompile(request.path);
    if (compile) {
      router->handle(std::move(request), std::move(respond));
    } else {
      api->handle(std::move(request), std::move(respond));
    }
  });
  if (!server.ok()) {
    spdlog::critical("serve listen failed host={} port={} error=\"{}\"", options.host, options.port,
                     server.status().message());
    return 1;
  }

  // Requests in flight get a moment to finish before the server closes their connections.
  StopWatch stop_watch("serve", [pipeline = pipeline->get(), server = server->get()] {
    pipeline->stop(std::chrono::seconds(10));
    server->stop();
  });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  spdlog::info(
      "serve listening url=http://{}:{}/ compilers={} probes_run={} probes_cached={} "
      "slots={} startup_ms={}",
      options.host, (*server)->port(), inst.discovery.registry.compilers().size(),
      inst.discovery.probes_run, inst.discovery.probes_cached, inst.service->settings().slots, ms);
  (*server)->run();
  (*pipeline)->stop(std::chrono::milliseconds(0));
  spdlog::info("serve stopped");
  return 0;
}

}  // namespace cex

#include "cmd/local_pipeline.h"

#include <spdlog/spdlog.h>

#include "cmd/role_links.h"
#include "router/routing_update.h"

namespace cex {

namespace {

constexpr std::chrono::milliseconds kLease{20000};

// The routing table of the local environment: every compiler of this instance, on its queue.
Status fillRoutes(RoutingTable& routes, const CompilerRegistry& registry) {
  std::vector<ListedCompiler> listed;
  for (const auto& compiler : registry.compilers()) {
    listed.push_back({compiler.id, compiler.exe, std::nullopt, std::nullopt});
    for (const auto& alias : compiler.alias) {
      listed.push_back({alias, compiler.exe, std::nullopt, std::nullopt});
    }
  }
  auto rows = routingRows(LocalPipeline::kEnv, listed, RoutingStrategy{}, isoNow());
  auto diff = applyRoutingRows(routes, LocalPipeline::kEnv, rows, false);
  return diff.ok() ? Status::ok() : diff.status();
}

}  // namespace

Result<std::unique_ptr<LocalPipeline>> LocalPipeline::create(Instance& instance,
                                                             const std::string& state_dir) {
  std::unique_ptr<LocalPipeline> pipeline(new LocalPipeline());
  if (Status s = pipeline->start(instance, state_dir); !s.isOk()) {
    return s;
  }
  return pipeline;
}

Status LocalPipeline::start(Instance& instance, const std::string& state_dir) {
  EmbeddedOptions embedded;
  embedded.sqlite_path = state_dir.empty() ? "" : state_dir + "/state.db";
  embedded.queue.lease = kLease;
  auto backends = makeEmbeddedBackends(embedded);
  if (!backends.ok()) {
    return backends.status();
  }
  backends_ = std::move(backends).value();
  auto hub = EventsHub::create({}, backends_.pubsub);
  if (!hub.ok()) {
    return hub.status();
  }
  hub_ = std::move(hub).value();

  routes_ = std::make_unique<RoutingTable>(backends_.kv);
  colours_ = std::make_unique<ActiveColours>(backends_.kv);
  for (Status s :
       {fillRoutes(*routes_, instance.discovery.registry), routes_->watch(), colours_->watch()}) {
    if (!s.isOk()) {
      return s;
    }
  }
  cache_ = makeMemoryResultCache(instance.service->settings().cache_bytes);
  http_ = HttpClient::create();

  RouterOptions options;
  options.env = kEnv;
  options.text_banner = instance.api.text_banner;
  options.api_max_age_secs = instance.api.api_max_age_secs;
  router_ = std::make_unique<CompileRouter>(
      options, RouterLinks{backends_.queue, backends_.blobs, routes_.get(), colours_.get(),
                           cache_.get(), http_.get(), nullptr, backends_.healthy});
  router_events_ = EventsClient::createInProcess(hub_, router_->resultHandler());
  router_->setEventsClient(router_events_.get());

  worker_events_ = EventsClient::createInProcess(
      hub_, [](const std::string&, std::string&&) {}, workerEventsOptions());
  WorkerOptions worker;
  worker.lease_renewal = kLease / 4;
  worker.env = kEnv;
  worker.colour = colours_->colour(kEnv);
  worker.consumers = instance.service->settings().slots;
  // In one process the hub passes results by value: no size needs a reference.
  worker.inline_result_limit = SIZE_MAX;
  worker_ = std::make_unique<Worker>(worker, backends_.queue, backends_.blobs, worker_events_.get(),
                                     instance.service.get(), cache_.get());
  worker_->start();
  return Status::ok();
}

void LocalPipeline::stop(std::chrono::milliseconds drain) {
  if (router_) {
    router_->shutdown(drain);
  }
  if (worker_) {
    worker_->stop(drain);
  }
}

LocalPipeline::~LocalPipeline() {
  stop(std::chrono::milliseconds(0));
}

}  // namespace cex

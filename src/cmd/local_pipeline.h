#pragma once

#include <memory>
#include <string>

#include "backends/backends.h"
#include "cmd/instance.h"
#include "events/events_client.h"
#include "events/events_hub.h"
#include "router/compile_router.h"
#include "router/routing_table.h"
#include "router/shared_result_cache.h"
#include "worker/worker.h"

namespace cex {

// Every role of an environment in one process, on the embedded backends: the compile router,
// its queue, workers that compile with this instance's compilers, and an events hub between
// them. `cex serve` sends compile requests through it, so they take the same path as in a
// deployment, without a socket between the steps.
class LocalPipeline {
 public:
  static constexpr const char* kEnv = "local";

  static Result<std::unique_ptr<LocalPipeline>> create(Instance& instance,
                                                       const std::string& state_dir);
  ~LocalPipeline();

  CompileRouter& router() { return *router_; }

  // Stops taking work: waiting requests get `drain` to finish, then the workers stop.
  void stop(std::chrono::milliseconds drain);

 private:
  LocalPipeline() = default;
  Status start(Instance& instance, const std::string& state_dir);

  Backends backends_;
  std::shared_ptr<EventsHub> hub_;
  std::unique_ptr<RoutingTable> routes_;
  std::unique_ptr<ActiveColours> colours_;
  std::unique_ptr<SharedResultCache> cache_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<CompileRouter> router_;
  std::unique_ptr<EventsClient> router_events_;
  std::unique_ptr<EventsClient> worker_events_;
  std::unique_ptr<Worker> worker_;
};

}  // namespace cex

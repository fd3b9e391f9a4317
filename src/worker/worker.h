#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backends/blob_store.h"
#include "backends/work_queue.h"
#include "compile/compile_service.h"
#include "events/events_client.h"
#include "router/shared_result_cache.h"

namespace cex {

struct WorkerOptions {
  std::string env = "prod";
  std::string colour = "blue";
  int consumers = 2;  // concurrent jobs taken from the queue
  // A job delivered this many times is answered with an error and given up (kept for
  // inspection) instead of being compiled once more.
  int max_deliveries = 4;
  // How often the lease of a job being compiled is renewed: well inside the queue's lease
  // (a quarter of the default 20 s).
  std::chrono::milliseconds lease_renewal{5000};
  size_t inline_result_limit = 31 * 1024;
};

// Counters of a worker, for /healthcheck and tests.
struct WorkerStats {
  uint64_t compiled = 0;
  uint64_t expired = 0;      // answered with an error: the client had stopped waiting
  uint64_t given_up = 0;     // delivered too often
  uint64_t unacked = 0;      // published, but no subscriber acknowledged in time
  uint64_t handed_back = 0;  // returned to the queue on shutdown
  int busy = 0;              // jobs being compiled
  int awaiting_ack = 0;      // results published, waiting for their subscriber's ack
};

// A compile instance consuming its environment's queue for its colour: each consumer leases a
// job, compiles it with the instance's CompileService, publishes the result through the events
// hub, and acks the job only once the result was acknowledged (or its client stopped
// waiting), so a worker that dies mid-compile, or a result nobody confirmed, leaves the job to
// be delivered again. Thread-safe.
class Worker {
 public:
  Worker(WorkerOptions options, std::shared_ptr<WorkQueue> queue, std::shared_ptr<BlobStore> blobs,
         EventsClient* events, CompileService* service, SharedResultCache* cache);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  // Stops taking jobs; jobs in flight get `drain` to finish, then are handed back to the queue.
  void stop(std::chrono::milliseconds drain);

  std::string queueName() const { return options_.env + "-" + options_.colour; }

  WorkerStats stats() const;

  bool consuming() const { return started_ && !stopping_; }

 private:
  class LeaseRenewer;

  void consumerLoop();
  void process(std::shared_ptr<JobLease> lease);
  // Acks the job once its result was acknowledged (or its client stopped waiting); hands it
  // back otherwise.
  void settle(JobLease& lease, bool acked, std::chrono::steady_clock::time_point started);
  std::string compileJob(const Job& job);
  // Publishes a result; on_done(acked) runs once, on the events client's thread.
  void publish(const std::string& guid, std::string json, std::function<void(bool acked)> on_done);

  WorkerOptions options_;
  std::shared_ptr<WorkQueue> queue_;
  std::shared_ptr<BlobStore> blobs_;
  EventsClient* events_;
  CompileService* service_;
  SharedResultCache* cache_;
  std::unique_ptr<LeaseRenewer> renewer_;  // while started
  std::vector<std::thread> consumers_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> abandon_{false};  // drain over: hand jobs back instead of finishing
  mutable std::mutex mu_;
  WorkerStats stats_;                // guarded by mu_
  std::condition_variable settled_;  // a result was acknowledged or gave up
};

}  // namespace cex

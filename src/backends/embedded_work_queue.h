#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "backends/work_queue.h"

namespace cex {

// Work queues in this process's memory, with the same lease rules as the NATS queues: a
// leased job comes back when its lease runs out, with its delivery count raised; it is given
// up after max_deliveries; ids seen within the dedup window are dropped; jobs older than
// max_age vanish. Nothing runs in the background: lease() and stats() bring each queue up to
// date, and a consumer waiting in lease() also wakes when a lease runs out.
class EmbeddedWorkQueue final : public WorkQueue {
 public:
  explicit EmbeddedWorkQueue(QueueSettings settings);
  ~EmbeddedWorkQueue() override;
  EmbeddedWorkQueue(const EmbeddedWorkQueue&) = delete;
  EmbeddedWorkQueue& operator=(const EmbeddedWorkQueue&) = delete;

  Status enqueue(std::string_view queue, const Job& job) override;
  Result<std::unique_ptr<JobLease>> lease(std::string_view queue,
                                          std::chrono::milliseconds wait) override;
  Result<QueueStats> stats(std::string_view queue) override;

  // The state of every queue, shared with the leases, which may outlive this object.
  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace cex

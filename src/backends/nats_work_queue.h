#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "backends/nats_connection.h"
#include "backends/work_queue.h"

namespace cex {

// Work queues on NATS JetStream. Each queue is a work-queue stream ("CEX_Q_<queue>", subject
// "cex.jobs.<queue>") read through one durable pull consumer ("workers") that every worker
// of every process shares: its ack wait is the lease, its MaxDeliver the delivery limit; the
// stream's MaxAge drops old jobs and its duplicate window, keyed by the job id sent as
// Nats-Msg-Id, drops repeats. Terminated jobs are copied to "CEX_DEAD_<queue>" (kept until
// max_age) before they are removed. Streams and the consumer are created on first use and
// checked again after every reconnect, so several processes can race to create them and a
// server that lost them gets them back.
//
// Stats come from the server's counters: a job handed back or whose lease ran out counts as
// in flight until it goes out again, and oldest_age is the age of the oldest job never
// delivered.
class NatsWorkQueue final : public WorkQueue {
 public:
  NatsWorkQueue(std::shared_ptr<NatsConnection> connection, QueueSettings settings);
  ~NatsWorkQueue() override;
  NatsWorkQueue(const NatsWorkQueue&) = delete;
  NatsWorkQueue& operator=(const NatsWorkQueue&) = delete;

  Status enqueue(std::string_view queue, const Job& job) override;
  Result<std::unique_ptr<JobLease>> lease(std::string_view queue,
                                          std::chrono::milliseconds wait) override;
  Result<QueueStats> stats(std::string_view queue) override;

  // The server-side names of one queue, and the pull subscriptions its consumers reuse.
  struct Streams;

 private:
  // The queue's streams, created or checked on first use in this connection session.
  Result<std::shared_ptr<Streams>> streamsFor(std::string_view queue);
  Status ensure(Streams& streams);
  Status publish(Streams& streams, const Job& job);

  std::shared_ptr<NatsConnection> connection_;
  QueueSettings settings_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Streams>> streams_;  // guarded by mu_
};

}  // namespace cex

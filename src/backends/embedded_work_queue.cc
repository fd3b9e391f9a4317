#include "backends/embedded_work_queue.h"

#include <condition_variable>
#include <deque>
#include <utility>

#include <spdlog/spdlog.h>

#include "backends/naming.h"

namespace cex {

namespace {

using SteadyClock = std::chrono::steady_clock;

// A job as the queue keeps it. `job.delivery` counts the deliveries so far (0 = never).
struct Entry {
  Job job;
  SteadyClock::time_point accepted;  // for max_age
  uint64_t lease_token = 0;          // the lease that holds it while in flight
  SteadyClock::time_point lease_end;
};

// One named queue. Entries are keyed by their sequence number, so every map is oldest first
// and a job that comes back from a lease takes its old place.
struct Queue {
  std::map<uint64_t, Entry> waiting;
  std::map<uint64_t, Entry> in_flight;
  std::map<uint64_t, Entry> given_up;
  // Ids accepted within the dedup window, and the order in which they leave it.
  std::unordered_map<std::string, SteadyClock::time_point> seen_ids;
  std::deque<std::pair<SteadyClock::time_point, std::string>> seen_order;
  std::condition_variable job_ready;  // consumers waiting in lease()
};

enum class Settle { Ack, Nak, Extend, Terminate };

}  // namespace

struct EmbeddedWorkQueue::Shared {
  QueueSettings settings;
  std::mutex mu;
  uint64_t next_number = 1;  // sequence numbers and lease tokens; guarded by mu
  std::unordered_map<std::string, std::unique_ptr<Queue>> queues;  // guarded by mu

  // The queue called `name`, created empty on first use. Requires mu.
  Queue& queue(std::string_view name) {
    auto it = queues.find(std::string(name));
    if (it == queues.end()) {
      it = queues.emplace(std::string(name), std::make_unique<Queue>()).first;
    }
    return *it->second;
  }

  // Moves a job that was in flight or handed back to waiting, or to given_up once it has had
  // all its deliveries. Requires mu.
  void putBack(Queue& q, uint64_t number, Entry&& entry) {
    if (entry.job.delivery >= settings.max_deliveries) {
      spdlog::debug("queue job given up id={} deliveries={}", entry.job.id, entry.job.delivery);
      q.given_up.emplace(number, std::move(entry));
      return;
    }
    q.waiting.emplace(number, std::move(entry));
    q.job_ready.notify_one();
  }

  // Brings `q` up to date at `now`: leases that ran out, jobs past max_age, ids past the
  // dedup window. Requires mu.
  void refresh(Queue& q, SteadyClock::time_point now) {
    for (auto it = q.in_flight.begin(); it != q.in_flight.end();) {
      if (it->second.lease_end > now) {
        ++it;
        continue;
      }
      putBack(q, it->first, std::move(it->second));
      it = q.in_flight.erase(it);
    }
    dropOld(q.waiting, now);
    dropOld(q.in_flight, now);
    dropOld(q.given_up, now);
    while (!q.seen_order.empty() && q.seen_order.front().first + settings.dedup_window <= now) {
      auto seen = q.seen_ids.find(q.seen_order.front().second);
      if (seen != q.seen_ids.end() && seen->second == q.seen_order.front().first) {
        q.seen_ids.erase(seen);
      }
      q.seen_order.pop_front();
    }
  }

  // Drops the entries accepted max_age ago or earlier; they are at the front of `entries`.
  void dropOld(std::map<uint64_t, Entry>& entries, SteadyClock::time_point now) {
    while (!entries.empty() && entries.begin()->second.accepted + settings.max_age <= now) {
      spdlog::debug("queue job expired id={}", entries.begin()->second.job.id);
      entries.erase(entries.begin());
    }
  }

  // When a consumer waiting on `q` must look again even if nothing is enqueued: the end of
  // the first lease to run out, or `deadline`. Requires mu.
  static SteadyClock::time_point nextWake(const Queue& q, SteadyClock::time_point deadline) {
    SteadyClock::time_point wake = deadline;
    for (const auto& [number, entry] : q.in_flight) {
      wake = std::min(wake, entry.lease_end);
    }
    return wake;
  }

  Status settle(const std::string& queue_name, uint64_t number, uint64_t token, Settle how);
};

namespace {

// A job handed out by an EmbeddedWorkQueue; settles it through the shared state.
class EmbeddedLease final : public JobLease {
 public:
  EmbeddedLease(std::shared_ptr<EmbeddedWorkQueue::Shared> shared, std::string queue,
                uint64_t number, uint64_t token, Job job)
      : shared_(std::move(shared)),
        queue_(std::move(queue)),
        number_(number),
        token_(token),
        job_(std::move(job)) {}

  const Job& job() const override { return job_; }

  Status ack() override { return shared_->settle(queue_, number_, token_, Settle::Ack); }

  Status nak() override { return shared_->settle(queue_, number_, token_, Settle::Nak); }

  Status extend() override { return shared_->settle(queue_, number_, token_, Settle::Extend); }

  Status terminate() override {
    return shared_->settle(queue_, number_, token_, Settle::Terminate);
  }

 private:
  std::shared_ptr<EmbeddedWorkQueue::Shared> shared_;
  std::string queue_;
  uint64_t number_;
  uint64_t token_;
  Job job_;
};

}  // namespace

Status EmbeddedWorkQueue::Shared::settle(const std::string& queue_name, uint64_t number,
                                         uint64_t token, Settle how) {
  std::lock_guard lock(mu);
  Queue& q = queue(queue_name);
  SteadyClock::time_point now = SteadyClock::now();
  refresh(q, now);

  // A lease that ran out no longer owns the job, even if the job is out again under another.
  auto it = q.in_flight.find(number);
  if (it == q.in_flight.end() || it->second.lease_token != token) {
    return Status::notFound("queue " + queue_name + ": lease has run out");
  }
  switch (how) {
    case Settle::Ack:
      q.in_flight.erase(it);
      break;
    case Settle::Nak:
      putBack(q, number, std::move(it->second));
      q.in_flight.erase(it);
      break;
    case Settle::Extend:
      it->second.lease_end = now + settings.lease;
      break;
    case Settle::Terminate:
      q.given_up.emplace(number, std::move(it->second));
      q.in_flight.erase(it);
      break;
  }
  return Status::ok();
}

EmbeddedWorkQueue::EmbeddedWorkQueue(QueueSettings settings) : shared_(std::make_shared<Shared>()) {
  shared_->settings = settings;
}

EmbeddedWorkQueue::~EmbeddedWorkQueue() = default;

Status EmbeddedWorkQueue::enqueue(std::string_view queue, const Job& job) {
  if (Status s = checkQueueName(queue); !s.isOk()) {
    return s;
  }
  if (Status s = checkJobId(job.id); !s.isOk()) {
    return s;
  }
  std::lock_guard lock(shared_->mu);
  Queue& q = shared_->queue(queue);
  SteadyClock::time_point now = SteadyClock::now();
  shared_->refresh(q, now);

  // A retried enqueue of the same request within the window is the same job.
  if (q.seen_ids.contains(job.id)) {
    spdlog::debug("queue duplicate dropped queue={} id={}", queue, job.id);
    return Status::ok();
  }
  q.seen_ids.emplace(job.id, now);
  q.seen_order.emplace_back(now, job.id);

  Entry entry{job, now, 0, {}};
  entry.job.delivery = 0;
  entry.job.enqueued_at = std::chrono::system_clock::now();
  q.waiting.emplace(shared_->next_number++, std::move(entry));
  q.job_ready.notify_one();
  return Status::ok();
}

Result<std::unique_ptr<JobLease>> EmbeddedWorkQueue::lease(std::string_view queue,
                                                           std::chrono::milliseconds wait) {
  if (Status s = checkQueueName(queue); !s.isOk()) {
    return s;
  }
  SteadyClock::time_point deadline = SteadyClock::now() + wait;
  std::unique_lock lock(shared_->mu);
  Queue& q = shared_->queue(queue);
  while (true) {
    SteadyClock::time_point now = SteadyClock::now();
    shared_->refresh(q, now);
    if (!q.waiting.empty()) {
      break;
    }
    if (now >= deadline) {
      return std::unique_ptr<JobLease>();
    }
    q.job_ready.wait_until(lock, Shared::nextWake(q, deadline));
  }

  // Hand out the oldest waiting job under a fresh lease.
  auto node = q.waiting.extract(q.waiting.begin());
  Entry& entry = node.mapped();
  entry.job.delivery += 1;
  entry.lease_token = shared_->next_number++;
  entry.lease_end = SteadyClock::now() + shared_->settings.lease;
  auto lease = std::make_unique<EmbeddedLease>(shared_, std::string(queue), node.key(),
                                               entry.lease_token, entry.job);
  q.in_flight.insert(std::move(node));
  return std::unique_ptr<JobLease>(std::move(lease));
}

Result<QueueStats> EmbeddedWorkQueue::stats(std::string_view queue) {
  if (Status s = checkQueueName(queue); !s.isOk()) {
    return s;
  }
  std::lock_guard lock(shared_->mu);
  Queue& q = shared_->queue(queue);
  SteadyClock::time_point now = SteadyClock::now();
  shared_->refresh(q, now);

  QueueStats stats;
  stats.waiting = q.waiting.size();
  stats.in_flight = q.in_flight.size();
  stats.given_up = q.given_up.size();
  if (!q.waiting.empty()) {
    stats.oldest_age = std::chrono::duration_cast<std::chrono::milliseconds>(
        now - q.waiting.begin()->second.accepted);
  }
  return stats;
}

}  // namespace cex

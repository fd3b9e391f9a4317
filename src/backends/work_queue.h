#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cex {

// One compile job on a queue. The payload is opaque to the queue (the router's message, or a
// reference to it in the blob store when it is large).
struct Job {
  std::string id;  // the request guid; a second enqueue of the same id within the dedup
                   // window is dropped
  std::string payload;
  // When the client stops waiting; a worker that leases the job later answers with an error
  // instead of compiling.
  std::chrono::system_clock::time_point deadline;
  int delivery = 1;  // set by the queue: 1 on the first delivery, 2 after one redelivery, ...
  // Set by the queue: when the job was accepted (for the worker's queue time). Ignored on
  // enqueue.
  std::chrono::system_clock::time_point enqueued_at;
};

// A job handed to one consumer. Until it is acked, nacked or terminated, no other consumer
// gets it; if the lease runs out (the consumer died), the job is delivered again. Exactly one
// of ack/nak/terminate should be called; destroying the lease without one lets it expire.
// Once the lease has run out, what these calls do depends on the backend: they may fail with
// NotFound, or act on the job's next delivery. Thread-safe.
class JobLease {
 public:
  virtual ~JobLease() = default;
  virtual const Job& job() const = 0;
  // The job is done: remove it.
  virtual Status ack() = 0;
  // Hand the job back for another consumer now (e.g. on shutdown). It goes out again before
  // newer jobs, as its next delivery (which counts towards max_deliveries).
  virtual Status nak() = 0;
  // Still working on it: restart the lease.
  virtual Status extend() = 0;
  // Give up for good; the job is kept for inspection (until max_age, counted in
  // QueueStats::given_up) and never delivered again.
  virtual Status terminate() = 0;
};

// What a queue holds now, for back-pressure and health.
struct QueueStats {
  uint64_t waiting = 0;    // not yet delivered, or handed back
  uint64_t in_flight = 0;  // leased and not yet acked
  // Terminated, or out of deliveries: never delivered again, kept for inspection until they
  // are max_age old.
  uint64_t given_up = 0;
  // Age of the oldest waiting job; zero when none waits.
  std::chrono::milliseconds oldest_age{0};
};

// Limits shared by every queue of a backend, from the production queues' settings.
struct QueueSettings {
  std::chrono::milliseconds lease{60000};          // visibility timeout / ack wait
  std::chrono::milliseconds max_age{300000};       // retention: older jobs are dropped
  std::chrono::milliseconds dedup_window{300000};  // same id within this is one job
  int max_deliveries = 4;                          // deliveries before a job is given up
};

// FIFO work queues with leases, named "<env>-<colour>" (e.g. "prod-blue"; any non-empty name
// of printable ASCII without spaces). Jobs are handed out oldest first; a job whose lease ran
// out or that was handed back goes out again before newer ones. Thread-safe.
// Implementations: in memory (one process) and NATS JetStream (work-queue streams).
class WorkQueue {
 public:
  virtual ~WorkQueue() = default;
  // Accepts the job (a duplicate id within the dedup window is accepted and dropped). Fails
  // with InvalidArgument for a bad id (see checkJobId in backends/naming.h), ResourceExhausted
  // for a payload over the backend's message limit (NATS: the server's max_payload, 1 MiB by
  // default, less the headers), Unavailable when the backend cannot be reached.
  virtual Status enqueue(std::string_view queue, const Job& job) = 0;
  // Waits up to `wait` for a job; returns nullptr when none came. Fails with Unavailable when
  // the backend stayed unreachable for the whole wait, so a consumer loop never spins.
  virtual Result<std::unique_ptr<JobLease>> lease(std::string_view queue,
                                                  std::chrono::milliseconds wait) = 0;
  virtual Result<QueueStats> stats(std::string_view queue) = 0;
};

}  // namespace cex

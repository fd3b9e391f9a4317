#include "worker/worker.h"

#include <condition_variable>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/queue_message.h"
#include "base/json_writer.h"
#include "compile/result_json.h"
#include "events/result_reference.h"

namespace cex {

namespace {

using SystemClock = std::chrono::system_clock;

std::string withGuid(const std::string& guid, const std::string& json) {
  std::string out = "{\"guid\":";
  appendJsonString(&out, guid);
  if (json.size() > 2) {
    out.push_back(',');
  }
  out.append(json, 1, std::string::npos);
  return out;
}

bool cacheable(const CompileOutcome& outcome) {
  if (outcome.execution) {
    return outcome.execution->ok_to_cache;
  }
  if (!outcome.result) {
    return false;
  }
  const auto& run = outcome.result->exec_result;
  return outcome.result->ok_to_cache && (!run || run->ok_to_cache);
}

std::string outcomeJson(const CompileOutcome& outcome) {
  std::string out;
  if (outcome.execution) {
    writeExecutionResultJson(*outcome.execution, &out);
  } else if (outcome.result) {
    writeCompileResultJson(*outcome.result, &out);
  } else {
    out = refusalJson(outcome.refusal);
  }
  return out;
}

}  // namespace

// Renews the leases of the jobs being compiled, all from one thread, so that a compile longer
// than a lease keeps its job without a thread of its own.
class Worker::LeaseRenewer {
 public:
  explicit LeaseRenewer(std::chrono::milliseconds every) : every_(every) {
    thread_ = std::thread([this] { loop(); });
  }

  ~LeaseRenewer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  LeaseRenewer(const LeaseRenewer&) = delete;
  LeaseRenewer& operator=(const LeaseRenewer&) = delete;

  void add(JobLease* lease) {
    std::lock_guard lock(mu_);
    leases_.insert(lease);
  }

  // Once this returns, `lease` is not touched again.
  void remove(JobLease* lease) {
    std::lock_guard lock(mu_);
    leases_.erase(lease);
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, every_, [this] { return stopping_; })) {
      for (JobLease* lease : leases_) {
        lease->extend();
      }
    }
  }

  const std::chrono::milliseconds every_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<JobLease*> leases_;  // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  std::thread thread_;
};

Worker::Worker(WorkerOptions options, std::shared_ptr<WorkQueue> queue,
               std::shared_ptr<BlobStore> blobs, EventsClient* events, CompileService* service,
               SharedResultCache* cache)
    : options_(std::move(options)),
      queue_(std::move(queue)),
      blobs_(std::move(blobs)),
      events_(events),
      service_(service),
      cache_(cache) {}

Worker::~Worker() {
  stop(std::chrono::milliseconds(0));
}

void Worker::start() {
  renewer_ = std::make_unique<LeaseRenewer>(options_.lease_renewal);
  started_ = true;
  for (int i = 0; i < std::max(1, options_.consumers); ++i) {
    consumers_.emplace_back([this] { consumerLoop(); });
  }
  spdlog::info("worker consuming queue={} consumers={}", queueName(), consumers_.size());
}

void Worker::stop(std::chrono::milliseconds drain) {
  if (stopping_.exchange(true)) {
    return;
  }
  // Jobs in flight finish within the drain window; a consumer still busy after it hands its
  // job back as soon as its compile returns.
  auto until = std::chrono::steady_clock::now() + drain;
  while (stats().busy > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  abandon_ = true;
  for (auto& consumer : consumers_) {
    consumer.join();
  }
  consumers_.clear();
  renewer_.reset();
  // Each publish ends within the events client's publish deadline, acknowledged or not.
  {
    std::unique_lock lock(mu_);
    settled_.wait(lock, [this] { return stats_.awaiting_ack == 0; });
  }
  spdlog::info("worker stopped queue={}", queueName());
}

WorkerStats Worker::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Worker::consumerLoop() {
  int failures = 0;
  while (!stopping_) {
    auto lease = queue_->lease(queueName(), std::chrono::milliseconds(500));
    if (!lease.ok()) {
      // The queue is unreachable: say so once in a while and back off.
      if (failures++ % 20 == 0) {
        spdlog::warn("worker lease failed queue={} error=\"{}\"", queueName(),
                     lease.status().message());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(2000, 100 * failures)));
      continue;
    }
    failures = 0;
    if (!*lease) {
      continue;
    }
    if (stopping_) {
      (*lease)->nak();
      std::lock_guard lock(mu_);
      ++stats_.handed_back;
      break;
    }
    process(std::shared_ptr<JobLease>(std::move(*lease)));
  }
}

void Worker::process(std::shared_ptr<JobLease> owned) {
  JobLease& lease = *owned;
  const Job& job = lease.job();
  {
    std::lock_guard lock(mu_);
    ++stats_.busy;
  }
  auto finished = [this](uint64_t WorkerStats::*counter) {
    std::lock_guard lock(mu_);
    --stats_.busy;
    ++(stats_.*counter);
  };

  auto now = SystemClock::now();
  if (job.deadline < now) {
    auto late = std::chrono::duration_cast<std::chrono::seconds>(now - job.deadline).count();
    spdlog::info("worker job expired guid={} late_s={}", job.id, late);
    lease.ack();
    publish(job.id,
            withGuid(job.id, errorResultJson(
                                 fmt::format("Compilation skipped: the client stopped waiting {} s "
                                             "before a worker was free",
                                             late))),
            [](bool) {});
    finished(&WorkerStats::expired);
    return;
  }
  if (job.delivery >= options_.max_deliveries) {
    spdlog::warn("worker job given up guid={} deliveries={}", job.id, job.delivery);
    lease.terminate();
    publish(job.id,
            withGuid(job.id, errorResultJson(
                                 fmt::format("Compilation failed: {} workers took the job and none "
                                             "finished it",
                                             job.delivery - 1))),
            [](bool) {});
    finished(&WorkerStats::given_up);
    return;
  }

  auto started = std::chrono::steady_clock::now();
  renewer_->add(&lease);
  std::string result = compileJob(job);
  renewer_->remove(&lease);
  if (abandon_) {
    lease.nak();  // Shutting down past the drain window: let another worker answer.
    finished(&WorkerStats::handed_back);
    return;
  }
  // The consumer goes on with the next job while this result waits for its ack.
  {
    std::lock_guard lock(mu_);
    --stats_.busy;
    ++stats_.awaiting_ack;
  }
  publish(job.id, std::move(result), [this, owned = std::move(owned), started](bool acked) {
    settle(*owned, acked, started);
  });
}

void Worker::settle(JobLease& lease, bool acked, std::chrono::steady_clock::time_point started) {
  const Job& job = lease.job();
  if (acked || SystemClock::now() >= job.deadline) {
    lease.ack();
  } else {
    lease.nak();  // Nobody confirmed the result while the client still waits: deliver again.
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  spdlog::info("worker job done guid={} queue={} delivery={} acked={} ms={}", job.id, queueName(),
               job.delivery, acked, ms);
  {
    std::lock_guard lock(mu_);
    --stats_.awaiting_ack;
    ++(acked ? stats_.compiled : stats_.unacked);
  }
  settled_.notify_all();
}

std::string Worker::compileJob(const Job& job) {
  Result<std::string> payload = resolveResultReference(*blobs_, job.payload);
  std::optional<QueueMessage> message = payload.ok() ? parseQueueMessage(*payload) : std::nullopt;
  if (!message) {
    return withGuid(job.id,
                    errorResultJson("Internal error: the queued request could not be read"));
  }
  const CompilerInfo* compiler = service_->registry().find(message->compiler_id, message->lang);
  if (compiler == nullptr) {
    return withGuid(job.id, errorResultJson("Compiler with ID " + message->compiler_id +
                                            " not found for language " + message->lang));
  }
  if (!message->build_system.empty()) {
    return withGuid(job.id, buildUnavailableJson(message->build_system));
  }
  if (!message->parsed.request) {
    return withGuid(job.id, errorResultJson(message->parsed.error.body));
  }

  CompileOutcome outcome = service_->compileNow(*compiler, std::move(*message->parsed.request));
  std::string json = outcomeJson(outcome);
  if (!message->cache_key.empty() && cacheable(outcome)) {
    cache_->put(message->cache_key, json);
  }
  return withGuid(job.id, json);
}

void Worker::publish(const std::string& guid, std::string json,
                     std::function<void(bool acked)> on_done) {
  Result<std::string> frame =
      referenceLargeResult(*blobs_, guid, std::move(json), options_.inline_result_limit);
  if (!frame.ok()) {
    spdlog::error("worker result not stored guid={} error=\"{}\"", guid, frame.status().message());
    on_done(false);
    return;
  }
  // A subscriber acknowledges within milliseconds; only an events link that is reconnecting
  // makes it wait, and the events client ends every publish after its publish deadline.
  events_->publish(
      guid, std::move(frame).value(), [guid, on_done = std::move(on_done)](const Status& s) {
        if (!s.isOk()) {
          spdlog::warn("worker result unacknowledged guid={} error=\"{}\"", guid, s.message());
        }
        on_done(s.isOk());
      });
}

}  // namespace cex

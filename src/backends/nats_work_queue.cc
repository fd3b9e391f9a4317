#include "backends/nats_work_queue.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <vector>

#include <spdlog/spdlog.h>

#include "backends/naming.h"

namespace cex {

namespace {

using SystemClock = std::chrono::system_clock;

constexpr const char* kConsumer = "workers";
constexpr const char* kMsgIdHeader = "Nats-Msg-Id";
constexpr const char* kDeadlineHeader = "Cex-Deadline";  // ms since the epoch
// On the copies of terminated jobs only: the id and the deliveries it had.
constexpr const char* kJobIdHeader = "Cex-Job-Id";
constexpr const char* kDeliveriesHeader = "Cex-Deliveries";

int64_t nanos(std::chrono::milliseconds duration) {
  return duration.count() * 1000000;
}

int64_t epochMs(SystemClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SystemClock::time_point fromEpochNanos(int64_t ns) {
  return SystemClock::time_point(
      std::chrono::duration_cast<SystemClock::duration>(std::chrono::nanoseconds(ns)));
}

struct MsgDeleter {
  void operator()(natsMsg* msg) const { natsMsg_Destroy(msg); }
};

using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

// A pull subscription bound to a queue's consumer. A fetched message points at its
// subscription without owning it, so each lease shares ownership too.
class PullSubscription {
 public:
  explicit PullSubscription(natsSubscription* sub) : sub_(sub) {}

  ~PullSubscription() { natsSubscription_Destroy(sub_); }

  PullSubscription(const PullSubscription&) = delete;
  PullSubscription& operator=(const PullSubscription&) = delete;

  natsSubscription* raw() const { return sub_; }

 private:
  natsSubscription* sub_;
};

// Creates the stream, or brings an existing one to `config` (another process may have
// created it first, or with older settings).
Status addOrUpdateStream(jsCtx* js, jsStreamConfig& config) {
  jsErrCode js_error = static_cast<jsErrCode>(0);
  jsStreamInfo* info = nullptr;
  natsStatus s = js_AddStream(&info, js, &config, nullptr, &js_error);
  jsStreamInfo_Destroy(info);
  if (s == NATS_OK) {
    return Status::ok();
  }
  if (js_error != JSStreamNameExistErr) {
    return natsError(s, "create stream", config.Name, js_error);
  }
  info = nullptr;
  s = js_UpdateStream(&info, js, &config, nullptr, &js_error);
  jsStreamInfo_Destroy(info);
  if (s != NATS_OK) {
    // Some settings cannot change on a live stream; the old ones still make a working queue.
    spdlog::warn("queue stream keeps its old settings stream={} error={}", config.Name,
                 natsError(s, "update stream", config.Name, js_error).message());
  }
  return Status::ok();
}

// Creates the durable consumer, or brings an existing one to `config`.
Status addOrUpdateConsumer(jsCtx* js, const char* stream, jsConsumerConfig& config) {
  jsErrCode js_error = static_cast<jsErrCode>(0);
  jsConsumerInfo* info = nullptr;
  natsStatus s = js_AddConsumer(&info, js, stream, &config, nullptr, &js_error);
  jsConsumerInfo_Destroy(info);
  if (s == NATS_OK) {
    return Status::ok();
  }
  if (js_error != JSConsumerNameExistErr && js_error != JSConsumerExistingActiveErr) {
    return natsError(s, "create consumer", stream, js_error);
  }
  info = nullptr;
  s = js_UpdateConsumer(&info, js, stream, &config, nullptr, &js_error);
  jsConsumerInfo_Destroy(info);
  if (s != NATS_OK) {
    spdlog::warn("queue consumer keeps its old settings stream={} error={}", stream,
                 natsError(s, "update consumer", stream, js_error).message());
  }
  return Status::ok();
}

// The job carried by a fetched message: the payload, the id and deadline from its headers,
// the delivery count and enqueue time from the server's metadata.
Job decodeJob(natsMsg* msg) {
  Job job;
  job.payload.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, kMsgIdHeader, &value) == NATS_OK) {
    job.id = value;
  }
  int64_t deadline_ms = 0;
  if (natsMsgHeader_Get(msg, kDeadlineHeader, &value) == NATS_OK) {
    std::string_view text(value);
    std::from_chars(text.data(), text.data() + text.size(), deadline_ms);
    job.deadline = SystemClock::time_point(std::chrono::milliseconds(deadline_ms));
  }
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
    job.delivery = static_cast<int>(meta->NumDelivered);
    job.enqueued_at = fromEpochNanos(meta->Timestamp);
    jsMsgMetaData_Destroy(meta);
  }
  return job;
}

}  // namespace

struct NatsWorkQueue::Streams {
  std::string queue;
  std::string stream;  // the jobs
  std::string subject;
  std::string dead_stream;  // copies of terminated jobs
  std::string dead_subject;

  std::mutex mu;
  uint64_t checked_session = 0;  // the connection session the server was checked in; 0 = never
  std::vector<std::shared_ptr<PullSubscription>> idle;  // guarded by mu

  // After the server lost track of the streams or consumer: check again, subscribe again.
  void forget() {
    std::lock_guard lock(mu);
    checked_session = 0;
    idle.clear();
  }

  std::shared_ptr<PullSubscription> takeIdle() {
    std::lock_guard lock(mu);
    if (idle.empty()) {
      return nullptr;
    }
    std::shared_ptr<PullSubscription> sub = std::move(idle.back());
    idle.pop_back();
    return sub;
  }

  void giveBack(std::shared_ptr<PullSubscription> sub) {
    std::lock_guard lock(mu);
    idle.push_back(std::move(sub));
  }
};

namespace {

// A fetched job. The message stays here until the lease goes; acks are sent on it.
class NatsLease final : public JobLease {
 public:
  NatsLease(std::shared_ptr<NatsConnection> connection,
            std::shared_ptr<NatsWorkQueue::Streams> streams, std::shared_ptr<PullSubscription> sub,
            MsgPtr msg)
      : connection_(std::move(connection)),
        streams_(std::move(streams)),
        sub_(std::move(sub)),
        msg_(std::move(msg)),
        job_(decodeJob(msg_.get())) {}

  const Job& job() const override { return job_; }

  // Waits for the server's confirmation: an ack that is lost would run the job twice.
  Status ack() override {
    return settle("ack", [&](jsErrCode* e) { return natsMsg_AckSync(msg_.get(), nullptr, e); });
  }

  Status nak() override {
    return settle("nak", [&](jsErrCode*) { return request("-NAK"); });
  }

  Status extend() override {
    return settle("extend", [&](jsErrCode*) { return request("+WPI"); });
  }

  // Copies the job to the dead stream first, so it is kept even though Term removes it.
  Status terminate() override {
    std::lock_guard lock(mu_);
    if (Status s = connection_->checkConnected("terminate", streams_->queue); !s.isOk()) {
      return s;
    }
    if (Status s = keepCopy(); !s.isOk()) {
      return s;
    }
    natsStatus s = request("+TERM");
    return s == NATS_OK ? Status::ok() : natsError(s, "terminate", streams_->queue);
  }

 private:
  // Sends an acknowledgement of the kind `body` as a request: the server answers once it has
  // processed it, so a lease call that returns has taken effect (a nak before the next
  // fetch, an extension before the old lease ends).
  natsStatus request(const char* body) {
    natsMsg* reply = nullptr;
    natsStatus s = natsConnection_Request(&reply, connection_->raw(), natsMsg_GetReply(msg_.get()),
                                          body, static_cast<int>(std::strlen(body)),
                                          connection_->options().request_timeout.count());
    natsMsg_Destroy(reply);
    return s;
  }

  Status settle(const char* operation, const std::function<natsStatus(jsErrCode*)>& send) {
    std::lock_guard lock(mu_);
    if (Status s = connection_->checkConnected(operation, streams_->queue); !s.isOk()) {
      return s;
    }
    jsErrCode js_error = static_cast<jsErrCode>(0);
    natsStatus s = send(&js_error);
    return s == NATS_OK ? Status::ok() : natsError(s, operation, streams_->queue, js_error);
  }

  Status keepCopy() {
    natsMsg* raw = nullptr;
    natsStatus s = natsMsg_Create(&raw, streams_->dead_subject.c_str(), nullptr,
                                  job_.payload.data(), static_cast<int>(job_.payload.size()));
    MsgPtr copy(raw);
    std::string deadline = std::to_string(epochMs(job_.deadline));
    std::string deliveries = std::to_string(job_.delivery);
    if (s == NATS_OK) {
      s = natsMsgHeader_Set(copy.get(), kJobIdHeader, job_.id.c_str());
    }
    if (s == NATS_OK) {
      s = natsMsgHeader_Set(copy.get(), kDeadlineHeader, deadline.c_str());
    }
    if (s == NATS_OK) {
      s = natsMsgHeader_Set(copy.get(), kDeliveriesHeader, deliveries.c_str());
    }
    jsErrCode js_error = static_cast<jsErrCode>(0);
    if (s == NATS_OK) {
      s = js_PublishMsg(nullptr, connection_->js(), copy.get(), nullptr, &js_error);
    }
    return s == NATS_OK ? Status::ok() : natsError(s, "keep terminated", streams_->queue, js_error);
  }

  std::shared_ptr<NatsConnection> connection_;
  std::shared_ptr<NatsWorkQueue::Streams> streams_;
  std::shared_ptr<PullSubscription> sub_;  // must outlive msg_
  std::mutex mu_;
  MsgPtr msg_;
  Job job_;
};

// Fetches at most one message within `wait`; nullptr when none came. The server ends its
// side of the request a little before the client stops waiting, but a message that still
// slips in late is queued on the subscription, so a timed-out fetch looks there once more.
Result<MsgPtr> fetchOne(natsSubscription* sub, std::chrono::milliseconds wait,
                        const std::string& queue) {
  jsFetchRequest request;
  jsFetchRequest_Init(&request);
  request.Batch = 1;
  request.Expires = nanos(std::max(wait, std::chrono::milliseconds(1)));
  natsMsgList list{};
  natsStatus s = natsSubscription_FetchRequest(&list, sub, &request);

  int pending = 0;
  if ((s == NATS_TIMEOUT || s == NATS_NOT_FOUND) &&
      natsSubscription_GetPending(sub, &pending, nullptr) == NATS_OK && pending > 0) {
    jsFetchRequest_Init(&request);
    request.Batch = 1;
    request.NoWait = true;
    request.Expires = nanos(std::chrono::milliseconds(100));
    s = natsSubscription_FetchRequest(&list, sub, &request);
  }
  if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND) {
    return MsgPtr();
  }
  if (s != NATS_OK) {
    return natsError(s, "lease", queue);
  }

  // Keep the first message; the list frees the rest (a batch of one has none).
  MsgPtr msg(list.Msgs[0]);
  list.Msgs[0] = nullptr;
  natsMsgList_Destroy(&list);
  return msg;
}

// Creates one of a queue's streams: its subject only, on disk, jobs dropped at max_age,
// repeated ids dropped within the dedup window (which the server wants within max_age).
Status createStream(jsCtx* js, const std::string& name, const std::string& subject,
                    jsRetentionPolicy retention, const QueueSettings& settings) {
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = name.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Retention = retention;
  config.Storage = js_FileStorage;
  config.MaxAge = nanos(settings.max_age);
  config.Duplicates =
      nanos(settings.max_age.count() > 0 ? std::min(settings.dedup_window, settings.max_age)
                                         : settings.dedup_window);
  return addOrUpdateStream(js, config);
}

Status createConsumer(jsCtx* js, const NatsWorkQueue::Streams& streams,
                      const QueueSettings& settings) {
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.Durable = kConsumer;
  config.AckPolicy = js_AckExplicit;
  config.AckWait = nanos(settings.lease);
  config.MaxDeliver = settings.max_deliveries;
  config.FilterSubject = streams.subject.c_str();
  return addOrUpdateConsumer(js, streams.stream.c_str(), config);
}

// The age of the job at `sequence`; zero if it cannot be read.
std::chrono::milliseconds ageOf(jsCtx* js, const std::string& stream, uint64_t sequence) {
  natsMsg* msg = nullptr;
  std::chrono::milliseconds age{0};
  if (js_GetMsg(&msg, js, stream.c_str(), sequence, nullptr, nullptr) == NATS_OK) {
    age = std::chrono::duration_cast<std::chrono::milliseconds>(
        SystemClock::now() - fromEpochNanos(natsMsg_GetTime(msg)));
  }
  natsMsg_Destroy(msg);
  return std::max(age, std::chrono::milliseconds(0));
}

// A queue's stats from the server's counters for its consumer and streams.
Result<QueueStats> readStats(jsCtx* js, const NatsWorkQueue::Streams& streams) {
  jsErrCode js_error = static_cast<jsErrCode>(0);
  jsConsumerInfo* consumer = nullptr;
  jsStreamInfo* jobs = nullptr;
  jsStreamInfo* dead = nullptr;
  natsStatus s =
      js_GetConsumerInfo(&consumer, js, streams.stream.c_str(), kConsumer, nullptr, &js_error);
  if (s == NATS_OK) {
    s = js_GetStreamInfo(&jobs, js, streams.stream.c_str(), nullptr, &js_error);
  }
  if (s == NATS_OK) {
    s = js_GetStreamInfo(&dead, js, streams.dead_stream.c_str(), nullptr, &js_error);
  }

  QueueStats stats;
  if (s == NATS_OK) {
    stats.waiting = consumer->NumPending;
    stats.in_flight = static_cast<uint64_t>(std::max<int64_t>(0, consumer->NumAckPending));
    // Out of deliveries, a job stays in the stream but is neither pending nor in flight.
    uint64_t counted = stats.waiting + stats.in_flight;
    stats.given_up =
        (jobs->State.Msgs > counted ? jobs->State.Msgs - counted : 0) + dead->State.Msgs;
    // The oldest job never delivered follows the last one delivered.
    if (stats.waiting > 0) {
      uint64_t oldest = std::max(consumer->Delivered.Stream + 1, jobs->State.FirstSeq);
      stats.oldest_age = ageOf(js, streams.stream, oldest);
    }
  }
  jsConsumerInfo_Destroy(consumer);
  jsStreamInfo_Destroy(jobs);
  jsStreamInfo_Destroy(dead);
  if (s != NATS_OK) {
    return natsError(s, "stats", streams.queue, js_error);
  }
  return stats;
}

Status notConnected(const NatsConnection& connection, std::string_view queue) {
  return Status::unavailable("nats: lease " + std::string(queue) + ": not connected to " +
                             connection.options().url);
}

}  // namespace

NatsWorkQueue::NatsWorkQueue(std::shared_ptr<NatsConnection> connection, QueueSettings settings)
    : connection_(std::move(connection)), settings_(settings) {}

NatsWorkQueue::~NatsWorkQueue() = default;

Result<std::shared_ptr<NatsWorkQueue::Streams>> NatsWorkQueue::streamsFor(std::string_view queue) {
  std::shared_ptr<Streams> streams;
  {
    std::lock_guard lock(mu_);
    std::shared_ptr<Streams>& entry = streams_[std::string(queue)];
    if (entry == nullptr) {
      std::string token = natsToken(queue);
      entry = std::make_shared<Streams>();
      entry->queue = std::string(queue);
      entry->stream = "CEX_Q_" + token;
      entry->subject = "cex.jobs." + token;
      entry->dead_stream = "CEX_DEAD_" + token;
      entry->dead_subject = "cex.dead." + token;
    }
    streams = entry;
  }
  if (Status s = ensure(*streams); !s.isOk()) {
    return s;
  }
  return streams;
}

Status NatsWorkQueue::ensure(Streams& streams) {
  std::lock_guard lock(streams.mu);
  uint64_t session = connection_->session();
  if (streams.checked_session == session) {
    return Status::ok();
  }
  jsCtx* js = connection_->js();

  // The jobs: removed when acked, dropped at max_age, deduplicated on the job id.
  Status s = createStream(js, streams.stream, streams.subject, js_WorkQueuePolicy, settings_);

  // Terminated jobs: kept as long as a job may live, for inspection.
  if (s.isOk()) {
    s = createStream(js, streams.dead_stream, streams.dead_subject, js_LimitsPolicy, settings_);
  }

  // One durable consumer for every worker: the ack wait is the lease.
  if (s.isOk()) {
    s = createConsumer(js, streams, settings_);
  }
  if (s.isOk()) {
    streams.checked_session = session;
    spdlog::debug("queue ready queue={} stream={}", streams.queue, streams.stream);
  }
  return s;
}

Status NatsWorkQueue::publish(Streams& streams, const Job& job) {
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, streams.subject.c_str(), nullptr, job.payload.data(),
                                static_cast<int>(job.payload.size()));
  MsgPtr msg(raw);
  std::string deadline = std::to_string(epochMs(job.deadline));
  if (s == NATS_OK) {
    s = natsMsgHeader_Set(msg.get(), kDeadlineHeader, deadline.c_str());
  }
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MsgId = job.id.c_str();
  jsErrCode js_error = static_cast<jsErrCode>(0);
  if (s == NATS_OK) {
    s = js_PublishMsg(nullptr, connection_->js(), msg.get(), &options, &js_error);
  }
  return s == NATS_OK ? Status::ok() : natsError(s, "enqueue", streams.queue, js_error);
}

Status NatsWorkQueue::enqueue(std::string_view queue, const Job& job) {
  if (Status s = checkQueueName(queue); !s.isOk()) {
    return s;
  }
  if (Status s = checkJobId(job.id); !s.isOk()) {
    return s;
  }
  if (Status s = connection_->checkConnected("enqueue", queue); !s.isOk()) {
    return s;
  }
  Result<std::shared_ptr<Streams>> streams = streamsFor(queue);
  if (!streams.ok()) {
    return streams.status();
  }
  Status s = publish(**streams, job);

  // Nobody answering while connected means the stream is gone (deleted, or a server that
  // lost its state): create it again, once.
  if (s.code() == StatusCode::Unavailable && connection_->connected()) {
    (*streams)->forget();
    if (Status again = ensure(**streams); !again.isOk()) {
      return again;
    }
    s = publish(**streams, job);
  }
  return s;
}

Result<std::unique_ptr<JobLease>> NatsWorkQueue::lease(std::string_view queue,
                                                       std::chrono::milliseconds wait) {
  if (Status s = checkQueueName(queue); !s.isOk()) {
    return s;
  }
  auto deadline = std::chrono::steady_clock::now() + wait;
  if (!connection_->waitConnected(wait)) {
    return notConnected(*connection_, queue);
  }
  Result<std::shared_ptr<Streams>> streams = streamsFor(queue);
  if (!streams.ok()) {
    return streams.status();
  }

  // A subscription per concurrent lease: one subscription must not fetch twice at once.
  std::shared_ptr<PullSubscription> sub = (*streams)->takeIdle();
  if (sub == nullptr) {
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = (*streams)->stream.c_str();
    options.Consumer = kConsumer;
    natsSubscription* raw = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    natsStatus s = js_PullSubscribe(&raw, connection_->js(), (*streams)->subject.c_str(), kConsumer,
                                    nullptr, &options, &js_error);
    if (s != NATS_OK) {
      (*streams)->forget();
      return natsError(s, "subscribe", queue, js_error);
    }
    sub = std::make_shared<PullSubscription>(raw);
  }

  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  Result<MsgPtr> msg = fetchOne(sub->raw(), left, std::string(queue));
  if (!msg.ok()) {
    // Over a lost link the subscription comes back with the connection; otherwise the
    // consumer may be gone, so everything is checked again next time.
    if (connection_->connected()) {
      (*streams)->forget();
      return msg.status();
    }
    (*streams)->giveBack(std::move(sub));
    return notConnected(*connection_, queue);
  }
  (*streams)->giveBack(sub);
  if (*msg == nullptr) {
    return std::unique_ptr<JobLease>();
  }
  return std::unique_ptr<JobLease>(std::make_unique<NatsLease>(
      connection_, std::move(streams).value(), std::move(sub), std::move(msg).value()));
}

Result<QueueStats> NatsWorkQueue::stats(std::string_view queue) {
  if (Status s = checkQueueName(queue); !s.isOk()) {
    return s;
  }
  if (Status s = connection_->checkConnected("stats", queue); !s.isOk()) {
    return s;
  }
  Result<std::shared_ptr<Streams>> streams = streamsFor(queue);
  if (!streams.ok()) {
    return streams.status();
  }
  Result<QueueStats> stats = readStats(connection_->js(), **streams);
  if (!stats.ok()) {
    (*streams)->forget();
  }
  return stats;
}

}  // namespace cex

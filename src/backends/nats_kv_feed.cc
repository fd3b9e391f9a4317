#include "backends/nats_kv_feed.h"

#include <cstring>

namespace cex {

namespace {

constexpr const char* kOperationHeader = "KV-Operation";

struct MsgDeleter {
  void operator()(natsMsg* msg) const { natsMsg_Destroy(msg); }
};

}  // namespace

NatsKvFeed::NatsKvFeed(std::shared_ptr<NatsConnection> connection, std::string bucket)
    : connection_(std::move(connection)),
      bucket_(std::move(bucket)),
      stream_("KV_" + bucket_),
      key_prefix_("$KV." + bucket_ + ".") {}

Result<std::unique_ptr<NatsKvFeed>> NatsKvFeed::open(std::shared_ptr<NatsConnection> connection,
                                                     const std::string& bucket,
                                                     const std::string& pattern) {
  std::unique_ptr<NatsKvFeed> feed(new NatsKvFeed(std::move(connection), bucket));
  natsConnection* nc = feed->connection_->raw();

  // Subscribe before the consumer exists: the server handles both in order, so nothing it
  // pushes can arrive before there is interest.
  natsInbox* inbox = nullptr;
  natsStatus s = natsInbox_Create(&inbox);
  std::string deliver = s == NATS_OK ? inbox : "";
  natsInbox_Destroy(inbox);
  if (s == NATS_OK) {
    s = natsConnection_SubscribeSync(&feed->sub_, nc, deliver.c_str());
  }
  if (s != NATS_OK) {
    return natsError(s, "watch", bucket);
  }

  // The latest entry per key, then everything after; nothing to acknowledge.
  std::string filter = feed->key_prefix_ + pattern;
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.DeliverSubject = deliver.c_str();
  config.DeliverPolicy = js_DeliverLastPerSubject;
  config.AckPolicy = js_AckNone;
  config.FilterSubject = filter.c_str();
  config.MemoryStorage = true;
  jsConsumerInfo* info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  s = js_AddConsumer(&info, feed->connection_->js(), feed->stream_.c_str(), &config, nullptr,
                     &js_error);
  if (s != NATS_OK) {
    return natsError(s, "watch", bucket, js_error);
  }

  // Nothing stored and nothing delivered yet: there is nothing to catch up on.
  feed->consumer_ = info->Name;
  feed->caught_up_ = info->NumPending == 0 && info->Delivered.Consumer == 0;
  jsConsumerInfo_Destroy(info);
  return feed;
}

NatsKvFeed::~NatsKvFeed() {
  natsSubscription_Unsubscribe(sub_);
  natsSubscription_Destroy(sub_);
  if (!consumer_.empty() && connection_->connected()) {
    js_DeleteConsumer(connection_->js(), stream_.c_str(), consumer_.c_str(), nullptr, nullptr);
  }
}

void NatsKvFeed::interrupt() {
  natsSubscription_Unsubscribe(sub_);
}

Result<std::optional<KvFeedEntry>> NatsKvFeed::next(std::chrono::milliseconds timeout) {
  natsMsg* raw = nullptr;
  natsStatus s = natsSubscription_NextMsg(&raw, sub_, timeout.count());
  if (s == NATS_TIMEOUT) {
    return std::optional<KvFeedEntry>();
  }
  if (s != NATS_OK) {
    return natsError(s, "watch", bucket_);
  }
  std::unique_ptr<natsMsg, MsgDeleter> msg(raw);
  return decode(msg.get());
}

Result<std::optional<KvFeedEntry>> NatsKvFeed::decode(natsMsg* msg) {
  jsMsgMetaData* meta = nullptr;
  natsStatus s = natsMsg_GetMetaData(&meta, msg);
  if (s != NATS_OK) {
    return natsError(s, "watch", bucket_);
  }
  uint64_t sequence = meta->Sequence.Consumer;
  uint64_t pending = meta->NumPending;
  jsMsgMetaData_Destroy(meta);

  // Consumer sequences have no holes; one means a message was dropped on the way.
  if (sequence != next_sequence_) {
    return Status::unavailable("nats: watch " + bucket_ + ": expected message " +
                               std::to_string(next_sequence_) + ", got " +
                               std::to_string(sequence));
  }
  ++next_sequence_;
  caught_up_ = caught_up_ || pending == 0;

  KvFeedEntry entry;
  const char* subject = natsMsg_GetSubject(msg);
  entry.key = std::strncmp(subject, key_prefix_.c_str(), key_prefix_.size()) == 0
                  ? subject + key_prefix_.size()
                  : subject;
  const char* operation = nullptr;
  bool deleted = natsMsgHeader_Get(msg, kOperationHeader, &operation) == NATS_OK &&
                 (std::strcmp(operation, "DEL") == 0 || std::strcmp(operation, "PURGE") == 0);
  if (!deleted) {
    entry.value =
        std::string(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  }
  return std::optional<KvFeedEntry>(std::move(entry));
}

}  // namespace cex

#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backends/key_value.h"
#include "backends/nats_connection.h"

namespace cex {

// Key-value buckets on NATS JetStream KV (one stream per bucket, history 1, file storage, the
// bucket's TTL as the stream's MaxAge). list() and watches read the bucket through a
// NatsKvFeed. A watch has a thread of its own; after every reconnect it opens a fresh feed
// and compares what it reads with what it has passed on, so a watch outlives a server
// restart without repeating itself and learns of keys deleted while it was away.
class NatsKeyValueStore final : public KeyValueStore {
 public:
  explicit NatsKeyValueStore(std::shared_ptr<NatsConnection> connection);
  ~NatsKeyValueStore() override;
  NatsKeyValueStore(const NatsKeyValueStore&) = delete;
  NatsKeyValueStore& operator=(const NatsKeyValueStore&) = delete;

  Status ensureBucket(std::string_view bucket, std::chrono::milliseconds ttl) override;
  Result<std::optional<std::string>> get(std::string_view bucket, std::string_view key) override;
  Status put(std::string_view bucket, std::string_view key, std::string_view value) override;
  Status erase(std::string_view bucket, std::string_view key) override;
  Result<std::vector<std::pair<std::string, std::string>>> list(std::string_view bucket,
                                                                std::string_view prefix) override;
  Result<std::unique_ptr<KeyWatch>> watch(std::string_view bucket, std::string_view prefix,
                                          KeyChangeCallback on_change) override;

  // A bucket bound in this connection; shared with the watches on it.
  class Bucket;

 private:
  // The bucket, bound or (if missing) created on first use.
  Result<std::shared_ptr<Bucket>> bucketFor(std::string_view name, std::string_view operation);
  // Forgets a bound bucket whose stream vanished, so the next use creates it again.
  void forget(std::string_view name);
  Status create(const std::string& name, std::chrono::milliseconds ttl);

  std::shared_ptr<NatsConnection> connection_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Bucket>> buckets_;       // guarded by mu_
  std::unordered_map<std::string, std::chrono::milliseconds> wanted_ttl_;  // guarded by mu_
};

}  // namespace cex

#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "backends/key_value.h"

namespace cex {

// Results shared by routers and workers: the JSON a worker published, stored under the key
// the router derived from the request, so a repeated request never reaches a queue.
// Thread-safe. Misses and store errors look the same: the request goes on to a queue.
class SharedResultCache {
 public:
  virtual ~SharedResultCache() = default;
  virtual std::optional<std::string> get(const std::string& key) = 0;
  virtual void put(const std::string& key, std::string_view json) = 0;
  virtual void clear() = 0;
};

// In this process, bounded by bytes (least recently used first out).
std::unique_ptr<SharedResultCache> makeMemoryResultCache(size_t max_bytes);

// In a key-value bucket with a TTL, shared by every router and worker of a deployment.
// Results over `max_value_bytes` are not stored.
std::unique_ptr<SharedResultCache> makeKvResultCache(std::shared_ptr<KeyValueStore> kv,
                                                     std::chrono::milliseconds ttl,
                                                     size_t max_value_bytes = 256 * 1024);

// `shared` with a near copy in this process (up to `near_bytes`, each entry trusted for
// `near_ttl`), so that a router's repeated hits do not each cost a round trip to the store.
// clear() empties both; another router's near copies live on for at most `near_ttl`.
std::unique_ptr<SharedResultCache> makeLayeredResultCache(
    size_t near_bytes, std::chrono::milliseconds near_ttl,
    std::unique_ptr<SharedResultCache> shared);

}  // namespace cex

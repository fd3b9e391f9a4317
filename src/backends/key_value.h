#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cex {

// A running watch; changes stop arriving when it is destroyed.
class KeyWatch {
 public:
  virtual ~KeyWatch() = default;
};

// Called with a key and its new value, or nullopt when the key was deleted.
using KeyChangeCallback =
    std::function<void(const std::string& key, const std::optional<std::string>& value)>;

// Small consistent key-value buckets with push notifications: the routing table, the active
// colour of each environment, the shared result cache. Thread-safe. Keys are
// [A-Za-z0-9_.=-]+ (callers encode anything else); values are small (well under 1 MiB; large
// data goes to the BlobStore).
class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  // Creates the bucket if needed. `ttl` > 0 makes entries expire that long after their put.
  virtual Status ensureBucket(std::string_view bucket, std::chrono::milliseconds ttl) = 0;
  virtual Result<std::optional<std::string>> get(std::string_view bucket,
                                                 std::string_view key) = 0;
  virtual Status put(std::string_view bucket, std::string_view key, std::string_view value) = 0;
  virtual Status erase(std::string_view bucket, std::string_view key) = 0;
  // Every live key starting with `prefix`, with its value, sorted by key.
  virtual Result<std::vector<std::pair<std::string, std::string>>> list(
      std::string_view bucket, std::string_view prefix) = 0;
  // Calls `on_change` for every live key starting with `prefix` (the current values), then
  // for every later change, on a thread of the store's, until the watch is destroyed.
  virtual Result<std::unique_ptr<KeyWatch>> watch(std::string_view bucket,
                                                  std::string_view prefix,
                                                  KeyChangeCallback on_change) = 0;
};

}  // namespace cex

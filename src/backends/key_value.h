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

// A running watch; changes stop arriving when it is destroyed (a callback that is running
// then finishes first, unless the watch is destroyed from inside its own callback).
class KeyWatch {
 public:
  virtual ~KeyWatch() = default;
  // Waits until the values that were live when the watch started have all been passed to the
  // callback; false if that did not happen within `timeout`. A router uses this to know its
  // table is loaded before it serves.
  virtual bool waitUntilCurrent(std::chrono::milliseconds timeout) = 0;
};

// Called with a key and its new value, or nullopt when the key was deleted.
using KeyChangeCallback =
    std::function<void(const std::string& key, const std::optional<std::string>& value)>;

// Small consistent key-value buckets with push notifications: the routing table, the active
// colour of each environment, the shared result cache. Thread-safe. Bucket names are
// [A-Za-z0-9_-]+; keys are [A-Za-z0-9_.=-]+ without a leading, trailing or doubled '.'
// (callers encode anything else); anything else fails with InvalidArgument. Values are small
// (well under 1 MiB; large data goes to the BlobStore). A bucket used before ensureBucket()
// is created without a TTL.
class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  // Creates the bucket if needed. `ttl` > 0 makes entries expire that long after their put.
  // An existing bucket keeps the TTL it was created with.
  virtual Status ensureBucket(std::string_view bucket, std::chrono::milliseconds ttl) = 0;
  // nullopt when the key is unknown, deleted or expired.
  virtual Result<std::optional<std::string>> get(std::string_view bucket, std::string_view key) = 0;
  virtual Status put(std::string_view bucket, std::string_view key, std::string_view value) = 0;
  // Erasing a missing key is not an error.
  virtual Status erase(std::string_view bucket, std::string_view key) = 0;
  // Every live key starting with `prefix`, with its value, sorted by key.
  virtual Result<std::vector<std::pair<std::string, std::string>>> list(
      std::string_view bucket, std::string_view prefix) = 0;
  // Calls `on_change` for every live key starting with `prefix` (the current values), then
  // for every later put and erase, on a thread of the store's, one call at a time, until the
  // watch is destroyed. Entries that expire by TTL vanish without a call. After a lost
  // connection the watch catches up by itself: keys that changed meanwhile are passed again,
  // keys deleted meanwhile are passed as deleted.
  virtual Result<std::unique_ptr<KeyWatch>> watch(std::string_view bucket, std::string_view prefix,
                                                  KeyChangeCallback on_change) = 0;
};

}  // namespace cex

#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cex {

// Large values that do not fit in a queue message or an events frame (big requests and
// results), stored under a key for a limited time. Thread-safe; values of any size. Keys are
// any non-empty string of at most 1024 bytes (e.g. "sqs-overflow/prod/2024-05-01/<guid>.json").
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Stores `data` under `key`, replacing any older value, until `ttl` has passed (> 0). A
  // backend may cap the TTL (NATS: at its blob bucket's TTL).
  virtual Status put(std::string_view key, std::string_view data,
                     std::chrono::milliseconds ttl) = 0;
  // nullopt when the key is unknown or expired.
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  // Erasing a missing key is not an error.
  virtual Status erase(std::string_view key) = 0;
};

}  // namespace cex

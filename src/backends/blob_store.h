#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cex {

// Large values that do not fit in a queue message or an events frame (big requests and
// results), stored under a key for a limited time. Thread-safe; values of any size.
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual Status put(std::string_view key, std::string_view data, std::chrono::milliseconds ttl) = 0;
  // nullopt when the key is unknown or expired.
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  virtual Status erase(std::string_view key) = 0;
};

}  // namespace cex

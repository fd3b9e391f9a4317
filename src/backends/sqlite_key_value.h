#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/key_value.h"

namespace cex {

// Key-value buckets in one SQLite database (a file, or memory when the path is empty), with
// watches for this process: a watch has a thread of its own that first passes the current
// values, then every put and erase made through this store. A background thread deletes
// expired entries every `sweep_interval`; reads never return them either way.
class SqliteKeyValueStore final : public KeyValueStore {
 public:
  // Opens (and creates if needed) the database at `path`.
  static Result<std::unique_ptr<SqliteKeyValueStore>> open(
      const std::string& path, std::chrono::milliseconds sweep_interval);
  ~SqliteKeyValueStore() override;
  SqliteKeyValueStore(const SqliteKeyValueStore&) = delete;
  SqliteKeyValueStore& operator=(const SqliteKeyValueStore&) = delete;

  Status ensureBucket(std::string_view bucket, std::chrono::milliseconds ttl) override;
  Result<std::optional<std::string>> get(std::string_view bucket, std::string_view key) override;
  Status put(std::string_view bucket, std::string_view key, std::string_view value) override;
  Status erase(std::string_view bucket, std::string_view key) override;
  Result<std::vector<std::pair<std::string, std::string>>> list(std::string_view bucket,
                                                                std::string_view prefix) override;
  Result<std::unique_ptr<KeyWatch>> watch(std::string_view bucket, std::string_view prefix,
                                          KeyChangeCallback on_change) override;

  // The database, statements, watchers and sweeper, shared with the watches.
  struct Impl;

 private:
  explicit SqliteKeyValueStore(std::shared_ptr<Impl> impl);

  std::shared_ptr<Impl> impl_;
};

}  // namespace cex

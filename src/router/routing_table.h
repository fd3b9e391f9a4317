#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/key_value.h"
#include "base/status.h"

namespace cex {

// Where one compiler of one environment is served: on the environment's queue, or by HTTP at
// another environment (compile, cmake and build requests each have their own URL, so a
// forwarded cmake request stays a cmake request).
struct RouteEntry {
  enum class Type { Queue, Url };
  Type type = Type::Queue;
  std::string queue_name;  // the environment's queue, without colour ("prod")
  std::string compile_url;
  std::string cmake_url;
  std::string build_url;  // with "{system}" standing for the build system
  std::string environment;
  std::string updated;  // ISO-8601 UTC

  std::string toJson() const;
  static std::optional<RouteEntry> fromJson(std::string_view json);
};

// The routing table `env#compilerId -> RouteEntry`, kept in a key-value bucket. Readers hold a
// watch, so every router sees a change as soon as it is written and lookups never leave the
// process. Thread-safe.
class RoutingTable {
 public:
  static constexpr const char* kBucket = "CEX_ROUTING";

  explicit RoutingTable(std::shared_ptr<KeyValueStore> kv) : kv_(std::move(kv)) {}

  // Starts watching the bucket (for routers); without it, lookups read the store directly.
  Status watch();
  std::optional<RouteEntry> lookup(std::string_view env, std::string_view compiler_id);
  // Reads the row from the store itself, failing when the store cannot be reached (for tools
  // that must not mistake an outage for a missing row).
  Result<std::optional<RouteEntry>> read(std::string_view env, std::string_view compiler_id);
  Status put(std::string_view env, std::string_view compiler_id, const RouteEntry& entry);
  Status erase(std::string_view env, std::string_view compiler_id);
  // Removes a row by its bucket key (as list() returns it).
  Status eraseKey(std::string_view key);
  // Every row of an environment (all environments when `env` is empty), as bucket key (see
  // key()) -> entry, sorted by key. Rows that are not valid entries are left out.
  Result<std::vector<std::pair<std::string, RouteEntry>>> list(std::string_view env);

  // The bucket key of a row: "<env>.<compiler id>", with bytes other than [A-Za-z0-9_-] of the
  // id written as "=XX".
  static std::string key(std::string_view env, std::string_view compiler_id);

 private:
  std::shared_ptr<KeyValueStore> kv_;
  std::mutex mu_;
  std::map<std::string, RouteEntry, std::less<>> cache_;  // guarded by mu_
  std::unique_ptr<KeyWatch> watch_;
};

// The active colour of every environment ("blue" or "green"), pushed by a watch. On a read
// error the last colour known is kept; an environment never set is "blue". Thread-safe.
class ActiveColours {
 public:
  static constexpr const char* kBucket = "CEX_PARAMS";

  explicit ActiveColours(std::shared_ptr<KeyValueStore> kv) : kv_(std::move(kv)) {}

  Status watch();
  std::string colour(std::string_view env);
  // Reads the colour from the store itself, failing when the store cannot be reached.
  Result<std::string> read(std::string_view env);
  Status set(std::string_view env, std::string_view colour);
  // How many changes the watch has seen, for tests and health.
  uint64_t changes() const;

  static std::string key(std::string_view env) { return std::string(env) + ".active-color"; }

 private:
  std::shared_ptr<KeyValueStore> kv_;
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> colours_;  // guarded by mu_
  uint64_t changes_ = 0;                                     // guarded by mu_
  std::unique_ptr<KeyWatch> watch_;
};

}  // namespace cex

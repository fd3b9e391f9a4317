#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "router/routing_table.h"

namespace cex {

// One compiler as an instance lists it (`/api/compilers?fields=id,exe,remote`).
struct ListedCompiler {
  std::string id;
  std::string exe;
  // For a remote compiler: where it really lives ("https://host", "/gpu/api/compiler/x/compile").
  std::optional<std::string> remote_target;
  std::optional<std::string> remote_path;
};

// How an environment's own compilers are reached.
struct RoutingStrategy {
  RouteEntry::Type type = RouteEntry::Type::Queue;
  // For url routing: the front door of the environments ("http://host:port"); a compiler of
  // environment E is then at <url_base>/E/api/compiler/<id>/....
  std::string url_base;
};

// Compiler Explorer's default: prod, beta and staging compile from queues; gpu, the Windows
// and aarch64 environments and anything remote answer over HTTP.
RoutingStrategy defaultStrategy(std::string_view env, std::string_view url_base);

// The rows an environment should have for the compilers an instance lists.
std::map<std::string, RouteEntry> routingRows(std::string_view env,
                                              const std::vector<ListedCompiler>& compilers,
                                              const RoutingStrategy& strategy,
                                              std::string_view now_iso);

// What an update changes, row by row.
struct RoutingDiff {
  std::vector<std::string> added;
  std::vector<std::string> updated;
  std::vector<std::string> removed;
  size_t unchanged = 0;
};

// Makes the table's rows for `env` equal `rows`: adds, updates (ignoring the timestamp) and
// removes rows; with `dry_run` only reports what it would do.
Result<RoutingDiff> applyRoutingRows(RoutingTable& table, std::string_view env,
                                     const std::map<std::string, RouteEntry>& rows, bool dry_run);

// Parses an instance's `/api/compilers?fields=id,exe,remote` JSON.
Result<std::vector<ListedCompiler>> parseCompilerListing(std::string_view json);

// The current time as ISO-8601 UTC ("2026-12-03T16:00:00Z").
std::string isoNow();

}  // namespace cex

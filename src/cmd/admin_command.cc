#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "cmd/role_links.h"
#include "cmd/roles.h"
#include "net/http_client.h"
#include "router/routing_table.h"
#include "router/routing_update.h"

namespace cex {

namespace {

Result<Backends> adminBackends(const AdminCommandOptions& o) {
  if (!o.sqlite_path.empty()) {
    EmbeddedOptions embedded;
    embedded.sqlite_path = o.sqlite_path;
    return makeEmbeddedBackends(embedded);
  }
  return connectBackends(o.links.nats_url, 20, "cex-admin");
}

int fail(const std::string& message) {
  std::fprintf(stderr, "cex admin: %s\n", message.c_str());
  return 1;
}

Result<std::vector<ListedCompiler>> fetchCompilers(const std::string& from) {
  auto http = HttpClient::create();
  std::string base = from;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  HttpClientRequest request;
  request.url = base + "/api/compilers?fields=id,exe,remote";
  request.headers = {{"Accept", "application/json"}};
  request.timeout = std::chrono::seconds(30);
  auto response = http->fetch(std::move(request));
  if (!response.ok()) {
    return response.status();
  }
  if (response->status != 200) {
    return Status::unavailable(fmt::format("{} answered {}", from, response->status));
  }
  return parseCompilerListing(response->body);
}

void printDiff(const RoutingDiff& diff, bool dry_run) {
  const char* verb = dry_run ? "would " : "";
  std::printf("%sadd %zu, %supdate %zu, %sremove %zu, unchanged %zu\n", verb, diff.added.size(),
              verb, diff.updated.size(), verb, diff.removed.size(), diff.unchanged);
  for (const auto& id : diff.added) {
    std::printf("+ %s\n", id.c_str());
  }
  for (const auto& id : diff.updated) {
    std::printf("~ %s\n", id.c_str());
  }
  for (const auto& id : diff.removed) {
    std::printf("- %s\n", id.c_str());
  }
}

int routingUpdate(RoutingTable& table, const AdminCommandOptions& o, bool dry_run) {
  if (o.from.empty()) {
    return fail("--from http://<instance> is required");
  }
  auto compilers = fetchCompilers(o.from);
  if (!compilers.ok()) {
    return fail(compilers.status().message());
  }
  RoutingStrategy strategy = defaultStrategy(o.env, o.url_base);
  if (o.type == "url" || o.type == "queue") {
    strategy.type = o.type == "url" ? RouteEntry::Type::Url : RouteEntry::Type::Queue;
  }
  if (strategy.type == RouteEntry::Type::Url && strategy.url_base.empty()) {
    return fail("url routing needs --url-base http://<front door>");
  }
  auto diff =
      applyRoutingRows(table, o.env, routingRows(o.env, *compilers, strategy, isoNow()), dry_run);
  if (!diff.ok()) {
    return fail(diff.status().message());
  }
  printDiff(*diff, dry_run);
  bool differs = !diff->added.empty() || !diff->updated.empty() || !diff->removed.empty();
  return o.action == "validate" && differs ? 3 : 0;
}

int routingStatus(RoutingTable& table, const AdminCommandOptions& o) {
  auto rows = table.list(o.env == "all" ? "" : o.env);
  if (!rows.ok()) {
    return fail(rows.status().message());
  }
  std::map<std::string, std::map<std::string, int>> counts;
  for (const auto& [key, entry] : *rows) {
    std::string env = key.substr(0, key.find('.'));
    std::string where = entry.type == RouteEntry::Type::Url ? "url " + entry.environment
                                                            : "queue " + entry.queue_name;
    ++counts[env][where];
  }
  for (const auto& [env, by_route] : counts) {
    for (const auto& [where, n] : by_route) {
      std::printf("%s\t%s\t%d\n", env.c_str(), where.c_str(), n);
    }
  }
  return 0;
}

int routing(const AdminCommandOptions& o, Backends& backends) {
  RoutingTable table(backends.kv);
  if (o.action == "update" || o.action == "validate") {
    return routingUpdate(table, o, o.dry_run || o.action == "validate");
  }
  if (o.action == "lookup") {
    if (o.argument.empty()) {
      return fail("routing lookup needs a compiler id: cex admin routing lookup <id> --env E");
    }
    auto entry = table.read(o.env, o.argument);
    if (!entry.ok()) {
      return fail(entry.status().message());
    }
    if (!*entry) {
      return fail("no route for " + o.env + "#" + o.argument);
    }
    std::printf("%s\n", (*entry)->toJson().c_str());
    return 0;
  }
  if (o.action == "status") {
    return routingStatus(table, o);
  }
  if (o.action == "clear") {
    auto diff = applyRoutingRows(table, o.env, {}, o.dry_run);
    if (!diff.ok()) {
      return fail(diff.status().message());
    }
    printDiff(*diff, o.dry_run);
    return 0;
  }
  return fail("routing: unknown action " + o.action + " (update, validate, lookup, status, clear)");
}

int colour(const AdminCommandOptions& o, Backends& backends) {
  ActiveColours colours(backends.kv);
  if (o.action == "get") {
    auto current = colours.read(o.env);
    if (!current.ok()) {
      return fail(current.status().message());
    }
    std::printf("%s\n", current->c_str());
    return 0;
  }
  if (o.action == "set") {
    Status s = colours.set(o.env, o.argument);
    return s.isOk() ? 0 : fail(s.message());
  }
  return fail("color: unknown action " + o.action + " (get, set)");
}

}  // namespace

int runAdminCommand(const AdminCommandOptions& o) {
  auto backends = adminBackends(o);
  if (!backends.ok()) {
    return fail(backends.status().message());
  }
  if (o.what == "routing") {
    return routing(o, *backends);
  }
  if (o.what == "color") {
    return colour(o, *backends);
  }
  return fail("unknown subject " + o.what + " (routing, color)");
}

}  // namespace cex

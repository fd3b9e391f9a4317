#include "router/routing_update.h"

#include <ctime>

#include <boost/json.hpp>

namespace cex {

namespace json = boost::json;

namespace {

std::string urlFor(std::string_view base, std::string_view env, std::string_view id,
                   std::string_view tail) {
  std::string url(base);
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url + "/" + std::string(env) + "/api/compiler/" + std::string(id) + "/" +
         std::string(tail);
}

RouteEntry urlEntry(std::string_view base, std::string_view env, std::string_view id) {
  RouteEntry e;
  e.type = RouteEntry::Type::Url;
  e.compile_url = urlFor(base, env, id, "compile");
  e.cmake_url = urlFor(base, env, id, "cmake");
  e.build_url = urlFor(base, env, id, "build/{system}");
  e.environment = std::string(env);
  return e;
}

// A remote compiler's own environment: the first segment of its path ("/gpu/api/...").
std::string remoteEnv(const std::string& path) {
  size_t start = path.find_first_not_of('/');
  if (start == std::string::npos) {
    return {};
  }
  size_t end = path.find('/', start);
  return path.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

RouteEntry remoteEntry(const ListedCompiler& c) {
  RouteEntry e;
  e.type = RouteEntry::Type::Url;
  std::string target = *c.remote_target;
  if (target.ends_with(":443")) {
    target.resize(target.size() - 4);
  }
  std::string path = *c.remote_path;
  e.compile_url = target + path;
  std::string base = path.ends_with("/compile") ? path.substr(0, path.size() - 8) : path;
  e.cmake_url = target + base + "/cmake";
  e.build_url = target + base + "/build/{system}";
  e.environment = remoteEnv(path);
  return e;
}

std::string str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

RoutingStrategy defaultStrategy(std::string_view env, std::string_view url_base) {
  RoutingStrategy s;
  s.url_base = std::string(url_base);
  bool queued =
      env == "prod" || env == "beta" || env == "staging" || env == "local" || url_base.empty();
  s.type = queued ? RouteEntry::Type::Queue : RouteEntry::Type::Url;
  return s;
}

std::map<std::string, RouteEntry> routingRows(std::string_view env,
                                              const std::vector<ListedCompiler>& compilers,
                                              const RoutingStrategy& strategy,
                                              std::string_view now_iso) {
  std::map<std::string, RouteEntry> rows;
  for (const auto& c : compilers) {
    bool remote = (c.exe.empty() || c.exe == "/dev/null") && c.remote_target && c.remote_path;
    RouteEntry e;
    if (remote) {
      e = remoteEntry(c);
    } else if (strategy.type == RouteEntry::Type::Url) {
      e = urlEntry(strategy.url_base, env, c.id);
    } else {
      e.type = RouteEntry::Type::Queue;
      e.queue_name = std::string(env);
      e.environment = std::string(env);
    }
    e.updated = std::string(now_iso);
    rows[c.id] = std::move(e);
  }
  return rows;
}

Result<RoutingDiff> applyRoutingRows(RoutingTable& table, std::string_view env,
                                     const std::map<std::string, RouteEntry>& rows, bool dry_run) {
  auto existing = table.list(env);
  if (!existing.ok()) {
    return existing.status();
  }
  std::map<std::string, RouteEntry> current(existing->begin(), existing->end());
  RoutingDiff diff;
  for (const auto& [id, entry] : rows) {
    auto it = current.find(RoutingTable::key(env, id));
    bool found = it != current.end();
    if (found) {
      // The timestamp alone is no change.
      RouteEntry same_time = entry;
      same_time.updated = it->second.updated;
      bool same = same_time.toJson() == it->second.toJson();
      current.erase(it);
      if (same) {
        ++diff.unchanged;
        continue;
      }
    }
    (found ? diff.updated : diff.added).push_back(id);
    if (!dry_run) {
      if (Status s = table.put(env, id, entry); !s.isOk()) {
        return s;
      }
    }
  }
  for (const auto& [key, entry] : current) {
    diff.removed.push_back(key.substr(env.size() + 1));
    if (!dry_run) {
      if (Status s = table.eraseKey(key); !s.isOk()) {
        return s;
      }
    }
  }
  return diff;
}

Result<std::vector<ListedCompiler>> parseCompilerListing(std::string_view text) {
  json::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec || !doc.is_array()) {
    return Status::invalidArgument("compiler listing is not a JSON array");
  }
  std::vector<ListedCompiler> out;
  for (const auto& item : doc.get_array()) {
    if (!item.is_object()) {
      continue;
    }
    const json::object& o = item.get_object();
    ListedCompiler c{str(o, "id"), str(o, "exe"), std::nullopt, std::nullopt};
    const json::value* remote = o.if_contains("remote");
    if (remote != nullptr && remote->is_object()) {
      c.remote_target = str(remote->get_object(), "target");
      c.remote_path = str(remote->get_object(), "path");
    }
    if (!c.id.empty()) {
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::string isoNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace cex

#include "router/routing_table.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "base/json_writer.h"

namespace cex {

namespace json = boost::json;

namespace {

constexpr std::chrono::seconds kLoadTimeout{10};

// A watch on the whole of `bucket` that has passed every stored entry to `on_change` before it
// is returned, so its owner never answers from a half-loaded copy.
Result<std::unique_ptr<KeyWatch>> loadedWatch(KeyValueStore& kv, const char* bucket,
                                              KeyChangeCallback on_change) {
  if (Status s = kv.ensureBucket(bucket, std::chrono::milliseconds(0)); !s.isOk()) {
    return s;
  }
  auto watch = kv.watch(bucket, "", std::move(on_change));
  if (!watch.ok()) {
    return watch.status();
  }
  if (!(*watch)->waitUntilCurrent(kLoadTimeout)) {
    return Status::unavailable(std::string("could not load the bucket ") + bucket);
  }
  return watch;
}

const char* typeName(RouteEntry::Type type) {
  return type == RouteEntry::Type::Url ? "url" : "queue";
}

std::string member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

std::string RouteEntry::toJson() const {
  std::string out;
  JsonWriter w(&out);
  w.beginObject();
  w.key("type").string(typeName(type));
  w.key("queueName").string(queue_name);
  w.key("compileUrl").string(compile_url);
  w.key("cmakeUrl").string(cmake_url);
  w.key("buildUrl").string(build_url);
  w.key("environment").string(environment);
  w.key("updated").string(updated);
  w.endObject();
  return out;
}

std::optional<RouteEntry> RouteEntry::fromJson(std::string_view text) {
  json::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec || !doc.is_object()) {
    return std::nullopt;
  }
  const json::object& o = doc.get_object();
  RouteEntry e;
  e.type = member(o, "type") == "url" ? Type::Url : Type::Queue;
  e.queue_name = member(o, "queueName");
  e.compile_url = member(o, "compileUrl");
  e.cmake_url = member(o, "cmakeUrl");
  e.build_url = member(o, "buildUrl");
  e.environment = member(o, "environment");
  e.updated = member(o, "updated");
  return e;
}

std::string RoutingTable::key(std::string_view env, std::string_view compiler_id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string k(env);
  k.push_back('.');
  for (char c : compiler_id) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '_' || c == '-') {
      k.push_back(c);
    } else {
      k.push_back('=');
      k.push_back(kHex[u >> 4]);
      k.push_back(kHex[u & 15]);
    }
  }
  return k;
}

Status RoutingTable::watch() {
  auto watch = loadedWatch(
      *kv_, kBucket, [this](const std::string& key, const std::optional<std::string>& value) {
        std::lock_guard lock(mu_);
        std::optional<RouteEntry> entry = value ? RouteEntry::fromJson(*value) : std::nullopt;
        if (entry) {
          cache_[key] = std::move(*entry);
        } else {
          cache_.erase(key);
        }
      });
  if (!watch.ok()) {
    return watch.status();
  }
  watch_ = std::move(watch).value();
  return Status::ok();
}

Result<std::optional<RouteEntry>> RoutingTable::read(std::string_view env,
                                                     std::string_view compiler_id) {
  auto value = kv_->get(kBucket, key(env, compiler_id));
  if (!value.ok()) {
    return value.status();
  }
  return *value ? RouteEntry::fromJson(**value) : std::nullopt;
}

std::optional<RouteEntry> RoutingTable::lookup(std::string_view env, std::string_view compiler_id) {
  std::string k = key(env, compiler_id);
  if (watch_) {
    std::lock_guard lock(mu_);
    auto it = cache_.find(k);
    return it == cache_.end() ? std::nullopt : std::optional<RouteEntry>(it->second);
  }
  auto value = kv_->get(kBucket, k);
  if (!value.ok() || !*value) {
    return std::nullopt;
  }
  return RouteEntry::fromJson(**value);
}

Status RoutingTable::put(std::string_view env, std::string_view compiler_id,
                         const RouteEntry& entry) {
  if (Status s = kv_->ensureBucket(kBucket, std::chrono::milliseconds(0)); !s.isOk()) {
    return s;
  }
  return kv_->put(kBucket, key(env, compiler_id), entry.toJson());
}

Status RoutingTable::erase(std::string_view env, std::string_view compiler_id) {
  return kv_->erase(kBucket, key(env, compiler_id));
}

Status RoutingTable::eraseKey(std::string_view key) {
  return kv_->erase(kBucket, key);
}

Result<std::vector<std::pair<std::string, RouteEntry>>> RoutingTable::list(std::string_view env) {
  if (Status s = kv_->ensureBucket(kBucket, std::chrono::milliseconds(0)); !s.isOk()) {
    return s;
  }
  auto rows = kv_->list(kBucket, env.empty() ? "" : std::string(env) + ".");
  if (!rows.ok()) {
    return rows.status();
  }
  std::vector<std::pair<std::string, RouteEntry>> out;
  for (auto& [k, v] : *rows) {
    if (auto entry = RouteEntry::fromJson(v)) {
      out.emplace_back(k, std::move(*entry));
    }
  }
  return out;
}

Status ActiveColours::watch() {
  auto watch = loadedWatch(
      *kv_, kBucket, [this](const std::string& key, const std::optional<std::string>& value) {
        constexpr std::string_view kSuffix = ".active-color";
        if (!key.ends_with(kSuffix) || !value || (*value != "blue" && *value != "green")) {
          return;  // A deletion or a bad value keeps the colour known last.
        }
        std::string env = key.substr(0, key.size() - kSuffix.size());
        std::lock_guard lock(mu_);
        colours_[env] = *value;
        ++changes_;
        spdlog::info("colour active env={} colour={}", env, *value);
      });
  if (!watch.ok()) {
    return watch.status();
  }
  watch_ = std::move(watch).value();
  return Status::ok();
}

std::string ActiveColours::colour(std::string_view env) {
  // Without a watch nothing would update the map, so the store is read every time and the map
  // only stands in for it when a read fails.
  if (!watch_) {
    auto value = kv_->get(kBucket, key(env));
    if (value.ok() && *value && (**value == "blue" || **value == "green")) {
      std::lock_guard lock(mu_);
      colours_[std::string(env)] = **value;
      return **value;
    }
  }
  std::lock_guard lock(mu_);
  auto it = colours_.find(env);
  return it != colours_.end() ? it->second : "blue";
}

Result<std::string> ActiveColours::read(std::string_view env) {
  auto value = kv_->get(kBucket, key(env));
  if (!value.ok()) {
    return value.status();
  }
  if (*value && (**value == "blue" || **value == "green")) {
    return **value;
  }
  return std::string("blue");
}

Status ActiveColours::set(std::string_view env, std::string_view colour) {
  if (colour != "blue" && colour != "green") {
    return Status::invalidArgument("colour must be blue or green, not " + std::string(colour));
  }
  if (Status s = kv_->ensureBucket(kBucket, std::chrono::milliseconds(0)); !s.isOk()) {
    return s;
  }
  return kv_->put(kBucket, key(env), colour);
}

uint64_t ActiveColours::changes() const {
  std::lock_guard lock(mu_);
  return changes_;
}

}  // namespace cex

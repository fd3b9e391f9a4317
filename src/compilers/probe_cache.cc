#include "compilers/probe_cache.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "base/files.h"
#include "base/json_writer.h"

namespace cex {

namespace {

namespace json = boost::json;

// Bumped whenever the probes change what they record, so older files are ignored.
constexpr int64_t kCacheFormat = 1;

constexpr const char* kCacheFileName = "compiler-probes.json";

// A cache file holds a few hundred entries at most.
constexpr uint64_t kMaxCacheBytes = 64 * 1024 * 1024;

std::string stringField(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  const json::string* s = v == nullptr ? nullptr : v->if_string();
  return s == nullptr ? std::string() : std::string(*s);
}

std::optional<int64_t> intField(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  int64_t n = v->to_number<int64_t>(ec);
  return ec ? std::nullopt : std::optional<int64_t>(n);
}

bool boolField(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

void writeEntry(JsonWriter* w, const std::string& exe, const FileStamp& stamp,
                const ProbeOutcome& outcome) {
  w->beginObject();
  w->key("exe").string(exe);
  w->key("size").integer(static_cast<int64_t>(stamp.size));
  w->key("mtime_ns").integer(stamp.mtime_ns);
  if (!outcome.result) {
    w->key("error").string(outcome.error);
    w->endObject();
    return;
  }
  const ProbeResult& r = *outcome.result;
  w->key("version").string(r.version);
  w->key("full_version").string(r.full_version);
  w->key("target").string(r.target);
  w->key("masm_intel").boolean(r.accepts_masm_intel);
  if (!r.resolved_exe.empty()) {
    w->key("resolved_exe").string(r.resolved_exe);
    w->key("resolved_size").integer(static_cast<int64_t>(r.resolved_stamp.size));
    w->key("resolved_mtime_ns").integer(r.resolved_stamp.mtime_ns);
  }
  w->endObject();
}

// One entry of the file; nullopt when a required field is missing.
std::optional<std::pair<std::string, FileStamp>> readKey(const json::object& obj) {
  std::string exe = stringField(obj, "exe");
  std::optional<int64_t> size = intField(obj, "size");
  std::optional<int64_t> mtime = intField(obj, "mtime_ns");
  if (exe.empty() || !size || !mtime) {
    return std::nullopt;
  }
  return std::make_pair(exe, FileStamp{static_cast<uint64_t>(*size), *mtime});
}

ProbeOutcome readOutcome(const json::object& obj) {
  ProbeOutcome outcome;
  if (obj.contains("error")) {
    outcome.error = stringField(obj, "error");
    return outcome;
  }
  ProbeResult r;
  r.version = stringField(obj, "version");
  r.full_version = stringField(obj, "full_version");
  r.target = stringField(obj, "target");
  r.accepts_masm_intel = boolField(obj, "masm_intel");
  r.resolved_exe = stringField(obj, "resolved_exe");
  r.resolved_stamp.size = static_cast<uint64_t>(intField(obj, "resolved_size").value_or(0));
  r.resolved_stamp.mtime_ns = intField(obj, "resolved_mtime_ns").value_or(0);
  outcome.result = std::move(r);
  return outcome;
}

}  // namespace

ProbeCache ProbeCache::load(const std::string& cache_dir, std::vector<std::string>* warnings) {
  ProbeCache cache;
  if (cache_dir.empty()) {
    return cache;
  }
  cache.path_ = cache_dir + "/" + kCacheFileName;

  Result<std::string> text = readFile(cache.path_, kMaxCacheBytes);
  if (!text.ok()) {
    if (text.status().code() != StatusCode::NotFound) {
      warnings->push_back("probe cache unreadable: " + text.status().message());
      spdlog::warn("discovery probe cache unreadable path={} error=\"{}\"", cache.path_,
                   text.status().message());
    }
    return cache;
  }
  if (!cache.parse(*text)) {
    cache.entries_.clear();
    cache.dirty_ = true;  // Replace the bad file on the next save.
    warnings->push_back("probe cache ignored, not a cache file: " + cache.path_);
    spdlog::warn("discovery probe cache ignored path={} reason=\"not a cache file\"", cache.path_);
  }
  return cache;
}

bool ProbeCache::parse(const std::string& text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  const json::object* root = ec ? nullptr : doc.if_object();
  if (root == nullptr || intField(*root, "format") != kCacheFormat) {
    return false;
  }
  const json::value* probes = root->if_contains("probes");
  if (probes == nullptr || !probes->is_array()) {
    return false;
  }
  for (const json::value& item : probes->get_array()) {
    const json::object* obj = item.if_object();
    std::optional<std::pair<std::string, FileStamp>> key;
    if (obj == nullptr || !(key = readKey(*obj))) {
      return false;
    }
    entries_[key->first] = Entry{key->second, readOutcome(*obj)};
  }
  return true;
}

const ProbeOutcome* ProbeCache::find(const std::string& exe, const FileStamp& stamp) const {
  auto it = entries_.find(exe);
  if (it == entries_.end() || it->second.stamp != stamp) {
    return nullptr;
  }
  // A rustup proxy stays the same while the toolchain behind it is updated.
  const std::optional<ProbeResult>& result = it->second.outcome.result;
  if (result && !result->resolved_exe.empty()) {
    Result<FileStamp> resolved = stampFile(result->resolved_exe);
    if (!resolved.ok() || *resolved != result->resolved_stamp) {
      return nullptr;
    }
  }
  return &it->second.outcome;
}

void ProbeCache::store(const std::string& exe, const FileStamp& stamp, ProbeOutcome outcome) {
  entries_[exe] = Entry{stamp, std::move(outcome)};
  dirty_ = true;
}

std::string ProbeCache::serialize() const {
  std::string out;
  JsonWriter w(&out);
  w.beginObject().key("format").integer(kCacheFormat).key("probes").beginArray();
  for (const auto& [exe, entry] : entries_) {
    // Entries of executables that changed or went away would never match again.
    Result<FileStamp> now = stampFile(exe);
    if (now.ok() && *now == entry.stamp) {
      writeEntry(&w, exe, entry.stamp, entry.outcome);
    }
  }
  w.endArray().endObject();
  out.push_back('\n');
  return out;
}

Status ProbeCache::save() {
  if (path_.empty() || !dirty_) {
    return Status::ok();
  }
  Status s = makeDirectories(path_.substr(0, path_.rfind('/')));
  if (s.isOk()) {
    s = writeFileAtomically(path_, serialize());
  }
  if (s.isOk()) {
    dirty_ = false;
  }
  return s;
}

}  // namespace cex

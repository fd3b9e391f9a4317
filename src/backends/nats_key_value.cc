#include "backends/nats_key_value.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <thread>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "backends/naming.h"

namespace cex {

namespace {

// How long one read of a watcher waits before the watch thread looks at its flags again.
constexpr int64_t kWatchPollMs = 250;
// The pause before a watch tries again to set up a watcher that failed.
constexpr auto kWatchRetry = std::chrono::milliseconds(200);

// The subjects a watcher must read for `prefix`: the tokens below a prefix ending in '.', or
// every key (the rest is filtered by the reader).
std::string watchPattern(std::string_view prefix) {
  if (prefix.size() > 1 && prefix.back() == '.' &&
      checkKey(prefix.substr(0, prefix.size() - 1)).isOk()) {
    return std::string(prefix) + ">";
  }
  return ">";
}

std::string entryValue(kvEntry* entry) {
  const void* data = kvEntry_Value(entry);
  int size = kvEntry_ValueLen(entry);
  return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
}

bool isDeletion(kvEntry* entry) {
  kvOperation op = kvEntry_Operation(entry);
  return op == kvOp_Delete || op == kvOp_Purge;
}

struct EntryDeleter {
  void operator()(kvEntry* entry) const { kvEntry_Destroy(entry); }
};

using EntryPtr = std::unique_ptr<kvEntry, EntryDeleter>;

struct WatcherDeleter {
  void operator()(kvWatcher* watcher) const { kvWatcher_Destroy(watcher); }
};

using WatcherPtr = std::unique_ptr<kvWatcher, WatcherDeleter>;

}  // namespace

class NatsKeyValueStore::Bucket {
 public:
  Bucket(std::string name, kvStore* kv) : name_(std::move(name)), kv_(kv) {}

  ~Bucket() { kvStore_Destroy(kv_); }

  Bucket(const Bucket&) = delete;
  Bucket& operator=(const Bucket&) = delete;

  const std::string& name() const { return name_; }

  kvStore* raw() const { return kv_; }

 private:
  std::string name_;
  kvStore* kv_;
};

namespace {

using Bucket = NatsKeyValueStore::Bucket;

// Reads the latest live value of every key under `prefix`: a watcher delivers them, then a
// null entry once it has caught up.
Result<std::vector<std::pair<std::string, std::string>>> readAll(const Bucket& bucket,
                                                                 std::string_view prefix,
                                                                 std::chrono::milliseconds wait) {
  kvWatchOptions options;
  kvWatchOptions_Init(&options);
  options.IgnoreDeletes = true;
  kvWatcher* raw = nullptr;
  natsStatus s = kvStore_Watch(&raw, bucket.raw(), watchPattern(prefix).c_str(), &options);
  if (s != NATS_OK) {
    return natsError(s, "list", bucket.name());
  }
  WatcherPtr watcher(raw);
  std::vector<std::pair<std::string, std::string>> entries;
  while (true) {
    kvEntry* next = nullptr;
    s = kvWatcher_Next(&next, watcher.get(), wait.count());
    if (s != NATS_OK) {
      return natsError(s, "list", bucket.name());
    }
    if (next == nullptr) {
      break;
    }
    EntryPtr entry(next);
    std::string key = kvEntry_Key(entry.get());
    if (key.starts_with(prefix) && !isDeletion(entry.get())) {
      entries.emplace_back(std::move(key), entryValue(entry.get()));
    }
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

// What a watch shares with its thread.
struct WatchState {
  std::shared_ptr<NatsConnection> connection;
  std::shared_ptr<Bucket> bucket;
  std::string prefix;
  KeyChangeCallback callback;

  std::mutex mu;
  std::condition_variable changed;
  bool stopping = false;         // guarded by mu
  bool current = false;          // guarded by mu
  kvWatcher* watcher = nullptr;  // guarded by mu; owned by the thread, stopped by the watch

  // Thread only: what has been passed on, and the keys seen while reading a fresh watcher's
  // initial values (nullopt once they are all read).
  std::unordered_map<std::string, std::string> passed;
  std::optional<std::unordered_set<std::string>> catching_up;
  bool first_snapshot = true;
};

void call(WatchState& state, const std::string& key, const std::optional<std::string>& value) {
  try {
    state.callback(key, value);
  } catch (const std::exception& e) {
    spdlog::error("kv watch callback threw bucket={} key={} error={}", state.bucket->name(), key,
                  e.what());
  } catch (...) {
    spdlog::error("kv watch callback threw bucket={} key={}", state.bucket->name(), key);
  }
}

// Passes one watcher entry on. While a fresh watcher after a reconnect replays the current
// values, values already passed on are skipped.
void handleEntry(WatchState& state, kvEntry* entry) {
  std::string key = kvEntry_Key(entry);
  if (!key.starts_with(state.prefix)) {
    return;
  }
  if (isDeletion(entry)) {
    if (state.passed.erase(key) > 0) {
      call(state, key, std::nullopt);
    }
    return;
  }
  std::string value = entryValue(entry);
  if (state.catching_up.has_value()) {
    state.catching_up->insert(key);
    auto before = state.passed.find(key);
    if (!state.first_snapshot && before != state.passed.end() && before->second == value) {
      return;
    }
  }
  state.passed[key] = value;
  call(state, key, value);
}

// The initial values are all read: keys passed on earlier but gone now were deleted while
// the watch was away.
void finishSnapshot(WatchState& state) {
  for (auto it = state.passed.begin(); it != state.passed.end();) {
    if (state.catching_up->contains(it->first)) {
      ++it;
      continue;
    }
    std::string key = it->first;
    it = state.passed.erase(it);
    call(state, key, std::nullopt);
  }
  state.catching_up.reset();
  state.first_snapshot = false;
  std::lock_guard lock(state.mu);
  state.current = true;
  state.changed.notify_all();
}

// Waits up to `wait` unless the watch is stopping; true if it is.
bool pause(WatchState& state, std::chrono::milliseconds wait) {
  std::unique_lock lock(state.mu);
  return state.changed.wait_for(lock, wait, [&] { return state.stopping; });
}

// Sets up a watcher for the current connection session; null if the watch is stopping or
// the server cannot be reached now.
WatcherPtr startWatcher(WatchState& state) {
  if (!state.connection->connected()) {
    return nullptr;
  }
  kvWatcher* raw = nullptr;
  natsStatus s =
      kvStore_Watch(&raw, state.bucket->raw(), watchPattern(state.prefix).c_str(), nullptr);
  if (s != NATS_OK) {
    spdlog::debug("kv watch retrying bucket={} error={}", state.bucket->name(),
                  natsError(s, "watch", state.bucket->name()).message());
    return nullptr;
  }
  WatcherPtr watcher(raw);
  std::lock_guard lock(state.mu);
  if (state.stopping) {
    return nullptr;
  }
  state.watcher = watcher.get();
  state.catching_up.emplace();
  return watcher;
}

void dropWatcher(WatchState& state, WatcherPtr& watcher) {
  {
    std::lock_guard lock(state.mu);
    state.watcher = nullptr;
  }
  watcher.reset();
}

// The watch thread: one watcher per connection session, read until the watch stops.
void runWatch(const std::shared_ptr<WatchState>& state) {
  WatcherPtr watcher;
  uint64_t session = 0;
  while (true) {
    if (watcher != nullptr && session != state->connection->session()) {
      dropWatcher(*state, watcher);
    }
    if (watcher == nullptr) {
      session = state->connection->session();
      watcher = startWatcher(*state);
      if (watcher == nullptr && pause(*state, kWatchRetry)) {
        return;
      }
      continue;
    }
    kvEntry* next = nullptr;
    natsStatus s = kvWatcher_Next(&next, watcher.get(), kWatchPollMs);
    if (pause(*state, std::chrono::milliseconds(0))) {
      kvEntry_Destroy(next);
      dropWatcher(*state, watcher);
      return;
    }
    if (s == NATS_TIMEOUT) {
      continue;
    }
    if (s != NATS_OK) {
      dropWatcher(*state, watcher);
      continue;
    }
    EntryPtr entry(next);
    if (entry == nullptr) {
      finishSnapshot(*state);
    } else {
      handleEntry(*state, entry.get());
    }
  }
}

// What NatsKeyValueStore::watch returns: stops the thread when destroyed.
class NatsKeyWatch final : public KeyWatch {
 public:
  explicit NatsKeyWatch(std::shared_ptr<WatchState> state) : state_(std::move(state)) {
    thread_ = std::thread([state = state_] { runWatch(state); });
  }

  ~NatsKeyWatch() override {
    {
      std::lock_guard lock(state_->mu);
      state_->stopping = true;
      if (state_->watcher != nullptr) {
        kvWatcher_Stop(state_->watcher);
      }
      state_->changed.notify_all();
    }
    // From inside the callback, the thread ends by itself once the callback returns.
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }

  NatsKeyWatch(const NatsKeyWatch&) = delete;
  NatsKeyWatch& operator=(const NatsKeyWatch&) = delete;

  bool waitUntilCurrent(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(state_->mu);
    return state_->changed.wait_for(lock, timeout, [&] { return state_->current; });
  }

 private:
  std::shared_ptr<WatchState> state_;
  std::thread thread_;
};

}  // namespace

NatsKeyValueStore::NatsKeyValueStore(std::shared_ptr<NatsConnection> connection)
    : connection_(std::move(connection)) {}

NatsKeyValueStore::~NatsKeyValueStore() = default;

Status NatsKeyValueStore::create(const std::string& name, std::chrono::milliseconds ttl) {
  kvConfig config;
  kvConfig_Init(&config);
  config.Bucket = name.c_str();
  config.History = 1;
  config.TTL = ttl.count() * 1000000;
  config.StorageType = js_FileStorage;
  kvStore* kv = nullptr;
  natsStatus s = js_CreateKeyValue(&kv, connection_->js(), &config);

  // Another process may have made it first, or with another TTL; an existing bucket stays.
  if (s != NATS_OK) {
    Status created = natsError(s, "create bucket", name);
    s = js_KeyValue(&kv, connection_->js(), name.c_str());
    if (s != NATS_OK) {
      return created;
    }
    spdlog::warn("kv bucket kept with its own settings bucket={} note={}", name, created.message());
  }
  buckets_[name] = std::make_shared<Bucket>(name, kv);
  return Status::ok();
}

Result<std::shared_ptr<NatsKeyValueStore::Bucket>> NatsKeyValueStore::bucketFor(
    std::string_view name, std::string_view operation) {
  if (Status s = checkBucketName(name); !s.isOk()) {
    return s;
  }
  if (Status s = connection_->checkConnected(operation, name); !s.isOk()) {
    return s;
  }
  std::lock_guard lock(mu_);
  std::string key(name);
  if (auto it = buckets_.find(key); it != buckets_.end()) {
    return it->second;
  }
  kvStore* kv = nullptr;
  natsStatus s = js_KeyValue(&kv, connection_->js(), key.c_str());
  if (s == NATS_OK) {
    return buckets_[key] = std::make_shared<Bucket>(key, kv);
  }
  if (s != NATS_NOT_FOUND) {
    return natsError(s, operation, name);
  }
  auto wanted = wanted_ttl_.find(key);
  Status created =
      create(key, wanted == wanted_ttl_.end() ? std::chrono::milliseconds(0) : wanted->second);
  if (!created.isOk()) {
    return created;
  }
  return buckets_[key];
}

void NatsKeyValueStore::forget(std::string_view name) {
  std::lock_guard lock(mu_);
  buckets_.erase(std::string(name));
}

Status NatsKeyValueStore::ensureBucket(std::string_view bucket, std::chrono::milliseconds ttl) {
  if (Status s = checkBucketName(bucket); !s.isOk()) {
    return s;
  }
  if (Status s = connection_->checkConnected("create bucket", bucket); !s.isOk()) {
    return s;
  }
  std::lock_guard lock(mu_);
  std::string name(bucket);
  wanted_ttl_[name] = ttl;
  if (buckets_.contains(name)) {
    return Status::ok();
  }
  return create(name, ttl);
}

Result<std::optional<std::string>> NatsKeyValueStore::get(std::string_view bucket,
                                                          std::string_view key) {
  if (Status s = checkKey(key); !s.isOk()) {
    return s;
  }
  Result<std::shared_ptr<Bucket>> handle = bucketFor(bucket, "get");
  if (!handle.ok()) {
    return handle.status();
  }
  kvEntry* raw = nullptr;
  natsStatus s = kvStore_Get(&raw, (*handle)->raw(), std::string(key).c_str());
  EntryPtr entry(raw);
  if (s == NATS_NOT_FOUND) {
    return std::optional<std::string>();
  }
  if (s != NATS_OK) {
    return natsError(s, "get", bucket);
  }
  return std::optional<std::string>(entryValue(entry.get()));
}

Status NatsKeyValueStore::put(std::string_view bucket, std::string_view key,
                              std::string_view value) {
  if (Status s = checkKey(key); !s.isOk()) {
    return s;
  }
  std::string key_text(key);
  for (int attempt = 0;; ++attempt) {
    Result<std::shared_ptr<Bucket>> handle = bucketFor(bucket, "put");
    if (!handle.ok()) {
      return handle.status();
    }
    natsStatus s = kvStore_Put(nullptr, (*handle)->raw(), key_text.c_str(), value.data(),
                               static_cast<int>(value.size()));
    if (s == NATS_OK) {
      return Status::ok();
    }
    // Nobody answering while connected means the bucket's stream is gone: make it again.
    Status failed = natsError(s, "put", bucket);
    if (attempt > 0 || s != NATS_NO_RESPONDERS || !connection_->connected()) {
      return failed;
    }
    forget(bucket);
  }
}

Status NatsKeyValueStore::erase(std::string_view bucket, std::string_view key) {
  if (Status s = checkKey(key); !s.isOk()) {
    return s;
  }
  Result<std::shared_ptr<Bucket>> handle = bucketFor(bucket, "erase");
  if (!handle.ok()) {
    return handle.status();
  }
  natsStatus s = kvStore_Delete((*handle)->raw(), std::string(key).c_str());
  return s == NATS_OK ? Status::ok() : natsError(s, "erase", bucket);
}

Result<std::vector<std::pair<std::string, std::string>>> NatsKeyValueStore::list(
    std::string_view bucket, std::string_view prefix) {
  Result<std::shared_ptr<Bucket>> handle = bucketFor(bucket, "list");
  if (!handle.ok()) {
    return handle.status();
  }
  return readAll(**handle, prefix, connection_->options().request_timeout);
}

Result<std::unique_ptr<KeyWatch>> NatsKeyValueStore::watch(std::string_view bucket,
                                                           std::string_view prefix,
                                                           KeyChangeCallback on_change) {
  Result<std::shared_ptr<Bucket>> handle = bucketFor(bucket, "watch");
  if (!handle.ok()) {
    return handle.status();
  }
  auto state = std::make_shared<WatchState>();
  state->connection = connection_;
  state->bucket = std::move(handle).value();
  state->prefix = std::string(prefix);
  state->callback = std::move(on_change);
  return std::unique_ptr<KeyWatch>(std::make_unique<NatsKeyWatch>(std::move(state)));
}

}  // namespace cex

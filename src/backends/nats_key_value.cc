#include "backends/nats_key_value.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <thread>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "backends/naming.h"
#include "backends/nats_kv_feed.h"

namespace cex {

namespace {

// How long one read of a feed waits before the watch thread looks at its flags again.
constexpr auto kWatchPoll = std::chrono::milliseconds(250);
// The pause before a watch tries again to open a feed that failed.
constexpr auto kWatchRetry = std::chrono::milliseconds(200);

// The keys a feed must read for `prefix`: the tokens below a prefix ending in '.', or every
// key (the rest is filtered by the reader).
std::string watchPattern(std::string_view prefix) {
  if (prefix.size() > 1 && prefix.back() == '.' &&
      checkKey(prefix.substr(0, prefix.size() - 1)).isOk()) {
    return std::string(prefix) + ">";
  }
  return ">";
}

struct EntryDeleter {
  void operator()(kvEntry* entry) const { kvEntry_Destroy(entry); }
};

using EntryPtr = std::unique_ptr<kvEntry, EntryDeleter>;

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

// Reads the latest live value of every key under `prefix`: a feed passes them, then says it
// has caught up.
Result<std::vector<std::pair<std::string, std::string>>> readAll(
    const std::shared_ptr<NatsConnection>& connection, const Bucket& bucket,
    std::string_view prefix) {
  Result<std::unique_ptr<NatsKvFeed>> feed =
      NatsKvFeed::open(connection, bucket.name(), watchPattern(prefix));
  if (!feed.ok()) {
    return feed.status();
  }
  std::vector<std::pair<std::string, std::string>> entries;
  while (!(*feed)->caughtUp()) {
    Result<std::optional<KvFeedEntry>> entry = (*feed)->next(connection->options().request_timeout);
    if (!entry.ok()) {
      return entry.status();
    }
    if (!entry->has_value()) {
      return Status::timeout("nats: list " + bucket.name() + ": no answer from the server");
    }
    KvFeedEntry& read = **entry;
    if (read.key.starts_with(prefix) && read.value.has_value()) {
      entries.emplace_back(std::move(read.key), std::move(*read.value));
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
  bool stopping = false;       // guarded by mu
  bool current = false;        // guarded by mu
  NatsKvFeed* feed = nullptr;  // guarded by mu; owned by the thread, interrupted by the watch

  // Thread only: what has been passed on, and the keys seen while reading a fresh feed's
  // initial entries (nullopt once they are all read).
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

// Passes one entry on. While a fresh feed after a reconnect replays the current values,
// values already passed on are skipped.
void handleEntry(WatchState& state, const KvFeedEntry& entry) {
  if (!entry.key.starts_with(state.prefix)) {
    return;
  }
  if (!entry.value.has_value()) {
    if (state.passed.erase(entry.key) > 0) {
      call(state, entry.key, std::nullopt);
    }
    return;
  }
  if (state.catching_up.has_value()) {
    state.catching_up->insert(entry.key);
    auto before = state.passed.find(entry.key);
    if (!state.first_snapshot && before != state.passed.end() && before->second == *entry.value) {
      return;
    }
  }
  state.passed[entry.key] = *entry.value;
  call(state, entry.key, entry.value);
}

// The initial entries are all read: keys passed on earlier but gone now were deleted while
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

// Opens a feed for the current connection session; null if the watch is stopping or the
// server cannot be reached now.
std::unique_ptr<NatsKvFeed> openFeed(WatchState& state) {
  if (!state.connection->connected()) {
    return nullptr;
  }
  Result<std::unique_ptr<NatsKvFeed>> feed =
      NatsKvFeed::open(state.connection, state.bucket->name(), watchPattern(state.prefix));
  if (!feed.ok()) {
    spdlog::debug("kv watch retrying bucket={} error={}", state.bucket->name(),
                  feed.status().message());
    return nullptr;
  }
  std::lock_guard lock(state.mu);
  if (state.stopping) {
    return nullptr;
  }
  state.feed = feed->get();
  state.catching_up.emplace();
  return std::move(feed).value();
}

void closeFeed(WatchState& state, std::unique_ptr<NatsKvFeed>& feed) {
  {
    std::lock_guard lock(state.mu);
    state.feed = nullptr;
  }
  feed.reset();
}

// The watch thread: one feed per connection session, read until the watch stops.
void runWatch(const std::shared_ptr<WatchState>& state) {
  std::unique_ptr<NatsKvFeed> feed;
  uint64_t session = 0;
  while (!pause(*state, std::chrono::milliseconds(0))) {
    if (feed != nullptr && session != state->connection->session()) {
      closeFeed(*state, feed);
    }
    if (feed == nullptr) {
      session = state->connection->session();
      feed = openFeed(*state);
      if (feed == nullptr) {
        pause(*state, kWatchRetry);
      }
    } else if (Result<std::optional<KvFeedEntry>> entry = feed->next(kWatchPoll); !entry.ok()) {
      closeFeed(*state, feed);
    } else if (entry->has_value()) {
      handleEntry(*state, **entry);
    }
    if (feed != nullptr && state->catching_up.has_value() && feed->caughtUp()) {
      finishSnapshot(*state);
    }
  }
  closeFeed(*state, feed);
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
      if (state_->feed != nullptr) {
        state_->feed->interrupt();
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
  const void* data = kvEntry_Value(entry.get());
  size_t size = static_cast<size_t>(kvEntry_ValueLen(entry.get()));
  return std::optional<std::string>(
      data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size));
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
  return readAll(connection_, **handle, prefix);
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

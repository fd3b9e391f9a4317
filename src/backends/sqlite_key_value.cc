#include "backends/sqlite_key_value.h"

#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include "backends/naming.h"
#include "backends/serial_executor.h"

namespace cex {

namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS kv_buckets(name TEXT PRIMARY KEY, ttl_ms INTEGER NOT NULL) "
    "WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS kv_entries(bucket TEXT NOT NULL, key TEXT NOT NULL, "
    "value BLOB NOT NULL, expires_ms INTEGER NOT NULL, PRIMARY KEY (bucket, key)) "
    "WITHOUT ROWID;";

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One prepared statement, reset after each use so it can be run again.
class Statement {
 public:
  Statement() = default;

  Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}

  Statement& operator=(Statement&& other) noexcept {
    std::swap(stmt_, other.stmt_);
    return *this;
  }

  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  ~Statement() { sqlite3_finalize(stmt_); }

  static Result<Statement> prepare(sqlite3* db, const char* sql) {
    Statement statement;
    if (sqlite3_prepare_v2(db, sql, -1, &statement.stmt_, nullptr) != SQLITE_OK) {
      return Status::internal(std::string("kv: sqlite prepare: ") + sqlite3_errmsg(db));
    }
    return statement;
  }

  // Binds the parameters in order, starting at ?1.
  template <typename... Args>
  void bind(const Args&... args) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    int index = 1;
    (bindOne(index++, args), ...);
  }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }

  std::string text(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);
    int size = sqlite3_column_bytes(stmt_, column);
    return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
  }

  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  void bindOne(int index, std::string_view value) {
    // Empty values are bound as empty blobs, never as NULL.
    sqlite3_bind_blob64(stmt_, index, value.empty() ? "" : value.data(), value.size(),
                        SQLITE_TRANSIENT);
  }

  void bindOne(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

  sqlite3_stmt* stmt_ = nullptr;
};

// A watch's registration: what it watches, where its calls run, and whether the values that
// were live when it started have been passed on yet.
struct Watcher {
  std::string bucket;
  std::string prefix;
  KeyChangeCallback callback;
  std::unique_ptr<SerialExecutor> executor;
  std::mutex mu;
  std::condition_variable became_current;
  bool current = false;  // guarded by mu
};

void deliver(const std::shared_ptr<Watcher>& watcher, const std::string& key,
             std::optional<std::string> value) {
  // The task holds the watcher, so its callback outlives a watch destroyed from inside it.
  watcher->executor->post(
      [watcher, key, value = std::move(value)] { watcher->callback(key, value); });
}

}  // namespace

struct SqliteKeyValueStore::Impl {
  std::mutex mu;
  sqlite3* db = nullptr;
  Statement select_bucket, insert_bucket, select_value, upsert_value, delete_value, select_range,
      delete_expired;
  std::unordered_map<std::string, int64_t> bucket_ttl_ms;  // cache of kv_buckets
  std::list<std::shared_ptr<Watcher>> watchers;

  // The sweeper: wakes every sweep_interval, or when stopping.
  std::chrono::milliseconds sweep_interval{60000};
  std::condition_variable sweeper_wake;
  bool stopping = false;
  std::thread sweeper;

  ~Impl() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    sweeper_wake.notify_all();
    if (sweeper.joinable()) {
      sweeper.join();
    }
    // Statements must be finalized before the database closes.
    for (Statement* statement : {&select_bucket, &insert_bucket, &select_value, &upsert_value,
                                 &delete_value, &select_range, &delete_expired}) {
      *statement = Statement();
    }
    sqlite3_close(db);
  }

  Status error(std::string_view operation, std::string_view bucket) {
    return Status::ioError("kv " + std::string(operation) + " " + std::string(bucket) +
                           ": sqlite: " + sqlite3_errmsg(db));
  }

  Status prepareAll();
  Result<int64_t> bucketTtl(std::string_view bucket);
  Result<std::optional<std::string>> liveValue(std::string_view bucket, std::string_view key);
  Result<std::vector<std::pair<std::string, std::string>>> liveRange(std::string_view bucket,
                                                                     std::string_view prefix);
  void notify(std::string_view bucket, const std::string& key,
              const std::optional<std::string>& value);
  void sweepLoop();
};

Status SqliteKeyValueStore::Impl::prepareAll() {
  struct Want {
    Statement* statement;
    const char* sql;
  };

  const Want wanted[] = {
      {&select_bucket, "SELECT ttl_ms FROM kv_buckets WHERE name = ?1"},
      {&insert_bucket, "INSERT OR IGNORE INTO kv_buckets(name, ttl_ms) VALUES (?1, ?2)"},
      {&select_value,
       "SELECT value FROM kv_entries WHERE bucket = ?1 AND key = ?2 "
       "AND (expires_ms = 0 OR expires_ms > ?3)"},
      {&upsert_value,
       "INSERT OR REPLACE INTO kv_entries(bucket, key, value, expires_ms) "
       "VALUES (?1, ?2, ?3, ?4)"},
      {&delete_value, "DELETE FROM kv_entries WHERE bucket = ?1 AND key = ?2"},
      {&select_range,
       "SELECT key, value FROM kv_entries WHERE bucket = ?1 AND key >= ?2 "
       "AND (expires_ms = 0 OR expires_ms > ?3) ORDER BY key"},
      {&delete_expired, "DELETE FROM kv_entries WHERE expires_ms > 0 AND expires_ms <= ?1"},
  };
  for (const Want& want : wanted) {
    Result<Statement> statement = Statement::prepare(db, want.sql);
    if (!statement.ok()) {
      return statement.status();
    }
    *want.statement = std::move(statement).value();
  }
  return Status::ok();
}

// The TTL of `bucket` in ms (0 = none), creating the bucket without one if it is new.
// Requires mu.
Result<int64_t> SqliteKeyValueStore::Impl::bucketTtl(std::string_view bucket) {
  auto cached = bucket_ttl_ms.find(std::string(bucket));
  if (cached != bucket_ttl_ms.end()) {
    return cached->second;
  }
  insert_bucket.bind(bucket, int64_t{0});
  if (insert_bucket.step() != SQLITE_DONE) {
    return error("create bucket", bucket);
  }
  select_bucket.bind(bucket);
  if (select_bucket.step() != SQLITE_ROW) {
    return error("read bucket", bucket);
  }
  int64_t ttl = select_bucket.integer(0);
  bucket_ttl_ms.emplace(std::string(bucket), ttl);
  return ttl;
}

// Requires mu.
Result<std::optional<std::string>> SqliteKeyValueStore::Impl::liveValue(std::string_view bucket,
                                                                        std::string_view key) {
  select_value.bind(bucket, key, nowMs());
  int rc = select_value.step();
  if (rc == SQLITE_ROW) {
    return std::optional<std::string>(select_value.text(0));
  }
  if (rc != SQLITE_DONE) {
    return error("get", bucket);
  }
  return std::optional<std::string>();
}

// The live entries whose keys start with `prefix`, sorted. Requires mu.
Result<std::vector<std::pair<std::string, std::string>>> SqliteKeyValueStore::Impl::liveRange(
    std::string_view bucket, std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> entries;
  select_range.bind(bucket, prefix, nowMs());
  int rc;
  while ((rc = select_range.step()) == SQLITE_ROW) {
    // Keys come sorted from the prefix on, so the first one without it ends the range.
    std::string key = select_range.text(0);
    if (!key.starts_with(prefix)) {
      rc = SQLITE_DONE;
      break;
    }
    entries.emplace_back(std::move(key), select_range.text(1));
  }
  if (rc != SQLITE_DONE) {
    return error("list", bucket);
  }
  return entries;
}

// Passes a change to every watch that covers it. Requires mu, so that changes reach each
// watch in the order they were made.
void SqliteKeyValueStore::Impl::notify(std::string_view bucket, const std::string& key,
                                       const std::optional<std::string>& value) {
  for (const std::shared_ptr<Watcher>& watcher : watchers) {
    if (watcher->bucket == bucket && key.starts_with(watcher->prefix)) {
      deliver(watcher, key, value);
    }
  }
}

void SqliteKeyValueStore::Impl::sweepLoop() {
  std::unique_lock lock(mu);
  while (!stopping) {
    sweeper_wake.wait_for(lock, sweep_interval);
    if (stopping) {
      return;
    }
    delete_expired.bind(nowMs());
    if (delete_expired.step() != SQLITE_DONE) {
      spdlog::warn("kv sweep failed error={}", sqlite3_errmsg(db));
      continue;
    }
    if (int removed = sqlite3_changes(db); removed > 0) {
      spdlog::debug("kv sweep removed={}", removed);
    }
  }
}

namespace {

// What SqliteKeyValueStore::watch returns: unregisters and stops the watcher when destroyed.
class SqliteWatch final : public KeyWatch {
 public:
  SqliteWatch(std::shared_ptr<SqliteKeyValueStore::Impl> impl, std::shared_ptr<Watcher> watcher)
      : impl_(std::move(impl)), watcher_(std::move(watcher)) {}

  ~SqliteWatch() override {
    {
      std::lock_guard lock(impl_->mu);
      impl_->watchers.remove(watcher_);
    }
    // No more posts can come; this drops undelivered changes and waits for a running call.
    watcher_->executor.reset();
  }

  SqliteWatch(const SqliteWatch&) = delete;
  SqliteWatch& operator=(const SqliteWatch&) = delete;

  bool waitUntilCurrent(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(watcher_->mu);
    return watcher_->became_current.wait_for(lock, timeout, [&] { return watcher_->current; });
  }

 private:
  std::shared_ptr<SqliteKeyValueStore::Impl> impl_;
  std::shared_ptr<Watcher> watcher_;
};

}  // namespace

Result<std::unique_ptr<SqliteKeyValueStore>> SqliteKeyValueStore::open(
    const std::string& path, std::chrono::milliseconds sweep_interval) {
  auto impl = std::make_shared<Impl>();
  impl->sweep_interval = sweep_interval;
  const char* name = path.empty() ? ":memory:" : path.c_str();
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(name, &impl->db, flags, nullptr) != SQLITE_OK) {
    return Status::ioError("kv open " + path + ": sqlite: " + sqlite3_errmsg(impl->db));
  }

  // WAL lets a reader run beside the writer; a file database is shared with nothing else, so
  // NORMAL sync (a crash may lose the last commits, never corrupt) is enough.
  std::string setup = std::string(path.empty() ? "" : "PRAGMA journal_mode=WAL;") +
                      "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;" + kSchema;
  if (sqlite3_exec(impl->db, setup.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return impl->error("open", path);
  }
  if (Status s = impl->prepareAll(); !s.isOk()) {
    return s;
  }
  impl->sweeper = std::thread([raw = impl.get()] { raw->sweepLoop(); });
  return std::unique_ptr<SqliteKeyValueStore>(new SqliteKeyValueStore(std::move(impl)));
}

SqliteKeyValueStore::SqliteKeyValueStore(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteKeyValueStore::~SqliteKeyValueStore() = default;

Status SqliteKeyValueStore::ensureBucket(std::string_view bucket, std::chrono::milliseconds ttl) {
  if (Status s = checkBucketName(bucket); !s.isOk()) {
    return s;
  }
  std::lock_guard lock(impl_->mu);
  if (impl_->bucket_ttl_ms.contains(std::string(bucket))) {
    return Status::ok();
  }
  impl_->insert_bucket.bind(bucket, static_cast<int64_t>(std::max<int64_t>(0, ttl.count())));
  if (impl_->insert_bucket.step() != SQLITE_DONE) {
    return impl_->error("create bucket", bucket);
  }
  Result<int64_t> stored = impl_->bucketTtl(bucket);
  if (stored.ok() && *stored != ttl.count()) {
    spdlog::warn("kv bucket exists with another ttl bucket={} ttl_ms={} wanted_ms={}", bucket,
                 *stored, ttl.count());
  }
  return stored.status();
}

Result<std::optional<std::string>> SqliteKeyValueStore::get(std::string_view bucket,
                                                            std::string_view key) {
  if (Status s = checkBucketName(bucket); !s.isOk()) {
    return s;
  }
  if (Status s = checkKey(key); !s.isOk()) {
    return s;
  }
  std::lock_guard lock(impl_->mu);
  return impl_->liveValue(bucket, key);
}

Status SqliteKeyValueStore::put(std::string_view bucket, std::string_view key,
                                std::string_view value) {
  if (Status s = checkBucketName(bucket); !s.isOk()) {
    return s;
  }
  if (Status s = checkKey(key); !s.isOk()) {
    return s;
  }
  std::lock_guard lock(impl_->mu);
  Result<int64_t> ttl = impl_->bucketTtl(bucket);
  if (!ttl.ok()) {
    return ttl.status();
  }
  int64_t expires = *ttl > 0 ? nowMs() + *ttl : 0;
  impl_->upsert_value.bind(bucket, key, value, expires);
  if (impl_->upsert_value.step() != SQLITE_DONE) {
    return impl_->error("put", bucket);
  }
  impl_->notify(bucket, std::string(key), std::string(value));
  return Status::ok();
}

Status SqliteKeyValueStore::erase(std::string_view bucket, std::string_view key) {
  if (Status s = checkBucketName(bucket); !s.isOk()) {
    return s;
  }
  if (Status s = checkKey(key); !s.isOk()) {
    return s;
  }
  std::lock_guard lock(impl_->mu);

  // Watches hear of the erase only if the key was live; an expired entry is just removed.
  Result<std::optional<std::string>> before = impl_->liveValue(bucket, key);
  if (!before.ok()) {
    return before.status();
  }
  impl_->delete_value.bind(bucket, key);
  if (impl_->delete_value.step() != SQLITE_DONE) {
    return impl_->error("erase", bucket);
  }
  if (before->has_value()) {
    impl_->notify(bucket, std::string(key), std::nullopt);
  }
  return Status::ok();
}

Result<std::vector<std::pair<std::string, std::string>>> SqliteKeyValueStore::list(
    std::string_view bucket, std::string_view prefix) {
  if (Status s = checkBucketName(bucket); !s.isOk()) {
    return s;
  }
  std::lock_guard lock(impl_->mu);
  return impl_->liveRange(bucket, prefix);
}

Result<std::unique_ptr<KeyWatch>> SqliteKeyValueStore::watch(std::string_view bucket,
                                                             std::string_view prefix,
                                                             KeyChangeCallback on_change) {
  if (Status s = checkBucketName(bucket); !s.isOk()) {
    return s;
  }
  auto watcher = std::make_shared<Watcher>();
  watcher->bucket = std::string(bucket);
  watcher->prefix = std::string(prefix);
  watcher->callback = std::move(on_change);
  watcher->executor = std::make_unique<SerialExecutor>("kv watch " + watcher->bucket);

  // The snapshot and the registration happen under one lock, so no change falls between them.
  std::lock_guard lock(impl_->mu);
  Result<std::vector<std::pair<std::string, std::string>>> current =
      impl_->liveRange(bucket, prefix);
  if (!current.ok()) {
    return current.status();
  }
  for (auto& [key, value] : *current) {
    deliver(watcher, key, std::move(value));
  }
  watcher->executor->post([watcher] {
    std::lock_guard current_lock(watcher->mu);
    watcher->current = true;
    watcher->became_current.notify_all();
  });
  impl_->watchers.push_back(watcher);
  return std::unique_ptr<KeyWatch>(std::make_unique<SqliteWatch>(impl_, std::move(watcher)));
}

}  // namespace cex

#include "router/shared_result_cache.h"

#include <spdlog/spdlog.h>

#include "base/hash.h"
#include "compile/lru_cache.h"

namespace cex {

namespace {

constexpr const char* kBucket = "CEX_RESULTS";

class MemoryResultCache : public SharedResultCache {
 public:
  explicit MemoryResultCache(size_t max_bytes)
      : max_bytes_(max_bytes), lru_(std::make_shared<ByteLruCache<std::string>>(max_bytes)) {}

  std::optional<std::string> get(const std::string& key) override {
    std::shared_ptr<const std::string> hit = lru()->get(hash128(key));
    return hit ? std::optional<std::string>(*hit) : std::nullopt;
  }

  void put(const std::string& key, std::string_view json) override {
    lru()->put(hash128(key), std::make_shared<const std::string>(json), json.size() + 64);
  }

  void clear() override {
    auto fresh = std::make_shared<ByteLruCache<std::string>>(max_bytes_);
    std::lock_guard lock(mu_);
    lru_ = std::move(fresh);
  }

 private:
  // A reference that stays valid while the caller uses it, even if clear() swaps the cache.
  std::shared_ptr<ByteLruCache<std::string>> lru() {
    std::lock_guard lock(mu_);
    return lru_;
  }

  const size_t max_bytes_;
  std::mutex mu_;
  std::shared_ptr<ByteLruCache<std::string>> lru_;  // guarded by mu_
};

class KvResultCache : public SharedResultCache {
 public:
  KvResultCache(std::shared_ptr<KeyValueStore> kv, std::chrono::milliseconds ttl, size_t max_value)
      : kv_(std::move(kv)), ttl_(ttl), max_value_(max_value) {}

  std::optional<std::string> get(const std::string& key) override {
    if (!ensure()) {
      return std::nullopt;
    }
    auto value = kv_->get(kBucket, hash128(key).toHex());
    return value.ok() ? *value : std::nullopt;
  }

  void put(const std::string& key, std::string_view json) override {
    if (json.size() > max_value_ || !ensure()) {
      return;
    }
    if (Status s = kv_->put(kBucket, hash128(key).toHex(), json); !s.isOk()) {
      spdlog::warn("result cache put failed error=\"{}\"", s.message());
    }
  }

  void clear() override {
    auto rows = kv_->list(kBucket, "");
    if (!rows.ok()) {
      return;
    }
    for (const auto& [key, value] : *rows) {
      kv_->erase(kBucket, key);
    }
  }

 private:
  bool ensure() {
    std::call_once(created_, [this] { ok_ = kv_->ensureBucket(kBucket, ttl_).isOk(); });
    return ok_;
  }

  std::shared_ptr<KeyValueStore> kv_;
  std::chrono::milliseconds ttl_;
  size_t max_value_;
  std::once_flag created_;
  bool ok_ = false;
};

// A near copy in this process in front of a shared cache: hits on the same router never leave
// the process. Entries are immutable for their key, so a near copy is only ever stale after a
// clear on another router; `near_ttl` bounds that.
class LayeredResultCache : public SharedResultCache {
 public:
  LayeredResultCache(size_t near_bytes, std::chrono::milliseconds near_ttl,
                     std::unique_ptr<SharedResultCache> shared)
      : near_bytes_(near_bytes),
        near_ttl_(near_ttl),
        near_(std::make_shared<Near>(near_bytes)),
        shared_(std::move(shared)) {}

  std::optional<std::string> get(const std::string& key) override {
    Hash128 h = hash128(key);
    std::shared_ptr<Near> near = nearCache();
    if (std::shared_ptr<const Entry> hit = near->get(h)) {
      if (Clock::now() - hit->stored < near_ttl_) {
        return hit->json;
      }
    }
    std::optional<std::string> value = shared_->get(key);
    if (value) {
      remember(*near, h, *value);
    }
    return value;
  }

  void put(const std::string& key, std::string_view json) override {
    remember(*nearCache(), hash128(key), json);
    shared_->put(key, json);
  }

  void clear() override {
    auto fresh = std::make_shared<Near>(near_bytes_);
    {
      std::lock_guard lock(mu_);
      near_ = std::move(fresh);
    }
    shared_->clear();
  }

 private:
  using Clock = std::chrono::steady_clock;

  struct Entry {
    Clock::time_point stored;
    std::string json;
  };

  using Near = ByteLruCache<Entry>;

  static void remember(Near& near, const Hash128& h, std::string_view json) {
    near.put(h, std::make_shared<const Entry>(Entry{Clock::now(), std::string(json)}),
             json.size() + 96);
  }

  std::shared_ptr<Near> nearCache() {
    std::lock_guard lock(mu_);
    return near_;
  }

  const size_t near_bytes_;
  const std::chrono::milliseconds near_ttl_;
  std::mutex mu_;
  std::shared_ptr<Near> near_;  // guarded by mu_
  std::unique_ptr<SharedResultCache> shared_;
};

}  // namespace

std::unique_ptr<SharedResultCache> makeLayeredResultCache(
    size_t near_bytes, std::chrono::milliseconds near_ttl,
    std::unique_ptr<SharedResultCache> shared) {
  return std::make_unique<LayeredResultCache>(near_bytes, near_ttl, std::move(shared));
}

std::unique_ptr<SharedResultCache> makeMemoryResultCache(size_t max_bytes) {
  return std::make_unique<MemoryResultCache>(max_bytes);
}

std::unique_ptr<SharedResultCache> makeKvResultCache(std::shared_ptr<KeyValueStore> kv,
                                                     std::chrono::milliseconds ttl,
                                                     size_t max_value_bytes) {
  return std::make_unique<KvResultCache>(std::move(kv), ttl, max_value_bytes);
}

}  // namespace cex

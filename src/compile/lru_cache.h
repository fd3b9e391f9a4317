#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "base/hash.h"

namespace cex {

// Counters a cache exposes for health and statistics endpoints.
struct CacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t puts = 0;
  uint64_t evictions = 0;
  size_t entries = 0;
  size_t bytes = 0;
};

// A thread-safe least-recently-used map from 128-bit keys to shared immutable values,
// bounded by the total of the sizes callers declare for their values. An entry larger than
// the whole budget is not stored.
template <typename Value>
class ByteLruCache {
 public:
  explicit ByteLruCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  std::shared_ptr<const Value> get(const Hash128& key) {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) {
      ++stats_.misses;
      return nullptr;
    }
    ++stats_.hits;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->value;
  }

  void put(const Hash128& key, std::shared_ptr<const Value> value, size_t bytes) {
    if (bytes > max_bytes_) {
      return;
    }
    std::lock_guard lock(mu_);
    ++stats_.puts;
    auto it = index_.find(key);
    if (it != index_.end()) {
      stats_.bytes -= it->second->bytes;
      order_.erase(it->second);
      index_.erase(it);
    }
    order_.push_front(Entry{key, std::move(value), bytes});
    index_[key] = order_.begin();
    stats_.bytes += bytes;
    evictOverBudget();
  }

  CacheStats stats() const {
    std::lock_guard lock(mu_);
    CacheStats s = stats_;
    s.entries = index_.size();
    return s;
  }

 private:
  struct Entry {
    Hash128 key;
    std::shared_ptr<const Value> value;
    size_t bytes;
  };

  void evictOverBudget() {
    while (stats_.bytes > max_bytes_ && !order_.empty()) {
      Entry& last = order_.back();
      stats_.bytes -= last.bytes;
      index_.erase(last.key);
      order_.pop_back();
      ++stats_.evictions;
    }
  }

  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> order_;  // most recently used first; guarded by mu_
  std::unordered_map<Hash128, typename std::list<Entry>::iterator, Hash128Hasher> index_;
  CacheStats stats_;
};

}  // namespace cex

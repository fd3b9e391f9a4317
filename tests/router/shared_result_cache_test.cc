// The shared result caches: in memory, in a key-value bucket (the embedded SQLite store), and
// a near copy in front of a shared one.

#include "router/shared_result_cache.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "backends/backends.h"

namespace cex {
namespace {

using std::chrono::milliseconds;

std::shared_ptr<KeyValueStore> embeddedKv() {
  auto backends = makeEmbeddedBackends(EmbeddedOptions{});
  EXPECT_TRUE(backends.ok());
  return backends->kv;
}

// A real memory cache that counts how often it is asked, standing for the shared store.
class CountingCache : public SharedResultCache {
 public:
  CountingCache() : inner_(makeMemoryResultCache(1 << 20)) {}

  std::optional<std::string> get(const std::string& key) override {
    ++gets;
    return inner_->get(key);
  }

  void put(const std::string& key, std::string_view json) override { inner_->put(key, json); }

  void clear() override {
    ++clears;
    inner_->clear();
  }

  std::atomic<int> gets{0};
  std::atomic<int> clears{0};

 private:
  std::unique_ptr<SharedResultCache> inner_;
};

TEST(SharedResultCacheTest, MemoryCacheKeepsAndClears) {
  auto cache = makeMemoryResultCache(1 << 20);
  EXPECT_FALSE(cache->get("k").has_value());
  cache->put("k", R"({"code":0})");
  EXPECT_EQ(cache->get("k"), R"({"code":0})");
  cache->clear();
  EXPECT_FALSE(cache->get("k").has_value());
}

TEST(SharedResultCacheTest, KeyValueCacheSharesThroughTheStore) {
  auto kv = embeddedKv();
  auto writer = makeKvResultCache(kv, std::chrono::hours(1), 64);
  auto reader = makeKvResultCache(kv, std::chrono::hours(1), 64);
  writer->put("request", R"({"code":0})");
  EXPECT_EQ(reader->get("request"), R"({"code":0})");

  writer->put("too big", std::string(65, 'x'));  // over max_value_bytes: not stored
  EXPECT_FALSE(reader->get("too big").has_value());

  reader->clear();
  EXPECT_FALSE(writer->get("request").has_value());
}

TEST(SharedResultCacheTest, NearCopyAnswersRepeatedHitsWithoutTheSharedStore) {
  auto shared = std::make_unique<CountingCache>();
  CountingCache* counting = shared.get();
  shared->put("elsewhere", "from another router");
  auto cache = makeLayeredResultCache(1 << 20, std::chrono::minutes(1), std::move(shared));

  EXPECT_EQ(cache->get("elsewhere"), "from another router");
  EXPECT_EQ(counting->gets, 1);
  EXPECT_EQ(cache->get("elsewhere"), "from another router");
  EXPECT_EQ(counting->gets, 1);  // the near copy answered

  cache->put("mine", "compiled here");
  EXPECT_EQ(cache->get("mine"), "compiled here");
  EXPECT_EQ(counting->gets, 1);
  EXPECT_EQ(counting->get("mine"), "compiled here");  // and it reached the shared store

  EXPECT_FALSE(cache->get("missing").has_value());
  EXPECT_EQ(counting->gets, 3);  // one from the cache, one from the check above
}

TEST(SharedResultCacheTest, ExpiredNearCopiesAskTheSharedStoreAgain) {
  auto shared = std::make_unique<CountingCache>();
  CountingCache* counting = shared.get();
  auto cache = makeLayeredResultCache(1 << 20, milliseconds(0), std::move(shared));
  cache->put("k", "v");
  EXPECT_EQ(cache->get("k"), "v");
  EXPECT_EQ(counting->gets, 1);
  counting->clear();  // another router cleared the shared store
  EXPECT_FALSE(cache->get("k").has_value());
}

TEST(SharedResultCacheTest, ClearEmptiesTheNearCopyAndTheSharedStore) {
  auto shared = std::make_unique<CountingCache>();
  CountingCache* counting = shared.get();
  auto cache = makeLayeredResultCache(1 << 20, std::chrono::minutes(1), std::move(shared));
  cache->put("k", "v");
  cache->clear();
  EXPECT_EQ(counting->clears, 1);
  EXPECT_FALSE(cache->get("k").has_value());
}

}  // namespace
}  // namespace cex

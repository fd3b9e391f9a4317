#include "compile/lru_cache.h"

#include <string>

#include <gtest/gtest.h>

namespace cex {
namespace {

Hash128 key(uint64_t n) {
  return {0, n};
}

TEST(ByteLruCacheTest, EvictsLeastRecentlyUsedOverBudget) {
  ByteLruCache<std::string> cache(100);
  cache.put(key(1), std::make_shared<std::string>("a"), 40);
  cache.put(key(2), std::make_shared<std::string>("b"), 40);
  ASSERT_TRUE(cache.get(key(1)));  // 1 is now the most recent
  cache.put(key(3), std::make_shared<std::string>("c"), 40);
  EXPECT_TRUE(cache.get(key(1)));
  EXPECT_FALSE(cache.get(key(2)));
  EXPECT_TRUE(cache.get(key(3)));
  CacheStats stats = cache.stats();
  EXPECT_EQ(stats.entries, 2u);
  EXPECT_EQ(stats.bytes, 80u);
  EXPECT_EQ(stats.evictions, 1u);
}

TEST(ByteLruCacheTest, ReplacesAndRefusesOversizedEntries) {
  ByteLruCache<std::string> cache(100);
  cache.put(key(1), std::make_shared<std::string>("a"), 10);
  cache.put(key(1), std::make_shared<std::string>("b"), 20);
  EXPECT_EQ(*cache.get(key(1)), "b");
  EXPECT_EQ(cache.stats().bytes, 20u);
  cache.put(key(2), std::make_shared<std::string>("huge"), 101);
  EXPECT_FALSE(cache.get(key(2)));
}

}  // namespace
}  // namespace cex

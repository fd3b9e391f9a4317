// The routing table and the active colours on the embedded key-value store, in memory and in
// a SQLite file: rows written by one instance reach another through its watch.

#include "router/routing_table.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "backends/backends.h"
#include "base/files.h"

namespace cex {
namespace {

using std::chrono::milliseconds;

// Polls for state that a watch updates on its own thread; false after five seconds.
template <typename Condition>
bool eventually(Condition&& condition) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
  return true;
}

// Passes everything to a real store and counts reads, so a test can tell a watched lookup
// (served from memory) from one that reads the store.
class CountingKeyValueStore : public KeyValueStore {
 public:
  explicit CountingKeyValueStore(std::shared_ptr<KeyValueStore> inner) : inner_(std::move(inner)) {}

  Status ensureBucket(std::string_view bucket, milliseconds ttl) override {
    return inner_->ensureBucket(bucket, ttl);
  }

  Result<std::optional<std::string>> get(std::string_view bucket, std::string_view key) override {
    gets_.fetch_add(1);
    return inner_->get(bucket, key);
  }

  Status put(std::string_view bucket, std::string_view key, std::string_view value) override {
    return inner_->put(bucket, key, value);
  }

  Status erase(std::string_view bucket, std::string_view key) override {
    return inner_->erase(bucket, key);
  }

  Result<std::vector<std::pair<std::string, std::string>>> list(std::string_view bucket,
                                                                std::string_view prefix) override {
    gets_.fetch_add(1);
    return inner_->list(bucket, prefix);
  }

  Result<std::unique_ptr<KeyWatch>> watch(std::string_view bucket, std::string_view prefix,
                                          KeyChangeCallback on_change) override {
    return inner_->watch(bucket, prefix, std::move(on_change));
  }

  int reads() const { return gets_.load(); }

 private:
  std::shared_ptr<KeyValueStore> inner_;
  std::atomic<int> gets_{0};
};

RouteEntry queueEntry(const std::string& queue) {
  RouteEntry e;
  e.type = RouteEntry::Type::Queue;
  e.queue_name = queue;
  e.environment = queue;
  e.updated = "2026-01-02T03:04:05Z";
  return e;
}

RouteEntry urlEntry() {
  RouteEntry e;
  e.type = RouteEntry::Type::Url;
  e.compile_url = "http://gpu.example/gpu/api/compiler/nvcc/compile";
  e.cmake_url = "http://gpu.example/gpu/api/compiler/nvcc/cmake";
  e.build_url = "http://gpu.example/gpu/api/compiler/nvcc/build/{system}";
  e.environment = "gpu";
  e.updated = "2026-01-02T03:04:05Z";
  return e;
}

// Runs every test on both kinds of embedded storage: true = a SQLite file.
class RoutingTableTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    EmbeddedOptions options;
    if (GetParam()) {
      Result<TempDir> dir = TempDir::create("/tmp", "cex-routing-");
      ASSERT_TRUE(dir.ok()) << dir.status().toString();
      dir_ = std::make_unique<TempDir>(std::move(dir).value());
      options.sqlite_path = dir_->path() + "/state.db";
    }
    auto backends = makeEmbeddedBackends(options);
    ASSERT_TRUE(backends.ok()) << backends.status().toString();
    kv_ = std::make_shared<CountingKeyValueStore>(backends->kv);
  }

  std::unique_ptr<TempDir> dir_;
  std::shared_ptr<CountingKeyValueStore> kv_;
};

INSTANTIATE_TEST_SUITE_P(Storage, RoutingTableTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "SqliteFile" : "InMemory"; });

TEST_P(RoutingTableTest, PutLookupListAndErase) {
  RoutingTable table(kv_);
  EXPECT_FALSE(table.lookup("prod", "g122").has_value());
  ASSERT_TRUE(table.put("prod", "g122", queueEntry("prod")).isOk());
  ASSERT_TRUE(table.put("prod", "nvcc", urlEntry()).isOk());
  ASSERT_TRUE(table.put("beta", "g122", queueEntry("beta")).isOk());

  std::optional<RouteEntry> found = table.lookup("prod", "nvcc");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->toJson(), urlEntry().toJson());
  EXPECT_EQ(table.lookup("beta", "g122")->queue_name, "beta");

  auto prod = table.list("prod");
  ASSERT_TRUE(prod.ok()) << prod.status().toString();
  ASSERT_EQ(prod->size(), 2u);
  EXPECT_EQ((*prod)[0].first, "prod.g122");
  EXPECT_EQ((*prod)[1].first, "prod.nvcc");
  auto all = table.list("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);

  ASSERT_TRUE(table.erase("prod", "g122").isOk());
  EXPECT_FALSE(table.lookup("prod", "g122").has_value());
  ASSERT_TRUE(table.eraseKey("prod.nvcc").isOk());
  EXPECT_TRUE(table.list("prod")->empty());
  EXPECT_TRUE(table.lookup("beta", "g122").has_value());
  // Erasing what is not there is no error.
  EXPECT_TRUE(table.erase("prod", "never").isOk());
}

TEST_P(RoutingTableTest, IdsThatAreNotKeysAreEscapedAndRoundTrip) {
  EXPECT_EQ(RoutingTable::key("prod", "g++ 12/x"), "prod.g=2B=2B=2012=2Fx");
  EXPECT_EQ(RoutingTable::key("prod", "a.b=c"), "prod.a=2Eb=3Dc");
  EXPECT_EQ(RoutingTable::key("prod", "\xc3\xa9"), "prod.=C3=A9");
  EXPECT_EQ(RoutingTable::key("prod", "plain_id-1"), "prod.plain_id-1");
  // '=' is escaped too, so no two ids share a key.
  EXPECT_NE(RoutingTable::key("prod", "a+"), RoutingTable::key("prod", "a=2B"));

  RoutingTable table(kv_);
  for (const char* id : {"g++ 12/x", "a.b=c", "a+", "a=2B", "..", "\xc3\xa9"}) {
    ASSERT_TRUE(table.put("prod", id, queueEntry(std::string("q") + id)).isOk()) << id;
  }
  for (const char* id : {"g++ 12/x", "a.b=c", "a+", "a=2B", "..", "\xc3\xa9"}) {
    std::optional<RouteEntry> found = table.lookup("prod", id);
    ASSERT_TRUE(found.has_value()) << id;
    EXPECT_EQ(found->queue_name, std::string("q") + id);
  }
  EXPECT_EQ(table.list("prod")->size(), 6u);
}

TEST_P(RoutingTableTest, AWatchSeesAnotherTablesWritesWithoutReadingTheStore) {
  RoutingTable writer(kv_);
  ASSERT_TRUE(writer.put("prod", "before", queueEntry("prod")).isOk());
  RoutingTable router(kv_);
  ASSERT_TRUE(router.watch().isOk());
  int reads = kv_->reads();

  // Rows from before the watch are loaded, and later writes pushed.
  EXPECT_TRUE(eventually([&] { return router.lookup("prod", "before").has_value(); }));
  ASSERT_TRUE(writer.put("prod", "g++", urlEntry()).isOk());
  EXPECT_TRUE(eventually([&] { return router.lookup("prod", "g++").has_value(); }));
  EXPECT_EQ(router.lookup("prod", "g++")->compile_url, urlEntry().compile_url);

  ASSERT_TRUE(writer.put("prod", "g++", queueEntry("staging")).isOk());
  EXPECT_TRUE(
      eventually([&] { return router.lookup("prod", "g++")->type == RouteEntry::Type::Queue; }));
  ASSERT_TRUE(writer.erase("prod", "before").isOk());
  EXPECT_TRUE(eventually([&] { return !router.lookup("prod", "before").has_value(); }));
  EXPECT_EQ(kv_->reads(), reads);
}

TEST_P(RoutingTableTest, AGarbageRowIsNoRoute) {
  RoutingTable router(kv_);
  ASSERT_TRUE(router.watch().isOk());
  RoutingTable reader(kv_);
  ASSERT_TRUE(reader.put("prod", "g122", queueEntry("prod")).isOk());
  ASSERT_TRUE(eventually([&] { return router.lookup("prod", "g122").has_value(); }));

  ASSERT_TRUE(kv_->put(RoutingTable::kBucket, "prod.g122", "not json").isOk());
  EXPECT_TRUE(eventually([&] { return !router.lookup("prod", "g122").has_value(); }));
  EXPECT_FALSE(reader.lookup("prod", "g122").has_value());
  EXPECT_TRUE(reader.list("prod")->empty());
}

TEST_P(RoutingTableTest, ColoursDefaultToBlueAndCanBeSet) {
  ActiveColours colours(kv_);
  EXPECT_EQ(colours.colour("prod"), "blue");
  ASSERT_TRUE(colours.set("prod", "green").isOk());
  EXPECT_EQ(colours.colour("prod"), "green");
  EXPECT_EQ(colours.colour("beta"), "blue");

  Status bad = colours.set("prod", "red");
  EXPECT_EQ(bad.code(), StatusCode::InvalidArgument);
  EXPECT_EQ(colours.colour("prod"), "green");
}

TEST_P(RoutingTableTest, AnUnwatchedColourReadsEveryChange) {
  ActiveColours reader(kv_);
  ActiveColours admin(kv_);
  ASSERT_TRUE(admin.set("prod", "green").isOk());
  EXPECT_EQ(reader.colour("prod"), "green");
  ASSERT_TRUE(admin.set("prod", "blue").isOk());
  EXPECT_EQ(reader.colour("prod"), "blue");
}

TEST_P(RoutingTableTest, AColourChangeIsPushedToAWatchingInstance) {
  ActiveColours router(kv_);
  ASSERT_TRUE(router.watch().isOk());
  EXPECT_EQ(router.colour("prod"), "blue");
  uint64_t before = router.changes();

  ActiveColours admin(kv_);
  ASSERT_TRUE(admin.set("prod", "green").isOk());
  EXPECT_TRUE(eventually([&] { return router.colour("prod") == "green"; }));
  EXPECT_EQ(router.changes(), before + 1);
  EXPECT_EQ(router.colour("beta"), "blue");

  // A value that is no colour is ignored; the watch delivers in order, so once "blue" has
  // arrived the bad value has been seen and skipped.
  ASSERT_TRUE(kv_->put(ActiveColours::kBucket, ActiveColours::key("prod"), "purple").isOk());
  ASSERT_TRUE(admin.set("prod", "blue").isOk());
  EXPECT_TRUE(eventually([&] { return router.colour("prod") == "blue"; }));
  EXPECT_EQ(router.changes(), before + 2);
}

TEST(RouteEntryTest, JsonRoundTrip) {
  for (const RouteEntry& entry : {queueEntry("prod"), urlEntry()}) {
    std::optional<RouteEntry> back = RouteEntry::fromJson(entry.toJson());
    ASSERT_TRUE(back.has_value()) << entry.toJson();
    EXPECT_EQ(back->type, entry.type);
    EXPECT_EQ(back->queue_name, entry.queue_name);
    EXPECT_EQ(back->compile_url, entry.compile_url);
    EXPECT_EQ(back->cmake_url, entry.cmake_url);
    EXPECT_EQ(back->build_url, entry.build_url);
    EXPECT_EQ(back->environment, entry.environment);
    EXPECT_EQ(back->updated, entry.updated);
  }
  EXPECT_NE(urlEntry().toJson().find("\"type\":\"url\""), std::string::npos);
}

TEST(RouteEntryTest, RejectsWhatIsNotAJsonObject) {
  for (const char* text : {"", "garbage", "[]", "\"url\"", "42", "{\"type\":", "null"}) {
    EXPECT_FALSE(RouteEntry::fromJson(text).has_value()) << text;
  }
}

TEST(RouteEntryTest, ReadsMissingOrMistypedMembersAsEmpty) {
  std::optional<RouteEntry> e = RouteEntry::fromJson(R"({"type": 3, "compileUrl": ["x"]})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, RouteEntry::Type::Queue);
  EXPECT_TRUE(e->compile_url.empty());
}

}  // namespace
}  // namespace cex

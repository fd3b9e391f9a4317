// What only the embedded backend promises beyond the shared contract: its storage survives a
// restart of the process, and its sweepers clean up.

#include <dirent.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "backends/backends.h"
#include "backends/embedded_blob_store.h"
#include "backends/embedded_work_queue.h"
#include "backends/sqlite_key_value.h"
#include "base/files.h"
#include "event_log.h"

namespace cex {
namespace {

using std::chrono::milliseconds;

class EmbeddedBackendsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("/tmp", "cex-embedded-");
    ASSERT_TRUE(dir.ok()) << dir.status().toString();
    dir_ = std::make_unique<TempDir>(std::move(dir).value());
  }

  // The names of the blob files, without temporary ones.
  size_t blobFiles(const std::string& dir) {
    size_t count = 0;
    DIR* listing = ::opendir(dir.c_str());
    // NOLINTNEXTLINE(concurrency-mt-unsafe): one thread reads this DIR stream.
    while (const dirent* entry = listing == nullptr ? nullptr : ::readdir(listing)) {
      count += entry->d_name[0] == '.' ? 0 : 1;
    }
    if (listing != nullptr) {
      ::closedir(listing);
    }
    return count;
  }

  std::unique_ptr<TempDir> dir_;
};

TEST_F(EmbeddedBackendsTest, KeyValuesSurviveReopening) {
  std::string path = dir_->path() + "/kv.sqlite";
  {
    auto kv = SqliteKeyValueStore::open(path, milliseconds(60000));
    ASSERT_TRUE(kv.ok()) << kv.status().toString();
    ASSERT_TRUE((*kv)->ensureBucket("colours", milliseconds(0)).isOk());
    ASSERT_TRUE((*kv)->put("colours", "prod", "green").isOk());
    ASSERT_TRUE((*kv)->ensureBucket("short", milliseconds(500)).isOk());
  }
  auto kv = SqliteKeyValueStore::open(path, milliseconds(60000));
  ASSERT_TRUE(kv.ok()) << kv.status().toString();
  EXPECT_EQ(*(*kv)->get("colours", "prod"), std::optional<std::string>("green"));

  // The bucket keeps the TTL it was created with, across the restart too.
  ASSERT_TRUE((*kv)->ensureBucket("short", milliseconds(0)).isOk());
  ASSERT_TRUE((*kv)->put("short", "key", "value").isOk());
  EXPECT_TRUE(eventually([&] { return *(*kv)->get("short", "key") == std::nullopt; }));
}

TEST_F(EmbeddedBackendsTest, BadDatabasePathFailsToOpen) {
  auto kv = SqliteKeyValueStore::open(dir_->path() + "/missing/dir/kv.sqlite", milliseconds(1000));
  EXPECT_FALSE(kv.ok());
  EXPECT_EQ(kv.status().code(), StatusCode::IoError);
}

TEST_F(EmbeddedBackendsTest, BlobFilesSurviveReopeningAndAreSweptWhenExpired) {
  std::string dir = dir_->path() + "/blobs";
  {
    auto blobs = EmbeddedBlobStore::open(dir, milliseconds(60000));
    ASSERT_TRUE(blobs.ok()) << blobs.status().toString();
    ASSERT_TRUE((*blobs)->put("../escape/attempt", "kept", milliseconds(60000)).isOk());
    ASSERT_TRUE((*blobs)->put("short", "gone soon", milliseconds(300)).isOk());
  }
  EXPECT_EQ(blobFiles(dir), 2u);

  // A fast sweeper removes the expired file by itself.
  auto blobs = EmbeddedBlobStore::open(dir, milliseconds(100));
  ASSERT_TRUE(blobs.ok());
  EXPECT_EQ(*(*blobs)->get("../escape/attempt"), std::optional<std::string>("kept"));
  EXPECT_TRUE(eventually([&] { return blobFiles(dir) == 1; }));
  EXPECT_EQ(*(*blobs)->get("short"), std::nullopt);
  EXPECT_EQ(blobFiles(dir_->path()), 1u) << "a blob escaped its directory";
}

TEST_F(EmbeddedBackendsTest, VeryLongBlobKeysWork) {
  auto blobs = EmbeddedBlobStore::open(dir_->path(), milliseconds(60000));
  ASSERT_TRUE(blobs.ok());
  std::string key_a(1000, 'a');
  std::string key_b = key_a + "b";
  ASSERT_TRUE((*blobs)->put(key_a, "A", milliseconds(60000)).isOk());
  ASSERT_TRUE((*blobs)->put(key_b, "B", milliseconds(60000)).isOk());
  EXPECT_EQ(*(*blobs)->get(key_a), std::optional<std::string>("A"));
  EXPECT_EQ(*(*blobs)->get(key_b), std::optional<std::string>("B"));
  EXPECT_EQ((*blobs)->put(std::string(1025, 'a'), "x", milliseconds(1000)).code(),
            StatusCode::InvalidArgument);
}

TEST_F(EmbeddedBackendsTest, OldJobsAreDroppedAndIdsLeaveTheWindow) {
  QueueSettings settings;
  settings.max_age = milliseconds(300);
  settings.dedup_window = milliseconds(200);
  EmbeddedWorkQueue queue(settings);
  Job job;
  job.id = "guid";
  ASSERT_TRUE(queue.enqueue("q", job).isOk());
  std::this_thread::sleep_for(milliseconds(350));
  EXPECT_EQ(queue.stats("q")->waiting, 0u);
  auto lease = queue.lease("q", milliseconds(10));
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(*lease, nullptr);

  // Past the window, the same id is a new job.
  ASSERT_TRUE(queue.enqueue("q", job).isOk());
  EXPECT_EQ(queue.stats("q")->waiting, 1u);
}

TEST_F(EmbeddedBackendsTest, LeaseThatRanOutCannotBeSettled) {
  QueueSettings settings;
  settings.lease = milliseconds(100);
  EmbeddedWorkQueue queue(settings);
  Job job;
  job.id = "guid";
  ASSERT_TRUE(queue.enqueue("q", job).isOk());
  auto first = queue.lease("q", milliseconds(10));
  ASSERT_TRUE(first.ok() && *first != nullptr);
  auto second = queue.lease("q", milliseconds(1000));
  ASSERT_TRUE(second.ok() && *second != nullptr);
  EXPECT_EQ((*first)->ack().code(), StatusCode::NotFound);
  EXPECT_TRUE((*second)->ack().isOk());
}

TEST_F(EmbeddedBackendsTest, LeasesOutliveTheirQueue) {
  auto queue = std::make_unique<EmbeddedWorkQueue>(QueueSettings());
  Job job;
  job.id = "guid";
  ASSERT_TRUE(queue->enqueue("q", job).isOk());
  auto lease = queue->lease("q", milliseconds(10));
  ASSERT_TRUE(lease.ok() && *lease != nullptr);
  queue.reset();
  EXPECT_TRUE((*lease)->ack().isOk());
}

TEST_F(EmbeddedBackendsTest, FactoryReportsBadBlobDirectory) {
  EmbeddedOptions options;
  ASSERT_TRUE(writeFile(dir_->path() + "/file", "x").isOk());
  options.blob_dir = dir_->path() + "/file/blobs";
  auto backends = makeEmbeddedBackends(options);
  EXPECT_FALSE(backends.ok());
}

}  // namespace
}  // namespace cex

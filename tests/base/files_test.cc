#include "base/files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace cex {
namespace {

bool exists(const std::string& path) {
  struct stat st {};

  return ::lstat(path.c_str(), &st) == 0;
}

TEST(FilesTest, TempDirIsRemovedWithItsContents) {
  std::string path;
  {
    auto dir = TempDir::create("/tmp", "cex-files-test-");
    ASSERT_TRUE(dir.ok()) << dir.status().toString();
    path = dir->path();
    ASSERT_TRUE(makeDirectories(path + "/a/b").isOk());
    ASSERT_TRUE(writeFile(path + "/a/b/f.txt", "hello").isOk());
    // An unreadable directory must not stop the removal.
    ASSERT_EQ(::chmod((path + "/a").c_str(), 0), 0);
  }
  EXPECT_FALSE(exists(path));
}

TEST(FilesTest, RemoveTreeDoesNotFollowSymlinks) {
  auto outside = TempDir::create("/tmp", "cex-files-outside-");
  ASSERT_TRUE(outside.ok());
  ASSERT_TRUE(writeFile(outside->path() + "/keep.txt", "x").isOk());
  {
    auto dir = TempDir::create("/tmp", "cex-files-test-");
    ASSERT_TRUE(dir.ok());
    ASSERT_EQ(::symlink(outside->path().c_str(), (dir->path() + "/link").c_str()), 0);
  }
  EXPECT_TRUE(exists(outside->path() + "/keep.txt"));
}

TEST(FilesTest, ReadFileHonoursLimitAndReportsMissingFiles) {
  auto dir = TempDir::create("/tmp", "cex-files-test-");
  ASSERT_TRUE(dir.ok());
  std::string file = dir->path() + "/f";
  ASSERT_TRUE(writeFileAtomically(file, "0123456789").isOk());
  auto data = readFile(file);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "0123456789");
  EXPECT_EQ(readFile(file, 5).status().code(), StatusCode::ResourceExhausted);
  EXPECT_EQ(readFile(dir->path() + "/missing").status().code(), StatusCode::NotFound);
}

}  // namespace
}  // namespace cex

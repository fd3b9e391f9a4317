#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cex {

// Reads a whole file. A file larger than `max_bytes` is an error (ResourceExhausted).
Result<std::string> readFile(const std::string& path, uint64_t max_bytes = UINT64_MAX);

// Writes `data` to `path`, replacing it.
Status writeFile(const std::string& path, std::string_view data);

// Writes to a temporary sibling and renames it over `path`, so readers never see half a file.
Status writeFileAtomically(const std::string& path, std::string_view data);

// Creates `path` and its missing parents.
Status makeDirectories(const std::string& path);

// Removes a file or a directory tree. Never follows symbolic links out of the tree, and
// makes unreadable directories readable first. Missing paths are not an error.
Status removeTree(const std::string& path);

// Free space available to unprivileged users on the filesystem holding `path`, in MiB.
Result<uint64_t> freeSpaceMiB(const std::string& path);

// A private directory created under a root (mode 0700), removed with everything in it when
// the object is destroyed.
class TempDir {
 public:
  // Creates `<root>/<prefix>XXXXXX`.
  static Result<TempDir> create(const std::string& root, std::string_view prefix);

  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}

  std::string path_;  // Empty once moved from.
};

}  // namespace cex

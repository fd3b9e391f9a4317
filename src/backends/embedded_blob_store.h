#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "backends/blob_store.h"

namespace cex {

// Blobs in a directory (one file each, named after the escaped key, its modification time set
// to when it expires) or, without a directory, in memory. Files are written under a temporary
// name and renamed, so a reader sees the old value or the new one, never half of one. A
// background thread removes expired blobs every `sweep_interval`; reads never return them
// either way.
class EmbeddedBlobStore final : public BlobStore {
 public:
  // `dir` is created if missing; empty keeps the blobs in memory.
  static Result<std::unique_ptr<EmbeddedBlobStore>> open(const std::string& dir,
                                                         std::chrono::milliseconds sweep_interval);
  ~EmbeddedBlobStore() override;
  EmbeddedBlobStore(const EmbeddedBlobStore&) = delete;
  EmbeddedBlobStore& operator=(const EmbeddedBlobStore&) = delete;

  Status put(std::string_view key, std::string_view data, std::chrono::milliseconds ttl) override;
  Result<std::optional<std::string>> get(std::string_view key) override;
  Status erase(std::string_view key) override;

  // Removes the expired blobs now (the sweeper calls this); returns how many went.
  size_t sweep();

  // The storage (files or memory) and the sweeper thread.
  struct Impl;

 private:
  explicit EmbeddedBlobStore(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace cex

#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "backends/blob_store.h"
#include "backends/key_value.h"

namespace cex {

// Blobs in one key-value bucket ("CEX_BLOBS", whose TTL is the longest a blob may live), cut
// into 512 KiB chunks so that any size fits under the server's message limit. A blob is its
// chunks, written under a fresh generation, then a small manifest naming that generation, its
// size and its expiry; readers follow the manifest, so they see the old blob or the new one.
// Chunks of a replaced or erased blob are removed after the manifest moves on (a reader that
// loses that race reads again).
class NatsBlobStore final : public BlobStore {
 public:
  static constexpr const char* kBucket = "CEX_BLOBS";
  static constexpr size_t kChunkSize = size_t{512} * 1024;

  // Stores through `kv` (the NATS key-value store of the same connection).
  NatsBlobStore(std::shared_ptr<KeyValueStore> kv, std::chrono::milliseconds max_ttl);
  ~NatsBlobStore() override;
  NatsBlobStore(const NatsBlobStore&) = delete;
  NatsBlobStore& operator=(const NatsBlobStore&) = delete;

  Status put(std::string_view key, std::string_view data, std::chrono::milliseconds ttl) override;
  Result<std::optional<std::string>> get(std::string_view key) override;
  Status erase(std::string_view key) override;

  // What a manifest says.
  struct Manifest {
    std::string generation;
    uint64_t size = 0;
    uint64_t chunks = 0;
    int64_t expires_ms = 0;  // since the epoch
  };

 private:
  // Creates the bucket with its TTL the first time it is needed.
  Status ensureBucket();
  Result<std::optional<Manifest>> readManifest(const std::string& name);
  // One attempt at a read; nullopt in `*changed` if the blob was replaced meanwhile.
  Result<std::optional<std::string>> readOnce(const std::string& name, bool* changed);
  void eraseChunks(const std::string& name, const Manifest& manifest);
  std::string newGeneration();

  std::shared_ptr<KeyValueStore> kv_;
  std::chrono::milliseconds max_ttl_;
  std::mutex mu_;
  bool bucket_ready_ = false;  // guarded by mu_
  std::mt19937_64 random_;     // guarded by mu_
};

}  // namespace cex

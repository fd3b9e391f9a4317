#include "backends/nats_blob_store.h"

#include <cctype>
#include <charconv>
#include <sstream>

#include <spdlog/spdlog.h>

#include "backends/naming.h"
#include "base/hash.h"

namespace cex {

namespace {

constexpr size_t kMaxName = 200;
constexpr int kReadAttempts = 3;

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The blob key as one key token: letters, digits, '_' and '-' stay, any other byte is '='
// and two hex digits; a name that would be too long becomes "==" and the key's digest (no
// escaped name starts with "==").
std::string nameFor(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string name;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '_' || c == '-') {
      name += static_cast<char>(c);
    } else {
      name += '=';
      name += kHex[c >> 4];
      name += kHex[c & 15];
    }
  }
  return name.size() <= kMaxName ? name : "==" + hash128(key).toHex();
}

std::string manifestKey(const std::string& name) {
  return "m." + name;
}

std::string chunkKey(const std::string& name, const std::string& generation, uint64_t index) {
  return "c." + name + "." + generation + "." + std::to_string(index);
}

// "1 <generation> <size> <chunks> <expires_ms>"; the leading 1 is the format's version.
std::string formatManifest(const NatsBlobStore::Manifest& manifest) {
  return "1 " + manifest.generation + " " + std::to_string(manifest.size) + " " +
         std::to_string(manifest.chunks) + " " + std::to_string(manifest.expires_ms);
}

std::optional<NatsBlobStore::Manifest> parseManifest(const std::string& text) {
  std::istringstream in(text);
  int version = 0;
  NatsBlobStore::Manifest manifest;
  in >> version >> manifest.generation >> manifest.size >> manifest.chunks >> manifest.expires_ms;
  if (!in || version != 1) {
    return std::nullopt;
  }
  return manifest;
}

}  // namespace

NatsBlobStore::NatsBlobStore(std::shared_ptr<KeyValueStore> kv, std::chrono::milliseconds max_ttl)
    : kv_(std::move(kv)), max_ttl_(max_ttl), random_(std::random_device()()) {}

NatsBlobStore::~NatsBlobStore() = default;

Status NatsBlobStore::ensureBucket() {
  std::lock_guard lock(mu_);
  if (bucket_ready_) {
    return Status::ok();
  }
  Status s = kv_->ensureBucket(kBucket, max_ttl_);
  bucket_ready_ = s.isOk();
  return s;
}

std::string NatsBlobStore::newGeneration() {
  std::lock_guard lock(mu_);
  char text[17];
  auto [end, ec] = std::to_chars(text, text + 16, random_(), 16);
  return std::string(text, end);
}

Result<std::optional<NatsBlobStore::Manifest>> NatsBlobStore::readManifest(
    const std::string& name) {
  Result<std::optional<std::string>> text = kv_->get(kBucket, manifestKey(name));
  if (!text.ok()) {
    return text.status();
  }
  if (!text->has_value()) {
    return std::optional<Manifest>();
  }
  std::optional<Manifest> manifest = parseManifest(**text);
  if (!manifest.has_value()) {
    return Status::internal("blob manifest " + name + ": unreadable");
  }
  return manifest;
}

void NatsBlobStore::eraseChunks(const std::string& name, const Manifest& manifest) {
  for (uint64_t i = 0; i < manifest.chunks; ++i) {
    if (Status s = kv_->erase(kBucket, chunkKey(name, manifest.generation, i)); !s.isOk()) {
      // Left over, a chunk still goes when the bucket's TTL runs out.
      spdlog::debug("blob chunk left for the ttl key={} error={}", name, s.message());
      return;
    }
  }
}

Status NatsBlobStore::put(std::string_view key, std::string_view data,
                          std::chrono::milliseconds ttl) {
  if (Status s = checkBlobKey(key); !s.isOk()) {
    return s;
  }
  if (ttl.count() <= 0) {
    return Status::invalidArgument("blob put: ttl must be positive");
  }
  if (Status s = ensureBucket(); !s.isOk()) {
    return s;
  }
  std::string name = nameFor(key);
  Result<std::optional<Manifest>> old = readManifest(name);

  // The chunks first, under a generation no reader knows yet.
  Manifest manifest;
  manifest.generation = newGeneration();
  manifest.size = data.size();
  manifest.chunks = (data.size() + kChunkSize - 1) / kChunkSize;
  manifest.expires_ms = nowMs() + std::min(ttl, max_ttl_).count();
  for (uint64_t i = 0; i < manifest.chunks; ++i) {
    std::string_view chunk = data.substr(i * kChunkSize, kChunkSize);
    if (Status s = kv_->put(kBucket, chunkKey(name, manifest.generation, i), chunk); !s.isOk()) {
      eraseChunks(name, Manifest{manifest.generation, 0, i, 0});
      return s;
    }
  }

  // The manifest switches readers over at once; then the old chunks can go.
  if (Status s = kv_->put(kBucket, manifestKey(name), formatManifest(manifest)); !s.isOk()) {
    eraseChunks(name, manifest);
    return s;
  }
  if (old.ok() && old->has_value()) {
    eraseChunks(name, **old);
  }
  return Status::ok();
}

Result<std::optional<std::string>> NatsBlobStore::readOnce(const std::string& name, bool* changed) {
  *changed = false;
  Result<std::optional<Manifest>> manifest = readManifest(name);
  if (!manifest.ok()) {
    return manifest.status();
  }
  if (!manifest->has_value() || (*manifest)->expires_ms <= nowMs()) {
    return std::optional<std::string>();
  }
  std::string data;
  data.reserve((*manifest)->size);
  for (uint64_t i = 0; i < (*manifest)->chunks; ++i) {
    Result<std::optional<std::string>> chunk =
        kv_->get(kBucket, chunkKey(name, (*manifest)->generation, i));
    if (!chunk.ok()) {
      return chunk.status();
    }
    if (!chunk->has_value()) {
      *changed = true;
      return std::optional<std::string>();
    }
    data += **chunk;
  }
  if (data.size() != (*manifest)->size) {
    return Status::internal("blob " + name + ": chunks add up to " + std::to_string(data.size()) +
                            " bytes, the manifest says " + std::to_string((*manifest)->size));
  }
  return std::optional<std::string>(std::move(data));
}

Result<std::optional<std::string>> NatsBlobStore::get(std::string_view key) {
  if (Status s = checkBlobKey(key); !s.isOk()) {
    return s;
  }
  if (Status s = ensureBucket(); !s.isOk()) {
    return s;
  }
  // A chunk missing under a live manifest means the blob was replaced while being read.
  std::string name = nameFor(key);
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    bool changed = false;
    Result<std::optional<std::string>> data = readOnce(name, &changed);
    if (!changed) {
      return data;
    }
  }
  return Status::unavailable("blob get " + name + ": replaced while being read, " +
                             std::to_string(kReadAttempts) + " times");
}

Status NatsBlobStore::erase(std::string_view key) {
  if (Status s = checkBlobKey(key); !s.isOk()) {
    return s;
  }
  if (Status s = ensureBucket(); !s.isOk()) {
    return s;
  }
  std::string name = nameFor(key);
  Result<std::optional<Manifest>> manifest = readManifest(name);
  if (!manifest.ok()) {
    return manifest.status();
  }
  if (!manifest->has_value()) {
    return Status::ok();
  }
  if (Status s = kv_->erase(kBucket, manifestKey(name)); !s.isOk()) {
    return s;
  }
  eraseChunks(name, **manifest);
  return Status::ok();
}

}  // namespace cex

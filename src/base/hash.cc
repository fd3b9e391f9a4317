#include "base/hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <fmt/format.h>

namespace cex {

std::string Hash128::toHex() const {
  return fmt::format("{:016x}{:016x}", high, low);
}

Hasher::Hasher() : state_(XXH3_createState()) {
  XXH3_128bits_reset(static_cast<XXH3_state_t*>(state_));
}

Hasher::~Hasher() {
  XXH3_freeState(static_cast<XXH3_state_t*>(state_));
}

Hasher& Hasher::add(std::string_view field) {
  auto* state = static_cast<XXH3_state_t*>(state_);
  uint64_t len = field.size();
  XXH3_128bits_update(state, &len, sizeof len);
  XXH3_128bits_update(state, field.data(), field.size());
  return *this;
}

Hasher& Hasher::add(int64_t field) {
  XXH3_128bits_update(static_cast<XXH3_state_t*>(state_), &field, sizeof field);
  return *this;
}

Hash128 Hasher::digest() const {
  XXH128_hash_t h = XXH3_128bits_digest(static_cast<XXH3_state_t*>(state_));
  return {h.high64, h.low64};
}

Hash128 hash128(std::string_view data) {
  XXH128_hash_t h = XXH3_128bits(data.data(), data.size());
  return {h.high64, h.low64};
}

}  // namespace cex

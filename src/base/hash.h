#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cex {

// A 128-bit non-cryptographic digest (XXH3-128), used for in-process cache keys.
struct Hash128 {
  uint64_t high = 0;
  uint64_t low = 0;

  bool operator==(const Hash128&) const = default;
  std::string toHex() const;
};

struct Hash128Hasher {
  size_t operator()(const Hash128& h) const { return static_cast<size_t>(h.low ^ h.high); }
};

// Builds a digest from a sequence of fields. Each field is framed by its length, so
// ("ab","c") and ("a","bc") hash differently.
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  Hasher& add(std::string_view field);
  Hasher& add(int64_t field);
  Hash128 digest() const;

 private:
  void* state_;  // XXH3_state_t, kept opaque so xxhash.h stays out of this header.
};

Hash128 hash128(std::string_view data);

}  // namespace cex

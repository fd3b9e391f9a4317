#include "asm/symbol_set.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace cex {

namespace {

constexpr size_t kInitialSlots = 1024;

}  // namespace

SymbolSet::SymbolSet() : slots_(kInitialSlots) {}

uint64_t SymbolSet::hashOf(std::string_view name) {
  return XXH3_64bits(name.data(), name.size());
}

size_t SymbolSet::findSlot(std::string_view name, uint64_t hash) const {
  size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (true) {
    const Slot& slot = slots_[i];
    if (slot.data == nullptr ||
        (slot.hash == hash && std::string_view(slot.data, slot.size) == name)) {
      return i;
    }
    i = (i + 1) & mask;
  }
}

void SymbolSet::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  for (const Slot& slot : old) {
    if (slot.data != nullptr) {
      slots_[findSlot(std::string_view(slot.data, slot.size), slot.hash)] = slot;
    }
  }
}

bool SymbolSet::insert(std::string_view name) {
  uint64_t hash = hashOf(name);
  size_t i = findSlot(name, hash);
  if (slots_[i].data != nullptr) {
    return false;
  }
  slots_[i] = Slot{hash, name.data(), name.size()};
  // Keep the load factor under one half so probe runs stay short.
  if (++count_ * 2 > slots_.size()) {
    grow();
  }
  return true;
}

bool SymbolSet::contains(std::string_view name, uint64_t hash) const {
  return slots_[findSlot(name, hash)].data != nullptr;
}

}  // namespace cex

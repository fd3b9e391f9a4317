#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace cex {

// A hash set of symbol names that views the text it is given (the listing must outlive it).
// The label passes do several lookups per listing line, mostly of a few repeated short names
// (mnemonics, registers), so this is an open-addressing table with cached hashes rather than
// a node-based set.
class SymbolSet {
 public:
  SymbolSet();

  // Adds `name` (non-empty); returns false when it was already there.
  bool insert(std::string_view name);
  bool contains(std::string_view name) const;

  size_t size() const { return count_; }

  // Calls fn(name) for every member, in no particular order.
  template <typename Fn>
  void forEach(Fn&& fn) const {
    for (const Slot& slot : slots_) {
      if (slot.data != nullptr) {
        fn(std::string_view(slot.data, slot.size));
      }
    }
  }

  static uint64_t hashOf(std::string_view name);

 private:
  struct Slot {
    uint64_t hash = 0;
    const char* data = nullptr;  // nullptr marks an empty slot
    size_t size = 0;
  };

  size_t findSlot(std::string_view name, uint64_t hash) const;
  void grow();

  std::vector<Slot> slots_;
  size_t count_ = 0;
};

}  // namespace cex

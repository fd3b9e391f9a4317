#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
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

  bool contains(std::string_view name) const { return contains(name, hashOf(name)); }

  // The same with hashOf(name) already at hand, for names looked up in several tables.
  bool contains(std::string_view name, uint64_t hash) const;

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

// A hash map from symbol names, viewed like SymbolSet's, to small values: the same open
// addressing, for tables with an entry per label of a listing.
template <typename Value>
class SymbolMap {
 public:
  SymbolMap() : slots_(kInitialSlots) {}

  // The value for `name` (non-empty), inserting `value` when there is none; and whether it
  // was inserted. The pointer is valid until the next insertion.
  std::pair<Value*, bool> tryEmplace(std::string_view name, uint64_t hash, Value value) {
    size_t i = findSlot(name, hash);
    if (slots_[i].data != nullptr) {
      return {&slots_[i].value, false};
    }
    slots_[i] = Slot{hash, name.data(), name.size(), value};
    // Keep the load factor under one half so probe runs stay short.
    if (++count_ * 2 > slots_.size()) {
      grow();
      i = findSlot(name, hash);
    }
    return {&slots_[i].value, true};
  }

  // The value for `name`, or nullptr.
  const Value* find(std::string_view name, uint64_t hash) const {
    const Slot& slot = slots_[findSlot(name, hash)];
    return slot.data != nullptr ? &slot.value : nullptr;
  }

  // Removes `name`; false when it was not there.
  bool erase(std::string_view name, uint64_t hash);

 private:
  static constexpr size_t kInitialSlots = 256;

  struct Slot {
    uint64_t hash = 0;
    const char* data = nullptr;  // nullptr marks an empty slot
    size_t size = 0;
    Value value{};
  };

  size_t findSlot(std::string_view name, uint64_t hash) const {
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.data == nullptr ||
          (slot.hash == hash && std::string_view(slot.data, slot.size) == name)) {
        return i;
      }
    }
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    for (const Slot& slot : old) {
      if (slot.data != nullptr) {
        slots_[findSlot(std::string_view(slot.data, slot.size), slot.hash)] = slot;
      }
    }
  }

  std::vector<Slot> slots_;
  size_t count_ = 0;
};

template <typename Value>
bool SymbolMap<Value>::erase(std::string_view name, uint64_t hash) {
  size_t hole = findSlot(name, hash);
  if (slots_[hole].data == nullptr) {
    return false;
  }
  // Close the hole by moving back every later entry of the probe run that may live there, so
  // lookups never stop early at it.
  size_t mask = slots_.size() - 1;
  for (size_t i = (hole + 1) & mask; slots_[i].data != nullptr; i = (i + 1) & mask) {
    size_t home = slots_[i].hash & mask;
    bool home_after_hole = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (!home_after_hole) {
      slots_[hole] = slots_[i];
      hole = i;
    }
  }
  slots_[hole] = Slot{};
  --count_;
  return true;
}

}  // namespace cex

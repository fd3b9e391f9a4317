#pragma once

#include <cstdint>
#include <string_view>

#include "asm/source_map.h"
#include "asm/symbol_set.h"

namespace cex {

// What the first pass over a GNU-style listing learns. Names view the listing, which must
// outlive this.
struct ListingScan {
  // Labels that the output keeps: referenced by an instruction (or by anything at all when
  // directives are shown), declared .globl/.weak, or reachable through data that a used
  // label emits (".quad .LC0" under a used ".LC1:").
  SymbolSet used;
  // Every name some line defines (labels, assignments, .set names); label references to
  // other names can never survive, so the second pass skips them early.
  SymbolSet defined;
  SourceFileTable files;
  int64_t line_count = 0;
};

// Runs the first pass. `filter_directives` mirrors the directives filter: with it off every
// symbol on a non-directive line counts as used.
ListingScan scanListing(std::string_view listing, bool filter_directives);

}  // namespace cex

#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "asm/asm_classify.h"
#include "asm/line_reader.h"
#include "asm/source_map.h"
#include "asm/symbol_set.h"

namespace cex {

// Consecutive lines: `begin` is where the first starts, `end` where the line after the last
// starts.
struct LineSpan {
  size_t begin = 0;
  size_t end = 0;
};

// Whether the second pass drops `line` as a plain directive whenever its state allows that at
// all (see TextAsmParser::dropsPlainDirective): an indented directive other than a source
// location, a .set or a CUDA definition, without '=', ".inst" or a block end (`marks`).
inline bool isQuietDirective(std::string_view line, const LineHead& head, const BlockMarks& marks) {
  return head.first == '.' && isBlankChar(line[0]) && line.back() != '(' && !marks.equals &&
         !marks.inst && !marks.blockEnd() && !hasPrefixAt(head.directive, 0, "set") &&
         !isSourceDirectiveName(head.directive);
}

// What the first pass over a GNU-style listing learns. Names view the listing, which must
// outlive this.
struct ListingScan {
  // Labels that the output keeps: referenced by an instruction (or by anything at all when
  // directives are shown), declared .globl/.weak, or reachable through data that a used
  // label emits (".quad .LC0" under a used ".LC1:").
  SymbolSet used;
  // Names that stay defined even when unused: labels followed by more text on their line
  // ("foo: # comment", "1: call mcount") and assignments other than "x = .". With `used`
  // this bounds what labelDefinitions can hold, so the second pass can skip operands that
  // will never name a label without keeping them around.
  SymbolSet kept_definitions;
  // Without the directives filter `used` holds every symbol of the listing and bounds nothing,
  // so the pass then also records every name a line defines (labels, assignments, .set names,
  // CUDA keywords): a tighter bound for the same purpose.
  bool records_definitions = false;
  SymbolSet definitions;
  SourceFileTable files;
  // Offsets of the lines that end a block (see isBlockEnd), that contain ".inst" and that
  // contain '=', ascending. All are rare; the second pass and its look-ahead consult these
  // instead of rescanning every line.
  std::vector<size_t> block_ends;
  std::vector<size_t> inst_lines;
  std::vector<size_t> equals_lines;
  // Runs of two or more quiet directives (isQuietDirective). Data directives among them stay
  // only under a label, and nothing in a run opens or closes one, so the second pass can skip
  // a run whole when no label is open at its start. Most of a listing is such runs.
  std::vector<LineSpan> quiet_runs;
  int64_t line_count = 0;
};

// Answers "is this line listed?" for ascending line offsets, in amortised constant time.
class OffsetCursor {
 public:
  explicit OffsetCursor(const std::vector<size_t>& offsets) : offsets_(offsets) {}

  // Offsets must be asked in ascending order.
  bool contains(size_t offset) {
    while (next_ < offsets_.size() && offsets_[next_] < offset) {
      ++next_;
    }
    return next_ < offsets_.size() && offsets_[next_] == offset;
  }

 private:
  const std::vector<size_t>& offsets_;
  size_t next_ = 0;
};

// Runs the first pass. `filter_directives` mirrors the directives filter: with it off every
// symbol on a non-directive line counts as used. The result views `lines`' text.
ListingScan scanListing(const ListingLines& lines, bool filter_directives);

}  // namespace cex

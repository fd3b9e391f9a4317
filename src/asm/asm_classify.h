#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "asm/asm_text.h"

namespace cex {

// Hand-written classifiers for lines of a GNU-as style listing (gcc, clang and most
// cross compilers). Each one answers a single question about one line without allocating;
// the parsers combine them. All views returned point into the line given.

// A label definition at the start of a line: "name:" (optionally after ".proc ").
struct LabelDef {
  std::string_view name;
  // Offset just after the ':'; equal to the line size when nothing follows the label.
  size_t end = 0;
};

namespace classify_detail {
std::optional<LabelDef> matchLabelDefSlow(std::string_view line);
}  // namespace classify_detail

inline std::optional<LabelDef> matchLabelDef(std::string_view line) {
  // Labels start the line; only ".proc name:" (any first character) may start with a blank.
  if (line.empty() || (isBlankChar(line[0]) && !(line.size() > 5 && (line[1] | 0x20) == 'p'))) {
    return std::nullopt;
  }
  return classify_detail::matchLabelDefSlow(line);
}

// "name = value": an assignment, treated as a label definition.
struct Assignment {
  std::string_view name;
  std::string_view value;
};

std::optional<Assignment> matchAssignment(std::string_view line);

// ".set name, other" where both sides are symbols: defines `name` as another name.
std::optional<std::string_view> matchSetDef(std::string_view line);

// ".set name, ." (optionally "+ 0"): `name` aliases whatever label follows.
std::optional<std::string_view> matchAlias(std::string_view line);

// ".globl/.global/.GLB/.export name" or ".weak/.weakext name": the symbol named.
std::optional<std::string_view> matchGlobalOrWeak(std::string_view line);

// ".type name, @function" (any of #%@) or ".proc name:".
bool definesFunction(std::string_view line);

// CUDA ".entry name(" / ".func (...) name(": the keyword ("entry" or "func") and where the
// match starts.
struct CudaBegin {
  std::string_view keyword;
  size_t start = 0;
};

namespace classify_detail {
std::optional<CudaBegin> matchCudaBeginSlow(std::string_view line);
}  // namespace classify_detail

inline std::optional<CudaBegin> matchCudaBegin(std::string_view line) {
  if (line.empty() || line.back() != '(') {
    return std::nullopt;
  }
  return classify_detail::matchCudaBeginSlow(line);
}

// A line holding only ")": closes a CUDA parameter list.
bool isCudaEnd(std::string_view line);

// First non-blank character is '.'.
bool isDirective(std::string_view line);

// What the parsers look at first on every line: the first non-blank character and, for a
// directive, its name (".section .text" gives "section"). Computed once per line, it lets a
// parser try only the classifiers that can match.
struct LineHead {
  char first = '\0';           // '\0' for a blank line
  std::string_view directive;  // empty unless `first` is '.'
};

inline LineHead lineHead(std::string_view line) {
  LineHead head;
  size_t i = skipBlanks(line, 0);
  if (i < line.size()) {
    head.first = line[i];
    if (head.first == '.') {
      head.directive = line.substr(i + 1, skipSymbolChars(line, i + 1) - i - 1);
    }
  }
  return head;
}

// A data-emitting directive (.byte, .long, .string, .zero, ...), matched as a prefix the way
// the reference does (so ".intel_syntax" counts as ".int").
bool isDataDefinition(std::string_view line);

// The same test on a directive's name (see LineHead).
bool isDataDirectiveName(std::string_view name);

// Contains ".inst" (an instruction emitted as data).
bool hasInstDirective(std::string_view line);

// The line emits an instruction: what follows any label definition and precedes any comment
// starts with a letter (optionally after an LLVM-style "%name ="), or is an .inst directive,
// and is not an assignment. NVCC code also accepts '@' predicates and '|'.
bool hasOpcode(std::string_view line, bool in_nvcc_code);

// Comment-only lines ('#', '@', '//', a whole /*...*/, ';' forms); NVCC has its own set.
bool isCommentOnly(std::string_view line);
bool isCommentOnlyNvcc(std::string_view line);

// Inline assembly markers, tested on the trimmed line.
enum class AppBlockMark { None, Begin, End };

AppBlockMark appBlockMark(std::string_view line);

// Function and section boundaries named anywhere in a line.
struct BlockMarks {
  bool start_proc = false;  // .cfi_startproc
  bool end_proc = false;    // .cfi_endproc
  bool section = false;     // .text, .data or .section (as a prefix: .text.startup, .data1)
  bool inst = false;        // .inst (an instruction given as data)
  bool equals = false;      // an '=' anywhere (assignments need one)

  // The end of a block: the current source and label no longer apply.
  bool blockEnd() const { return end_proc || section; }
};

// `readable` is how many bytes from line.data() may be read, at least line.size(): the scan
// goes sixteen bytes at a time and may look past the line's end, though not past that.
BlockMarks blockMarks(std::string_view line, size_t readable);

inline BlockMarks blockMarks(std::string_view line) {
  return blockMarks(line, line.size());
}

inline bool isBlockEnd(std::string_view line) {
  return blockMarks(line).blockEnd();
}

// An indented "name:"; inside inline assembly such a line loses its indent.
std::string_view fixLabelIndentation(std::string_view line);

// A line starting with "$name:": listings that have one use '$' as a symbol start character
// (MIPS).
bool isDollarLabelLine(std::string_view line);

// Calls `fn(token)` for every symbol-like token in `line`: [.A-Z_a-z][\w$.]* (also '$' first
// when `dollar_start`) or the same in double quotes.
template <typename Fn>
void forEachSymbolToken(std::string_view line, bool dollar_start, Fn&& fn) {
  size_t i = 0;
  while (i < line.size()) {
    char c = line[i];
    if (isSymbolStart(c) || (dollar_start && c == '$')) {
      size_t end = skipSymbolChars(line, i + 1);
      fn(line.substr(i, end - i));
      i = end;
      continue;
    }
    if (c == '"' && i + 1 < line.size() &&
        (isSymbolStart(line[i + 1]) || (dollar_start && line[i + 1] == '$'))) {
      size_t end = skipSymbolChars(line, i + 2);
      if (end < line.size() && line[end] == '"') {
        fn(line.substr(i, end + 1 - i));
        i = end + 1;
        continue;
      }
    }
    ++i;
  }
}

// A symbol referenced from an operand, possibly followed by "@suffix" groups such as @PLT.
struct OperandRef {
  size_t start = 0;         // byte offset in the text
  std::string_view name;    // the whole reference, suffixes included
  std::string_view target;  // the symbol alone
};

// Replaces `refs` with the symbols referenced by the operands of `text`: the part before the
// first comment, minus the leading mnemonic. "$.LC0" yields ".LC0". A quote touching a
// symbol is part of it, so "main\000" inside a string names no label "main".
void collectOperandRefs(std::string_view text, std::vector<OperandRef>* refs);

}  // namespace cex

#include "asm/asm_text.h"

#include <cstdint>

namespace cex {

namespace {}  // namespace

size_t quotedStringEnd(std::string_view s, size_t open) {
  size_t i = open + 1;
  while (i < s.size()) {
    if (s[i] == '"') {
      return i + 1;
    }
    if (s[i] == '\\') {
      if (i + 1 >= s.size()) {
        return std::string_view::npos;
      }
      i += 2;
    } else {
      ++i;
    }
  }
  return std::string_view::npos;
}

namespace {

// Collapses one quote-free piece. `at_start` says whether the piece begins the line, where
// an indent is kept as one or two spaces instead of one.
void squashPiece(std::string_view piece, bool at_start, std::string* out) {
  if (isBlankLine(piece)) {
    return;
  }
  size_t i = 0;
  if (isBlankChar(piece[0])) {
    bool two = at_start && piece.size() > 1 && piece[1] == ' ';
    out->append(two ? "  " : " ");
    i = skipBlanks(piece, 0);
  }
  while (i < piece.size()) {
    size_t word_end = i;
    while (word_end < piece.size() && !isBlankChar(piece[word_end])) {
      ++word_end;
    }
    out->append(piece.substr(i, word_end - i));
    if (word_end < piece.size()) {
      out->push_back(' ');
    }
    i = skipBlanks(piece, word_end);
  }
}

void squashWithQuotes(std::string_view line, bool at_start, std::string* out) {
  // Find the first '"' that opens a complete quoted string; an unterminated one is text.
  size_t open = line.find('"');
  size_t close = std::string_view::npos;
  while (open != std::string_view::npos) {
    close = quotedStringEnd(line, open);
    if (close != std::string_view::npos) {
      break;
    }
    open = line.find('"', open + 1);
  }
  if (open == std::string_view::npos) {
    squashPiece(line, at_start, out);
    return;
  }
  squashPiece(line.substr(0, open), at_start, out);
  out->append(line.substr(open, close - open));
  squashWithQuotes(line.substr(close), false, out);
}

}  // namespace

std::string_view trimBlanks(std::string_view s) {
  size_t begin = skipBlanks(s, 0);
  size_t end = s.size();
  while (end > begin && isBlankChar(s[end - 1])) {
    --end;
  }
  return s.substr(begin, end - begin);
}

bool isBlankLine(std::string_view s) {
  return skipBlanks(s, 0) == s.size();
}

size_t utf16Length(std::string_view s) {
  size_t n = 0;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x80 || c >= 0xC0) {
      n += c >= 0xF0 ? 2 : 1;
    }
  }
  return n;
}

std::string_view beforeComment(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' || line[i] == ';') {
      return line.substr(0, i);
    }
  }
  return line;
}

void appendExpandedTabs(std::string_view line, std::string* out) {
  static constexpr std::string_view kSpaces = "        ";
  int64_t offset16 = 0;
  int64_t extra = 0;
  size_t run_start = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c == '\t') {
      out->append(line.substr(run_start, i - run_start));
      int64_t misalignment = (offset16 + extra) & 7;
      out->append(kSpaces.substr(static_cast<size_t>(misalignment)));
      // The reference advances the offset by the misalignment instead of the spaces added.
      extra += misalignment - 1;
      run_start = i + 1;
    }
    if (c < 0x80 || c >= 0xC0) {
      offset16 += c >= 0xF0 ? 2 : 1;
    }
  }
  out->append(line.substr(run_start));
}

void appendSquashedWhitespace(std::string_view line, std::string* out) {
  squashWithQuotes(line, true, out);
}

}  // namespace cex

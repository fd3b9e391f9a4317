#include "asm/asm_text.h"

#include <cstdint>

namespace cex {

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

namespace {

// UTF-16 code units of one byte of UTF-8: none for a continuation byte, two for the lead byte
// of a four-byte sequence.
size_t utf16Units(char ch) {
  auto c = static_cast<unsigned char>(ch);
  if (c >= 0x80 && c < 0xC0) {
    return 0;
  }
  return c >= 0xF0 ? 2 : 1;
}

}  // namespace

size_t utf16Length(std::string_view s) {
  // Listings are nearly all ASCII, where a chunk of sixteen bytes is sixteen units.
  size_t n = 0;
  size_t i = 0;
  for (; i + 16 <= s.size(); i += 16) {
    if (highBitMask16(s.data() + i) == 0) {
      n += 16;
      continue;
    }
    for (size_t k = i; k < i + 16; ++k) {
      n += utf16Units(s[k]);
    }
  }
  for (; i < s.size(); ++i) {
    n += utf16Units(s[i]);
  }
  return n;
}

std::string_view beforeComment(std::string_view line) {
  size_t i = 0;
  for (; i + 16 <= line.size(); i += 16) {
    uint32_t found = matchMask16(line.data() + i, '#') | matchMask16(line.data() + i, ';');
    if (found != 0) {
      return line.substr(0, i + static_cast<size_t>(__builtin_ctz(found)));
    }
  }
  for (; i < line.size(); ++i) {
    if (line[i] == '#' || line[i] == ';') {
      return line.substr(0, i);
    }
  }
  return line;
}

void appendExpandedTabs(std::string_view line, std::string* out) {
  static constexpr std::string_view kSpaces = "        ";
  // The offset counts UTF-16 units up to each tab, tabs themselves included.
  int64_t offset16 = 0;
  int64_t extra = 0;
  size_t run_start = 0;
  for (size_t tab = findByte(line, 0, '\t'); tab != std::string_view::npos;
       tab = findByte(line, run_start, '\t')) {
    std::string_view run = line.substr(run_start, tab - run_start);
    out->append(run);
    offset16 += static_cast<int64_t>(utf16Length(run));
    int64_t misalignment = (offset16 + extra) & 7;
    out->append(kSpaces.substr(static_cast<size_t>(misalignment)));
    // The reference advances the offset by the misalignment instead of the spaces added.
    extra += misalignment - 1;
    offset16 += 1;
    run_start = tab + 1;
  }
  out->append(line.substr(run_start));
}

void appendSquashedWhitespace(std::string_view line, std::string* out) {
  squashWithQuotes(line, true, out);
}

}  // namespace cex

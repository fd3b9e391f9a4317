#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace cex {

// Character classes and text helpers shared by the asm parsers. They follow the meaning the
// API's clients expect: "blank" is the ASCII whitespace set, a "word" character is
// [A-Za-z0-9_], and columns are counted in UTF-16 code units, as the browser does.

// Bits of the character class table below.
enum CharClassBit : uint8_t {
  kBlankBit = 1,
  kAlphaBit = 2,
  kDigitBit = 4,
  kWordBit = 8,          // [A-Za-z0-9_]
  kSymbolStartBit = 16,  // [.A-Z_a-z]
  kSymbolCharBit = 32,   // [\w$.]
  kHexLowerBit = 64,     // [0-9a-f]
};

// One lookup per character instead of a chain of comparisons: the parsers classify every
// byte of the listing at least once.
struct CharClassTable {
  uint8_t bits[256] = {};

  constexpr CharClassTable() {
    for (int c = 0; c < 256; ++c) {
      bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      bool digit = c >= '0' && c <= '9';
      bool word = alpha || digit || c == '_';
      uint8_t b = 0;
      b |= (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') ? kBlankBit
                                                                                       : 0;
      b |= alpha ? kAlphaBit : 0;
      b |= digit ? kDigitBit : 0;
      b |= word ? kWordBit : 0;
      b |= (alpha || c == '_' || c == '.') ? kSymbolStartBit : 0;
      b |= (word || c == '$' || c == '.') ? kSymbolCharBit : 0;
      b |= (digit || (c >= 'a' && c <= 'f')) ? kHexLowerBit : 0;
      bits[c] = b;
    }
  }
};

inline constexpr CharClassTable kCharClasses;

inline bool hasCharClass(char c, uint8_t bit) {
  return (kCharClasses.bits[static_cast<unsigned char>(c)] & bit) != 0;
}

inline bool isBlankChar(char c) {
  return hasCharClass(c, kBlankBit);
}

inline bool isAsciiAlpha(char c) {
  return hasCharClass(c, kAlphaBit);
}

inline bool isDigitChar(char c) {
  return hasCharClass(c, kDigitBit);
}

inline bool isHexLower(char c) {
  return hasCharClass(c, kHexLowerBit);
}

inline bool isWordChar(char c) {
  return hasCharClass(c, kWordBit);
}

// First character of a symbol name: [.A-Z_a-z].
inline bool isSymbolStart(char c) {
  return hasCharClass(c, kSymbolStartBit);
}

// Later characters of a symbol name: [\w$.].
inline bool isSymbolChar(char c) {
  return hasCharClass(c, kSymbolCharBit);
}

// Index of the first non-blank character at or after `pos` (or s.size()).
inline size_t skipBlanks(std::string_view s, size_t pos) {
  while (pos < s.size() && isBlankChar(s[pos])) {
    ++pos;
  }
  return pos;
}

// The first non-blank character of `s`, or '\0' for a blank line. Most line kinds are told
// apart by it, so parsers dispatch on it before trying the classifiers.
inline char firstNonBlank(std::string_view s) {
  size_t i = skipBlanks(s, 0);
  return i < s.size() ? s[i] : '\0';
}

// End of the run of symbol characters starting at `pos`.
inline size_t skipSymbolChars(std::string_view s, size_t pos) {
  while (pos < s.size() && isSymbolChar(s[pos])) {
    ++pos;
  }
  return pos;
}

// Whether `s` has `prefix` at `pos`. Prefixes are nearly always literals, for which the
// compiler turns the comparison into a few word compares.
inline bool hasPrefixAt(std::string_view s, size_t pos, std::string_view prefix) {
  return s.size() >= pos + prefix.size() &&
         std::memcmp(s.data() + pos, prefix.data(), prefix.size()) == 0;
}

// Bit i set where p[i] == c, for the 16 bytes at `p` (all of which must be readable). The
// parsers test every byte of a listing for a few characters; comparing sixteen at once is
// what makes that cheap.
inline uint32_t matchMask16(const char* p, char c) {
#if defined(__SSE2__)
  __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, _mm_set1_epi8(c))));
#else
  uint32_t mask = 0;
  for (uint32_t i = 0; i < 16; ++i) {
    mask |= static_cast<uint32_t>(p[i] == c) << i;
  }
  return mask;
#endif
}

// Bit i set where p[i] has its high bit set (a byte outside ASCII), for the 16 bytes at `p`.
inline uint32_t highBitMask16(const char* p) {
#if defined(__SSE2__)
  return static_cast<uint32_t>(
      _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
#else
  uint32_t mask = 0;
  for (uint32_t i = 0; i < 16; ++i) {
    mask |= static_cast<uint32_t>(static_cast<unsigned char>(p[i]) >> 7) << i;
  }
  return mask;
#endif
}

// Index of the first `c` at or after `pos`, or npos. Lines are short, so this compares in
// place instead of paying for a library call per line.
inline size_t findByte(std::string_view s, size_t pos, char c) {
  while (pos + 16 <= s.size()) {
    uint32_t found = matchMask16(s.data() + pos, c);
    if (found != 0) {
      return pos + static_cast<size_t>(__builtin_ctz(found));
    }
    pos += 16;
  }
  for (; pos < s.size(); ++pos) {
    if (s[pos] == c) {
      return pos;
    }
  }
  return std::string_view::npos;
}

// Index of the first occurrence of the two bytes `a` `b` at or after `pos`, or npos. Cheaper
// than string_view::find when `a` alone is common (like '/' of "/*" in a listing's paths).
inline size_t findPair(std::string_view s, size_t pos, char a, char b) {
  for (; pos + 17 <= s.size(); pos += 16) {
    const char* chunk = s.data() + pos;
    uint32_t found = matchMask16(chunk, a) & matchMask16(chunk + 1, b);
    if (found != 0) {
      return pos + static_cast<size_t>(__builtin_ctz(found));
    }
  }
  for (; pos + 1 < s.size(); ++pos) {
    if (s[pos] == a && s[pos + 1] == b) {
      return pos;
    }
  }
  return std::string_view::npos;
}

// Reads the decimal digits at `*pos` (at least one) and moves past them. Values saturate
// instead of overflowing.
inline bool readDecimal(std::string_view s, size_t* pos, int64_t* value) {
  size_t i = *pos;
  int64_t v = 0;
  while (i < s.size() && isDigitChar(s[i])) {
    v = v < (INT64_MAX - 9) / 10 ? v * 10 + (s[i] - '0') : INT64_MAX;
    ++i;
  }
  if (i == *pos) {
    return false;
  }
  *value = v;
  *pos = i;
  return true;
}

// Clamps a parsed number into an int (line and column numbers).
inline int clampToInt(int64_t v) {
  return v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : static_cast<int>(v));
}

// Removes blanks from both ends.
std::string_view trimBlanks(std::string_view s);

// True when the line holds nothing but blanks.
bool isBlankLine(std::string_view s);

// Number of UTF-16 code units needed for `s` (ASCII bytes count one each, 4-byte sequences
// two). Invalid bytes count one each.
size_t utf16Length(std::string_view s);

// Position just after the double-quoted string (with backslash escapes) that opens at
// `open`, or npos when it is never closed.
size_t quotedStringEnd(std::string_view s, size_t open);

// The part of `line` before its first '#' or ';'.
std::string_view beforeComment(std::string_view line);

// Appends `line` with tabs expanded the way the reference client does: each tab advances to
// the next multiple of 8 from where the running offset thinks it is, but the offset is
// advanced by the wrong amount, so only tabs that start at a column of 0 or 4 (mod 8) keep
// later tabs aligned. Columns of label references depend on reproducing this.
void appendExpandedTabs(std::string_view line, std::string* out);

// Appends `line` with horizontal whitespace collapsed (the `trim` filter): blank lines become
// empty, runs of blanks become one space, a leading indent becomes two spaces (one when the
// second character is not a space) and double-quoted strings are copied unchanged.
void appendSquashedWhitespace(std::string_view line, std::string* out);

}  // namespace cex

#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cex {

// Character classes and text helpers shared by the asm parsers. They follow the meaning the
// API's clients expect: "blank" is the ASCII whitespace set, a "word" character is
// [A-Za-z0-9_], and columns are counted in UTF-16 code units, as the browser does.

inline bool isBlankChar(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

inline bool isAsciiAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

inline bool isDigitChar(char c) {
  return c >= '0' && c <= '9';
}

inline bool isHexLower(char c) {
  return isDigitChar(c) || (c >= 'a' && c <= 'f');
}

inline bool isWordChar(char c) {
  return isAsciiAlpha(c) || isDigitChar(c) || c == '_';
}

// First character of a symbol name: [.A-Z_a-z].
inline bool isSymbolStart(char c) {
  return isAsciiAlpha(c) || c == '_' || c == '.';
}

// Later characters of a symbol name: [\w$.].
inline bool isSymbolChar(char c) {
  return isWordChar(c) || c == '$' || c == '.';
}

// Index of the first non-blank character at or after `pos` (or s.size()).
inline size_t skipBlanks(std::string_view s, size_t pos) {
  while (pos < s.size() && isBlankChar(s[pos])) {
    ++pos;
  }
  return pos;
}

// End of the run of symbol characters starting at `pos`.
inline size_t skipSymbolChars(std::string_view s, size_t pos) {
  while (pos < s.size() && isSymbolChar(s[pos])) {
    ++pos;
  }
  return pos;
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

#include "base/arguments.h"

namespace cex {

namespace {

bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Copies a single-quoted span starting after the opening quote; returns the index after it.
size_t takeSingleQuoted(std::string_view text, size_t i, std::string* word) {
  while (i < text.size() && text[i] != '\'') {
    word->push_back(text[i++]);
  }
  return i < text.size() ? i + 1 : i;
}

// Copies a double-quoted span starting after the opening quote; returns the index after it.
size_t takeDoubleQuoted(std::string_view text, size_t i, std::string* word) {
  while (i < text.size() && text[i] != '"') {
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
    }
    word->push_back(text[i++]);
  }
  return i < text.size() ? i + 1 : i;
}

}  // namespace

std::vector<std::string> splitArguments(std::string_view text) {
  std::vector<std::string> args;
  std::string word;
  bool in_word = false;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (isBlank(c)) {
      if (in_word) {
        args.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      ++i;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      i = takeSingleQuoted(text, i + 1, &word);
    } else if (c == '"') {
      i = takeDoubleQuoted(text, i + 1, &word);
    } else if (c == '\\' && i + 1 < text.size()) {
      word.push_back(text[i + 1]);
      i += 2;
    } else {
      word.push_back(c);
      ++i;
    }
  }
  if (in_word) {
    args.push_back(std::move(word));
  }
  return args;
}

}  // namespace cex

#pragma once

#include <cstddef>
#include <string_view>

#include "asm/asm_text.h"

namespace cex {

// Walks the lines of a text in place. Lines end at "\n" or "\r\n"; a final newline does not
// start another (empty) line, and a lone '\r' stays part of its line.
class LineReader {
 public:
  explicit LineReader(std::string_view text, size_t pos = 0) : text_(text), pos_(pos) {}

  // Sets `*line` to the next line; false at the end of the text.
  bool next(std::string_view* line) {
    if (pos_ >= text_.size()) {
      return false;
    }
    size_t end = findByte(text_, pos_, '\n');
    if (end == std::string_view::npos) {
      *line = text_.substr(pos_);
      pos_ = text_.size();
      return true;
    }
    size_t line_end = end > pos_ && text_[end - 1] == '\r' ? end - 1 : end;
    *line = text_.substr(pos_, line_end - pos_);
    pos_ = end + 1;
    return true;
  }

  // Offset where the next line starts.
  size_t position() const { return pos_; }

 private:
  std::string_view text_;
  size_t pos_;
};

}  // namespace cex

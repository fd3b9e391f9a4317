#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>

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

// A GNU-style listing as the text parser's passes read it. With `strip_block_comments` (the
// commentOnly filter) a block comment that opens a line, after tabs and spaces, is skipped
// together with all whitespace after it, newlines included, as if it had been cut out of the
// text; a line may then start where a comment ended. A lone '\r' counts as a line start for
// this, though not for splitting lines. Skipping while reading spares a stripped copy of the
// listing.
//
// Lines are identified by offsets into the listing: where their first byte is. Readers started
// at any offset or position a reader reported see the same lines again.
class ListingLines {
 public:
  ListingLines(std::string_view listing, bool strip_block_comments);

  ListingLines(const ListingLines&) = delete;
  ListingLines& operator=(const ListingLines&) = delete;

  std::string_view listing() const { return listing_; }

 private:
  friend class ListingReader;

  // End of the block comment opening at `pos` (after tabs and spaces) and the whitespace
  // after it, or npos when none opens there or it is never closed.
  size_t commentEndAt(size_t pos) const;
  // From a position where comments may open: past any comments there, at the line's start.
  size_t skipComments(size_t pos) const;
  // The line from `start` to the '\n' at `newline`, or nullptr when no comment opens after a
  // lone '\r' in it. `*next` becomes the position after the joined line.
  const std::string* joinedLine(size_t start, size_t newline, size_t* next) const;
  // Appends the joined line starting at `start` to `*out`; returns the position after it.
  size_t buildJoinedLine(size_t start, std::string* out) const;

  std::string_view listing_;
  bool strip_ = false;
  // A comment opening after a lone '\r' joins the text before it with the text after it,
  // which the listing does not hold in one piece. Such lines are built once, keyed by offset,
  // and stay here while the parse holds views into them, with the position after each. Real
  // compilers never write them.
  mutable std::map<size_t, std::pair<std::string, size_t>> joined_;
  // The last search for a comment's close: none at or after `close_from_` but `close_at_`.
  // Later searches reuse it, so a listing full of unclosed comments stays linear.
  mutable size_t close_from_ = std::string_view::npos;
  mutable size_t close_at_ = std::string_view::npos;
};

// Walks the lines of a ListingLines from a position up to (not including) the first line that
// starts at or after `end`. Lines end at "\n" or "\r\n" as with LineReader.
class ListingReader {
 public:
  explicit ListingReader(const ListingLines& lines, size_t pos = 0,
                         size_t end = std::string_view::npos)
      : lines_(lines), text_(lines.listing_), pos_(pos), end_(std::min(end, text_.size())) {}

  // Sets `*line` to the next line; false at the end.
  bool next(std::string_view* line) {
    if (lines_.strip_) {
      return nextStripped(line);
    }
    if (pos_ >= end_) {
      return false;
    }
    offset_ = pos_;
    readable_ = text_.size() - pos_;
    size_t newline = findByte(text_, pos_, '\n');
    *line = lineBefore(pos_, newline);
    pos_ = newline == std::string_view::npos ? text_.size() : newline + 1;
    return true;
  }

  // Continues with the line at `pos`, a position or offset some reader reported.
  void skipTo(size_t pos) { pos_ = pos; }

  // Offset in the listing of the line last returned.
  size_t offset() const { return offset_; }

  // Where the next line starts.
  size_t position() const { return pos_; }

  // How many bytes from the start of the line last returned may be read: up to the end of
  // the listing, or just the line when it had to be joined (see ListingLines).
  size_t readable() const { return readable_; }

 private:
  bool nextStripped(std::string_view* line);

  // The line from `start` up to the '\n' at `newline` (npos: the end of the text), without
  // the '\r' of a "\r\n".
  std::string_view lineBefore(size_t start, size_t newline) const {
    if (newline == std::string_view::npos) {
      return text_.substr(start);
    }
    size_t end = newline > start && text_[newline - 1] == '\r' ? newline - 1 : newline;
    return text_.substr(start, end - start);
  }

  const ListingLines& lines_;
  std::string_view text_;
  size_t pos_;
  size_t end_;
  size_t offset_ = 0;
  size_t readable_ = 0;
};

}  // namespace cex

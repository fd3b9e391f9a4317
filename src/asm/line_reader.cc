#include "asm/line_reader.h"

namespace cex {

namespace {

constexpr size_t kNone = std::string_view::npos;

}  // namespace

ListingLines::ListingLines(std::string_view listing, bool strip_block_comments)
    : listing_(listing),
      // Without any "/*" there is nothing to skip, and the readers can take the fast path.
      strip_(strip_block_comments && findPair(listing, 0, '/', '*') != kNone) {}

size_t ListingLines::commentEndAt(size_t pos) const {
  size_t i = pos;
  while (i < listing_.size() && (listing_[i] == ' ' || listing_[i] == '\t')) {
    ++i;
  }
  if (!hasPrefixAt(listing_, i, "/*")) {
    return kNone;
  }
  size_t from = i + 2;
  bool cached = close_from_ != kNone && from >= close_from_ && from <= close_at_;
  if (!cached) {
    close_from_ = from;
    close_at_ = listing_.find("*/", from);
  }
  return close_at_ == kNone ? kNone : skipBlanks(listing_, close_at_ + 2);
}

size_t ListingLines::skipComments(size_t pos) const {
  // Comments open only where a line starts, so after one that ends inside a line the rest of
  // that line is text.
  while (pos < listing_.size() &&
         (pos == 0 || listing_[pos - 1] == '\n' || listing_[pos - 1] == '\r')) {
    size_t end = commentEndAt(pos);
    if (end == kNone) {
      break;
    }
    pos = end;
  }
  return pos;
}

const std::string* ListingLines::joinedLine(size_t start, size_t newline, size_t* next) const {
  // Cheap test first: does a comment open after any '\r' of the line?
  bool joins = false;
  for (size_t r = findByte(listing_.substr(0, newline), start, '\r'); r != kNone && !joins;
       r = findByte(listing_.substr(0, newline), r + 1, '\r')) {
    joins = commentEndAt(r + 1) != kNone;
  }
  if (!joins) {
    return nullptr;
  }
  auto [it, inserted] = joined_.try_emplace(start);
  if (inserted) {
    it->second.second = buildJoinedLine(start, &it->second.first);
  }
  *next = it->second.second;
  return &it->second.first;
}

size_t ListingLines::buildJoinedLine(size_t start, std::string* out) const {
  size_t piece = start;
  size_t pos = start;
  while (true) {
    size_t stop = pos;
    while (stop < listing_.size() && listing_[stop] != '\n' && listing_[stop] != '\r') {
      ++stop;
    }
    if (stop == listing_.size()) {
      out->append(listing_.substr(piece));
      return listing_.size();
    }
    if (listing_[stop] == '\n') {
      // The text after a comment never starts with a newline (the comment takes all
      // whitespace after it), so the '\r' of a "\r\n" is in this piece.
      size_t line_end = stop > piece && listing_[stop - 1] == '\r' ? stop - 1 : stop;
      out->append(listing_.substr(piece, line_end - piece));
      return stop + 1;
    }
    pos = stop + 1;
    size_t after = skipComments(pos);
    if (after != pos) {
      out->append(listing_.substr(piece, pos - piece));
      piece = pos = after;
    }
  }
}

bool ListingReader::nextStripped(std::string_view* line) {
  size_t start = pos_ < end_ ? lines_.skipComments(pos_) : pos_;
  if (start >= end_) {
    return false;
  }
  offset_ = start;
  size_t newline = findByte(text_, start, '\n');
  size_t stop = newline == std::string_view::npos ? text_.size() : newline;
  if (const std::string* joined = lines_.joinedLine(start, stop, &pos_)) {
    *line = *joined;
    readable_ = joined->size();
    return true;
  }
  readable_ = text_.size() - start;
  *line = lineBefore(start, newline);
  pos_ = newline == std::string_view::npos ? text_.size() : newline + 1;
  return true;
}

}  // namespace cex

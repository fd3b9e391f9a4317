#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cex {

// The top-level members of an events frame that cex reads; the rest of the object travels
// unread. A member whose value is not a string leaves its field empty, and when a name repeats
// the last one counts, as it does for JavaScript peers.
struct FrameFields {
  std::optional<std::string> guid;
  std::optional<std::string> type;
  std::optional<std::string> acknowledged_by;  // "acknowledgedBy"
  std::optional<std::string> blob_key;         // "blobKey"
  size_t member_count = 0;                     // top-level members, repeats included
};

// Checks that `text` is exactly one JSON object (RFC 8259 grammar, blanks around it allowed) and
// reads its FrameFields. One pass without recursion and without building a tree, so a result of
// many megabytes costs one scan and deep nesting cannot exhaust the stack. UTF-8 is not checked:
// WebSocket text frames arrive checked. InvalidArgument, with the byte offset, when it is not.
Result<FrameFields> scanFrameFields(std::string_view text);

}  // namespace cex

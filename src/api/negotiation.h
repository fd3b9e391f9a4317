#pragma once

#include <string_view>

namespace cex {

// Whether a client's Accept header prefers application/json over text/plain, ranked the way
// Compiler Explorer's web framework ranks them: by quality, then by how specific the
// matching range is, then by its position in the header; a tie goes to text. No header, */*
// or only unrelated types (text/html) mean text.
bool prefersJson(std::string_view accept_header);

// Whether a Content-Type names JSON (application/json or a +json type, parameters allowed).
bool isJsonContentType(std::string_view content_type);

}  // namespace cex

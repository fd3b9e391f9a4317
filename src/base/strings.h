#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cex {

// Removes ASCII blanks (space, tab, CR, LF, VT, FF) from both ends.
std::string_view trim(std::string_view s);

// Splits on every `sep`; empty pieces are kept ("a,,b" gives three pieces).
std::vector<std::string_view> split(std::string_view s, char sep);

// Splits on `sep` and drops empty pieces after trimming each one.
std::vector<std::string> splitNonEmpty(std::string_view s, char sep);

std::string join(const std::vector<std::string>& parts, std::string_view sep);

std::string toLower(std::string_view s);

// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);

// Replaces every occurrence of `from` (which must not be empty) with `to`.
std::string replaceAll(std::string_view s, std::string_view from, std::string_view to);

// Pads `s` with spaces on the right up to `width` characters.
std::string padRight(std::string_view s, size_t width);

}  // namespace cex

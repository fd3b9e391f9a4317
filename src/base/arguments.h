#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cex {

// Splits a command-line string the way a POSIX shell splits words, without expansions:
// blanks separate arguments, '...' is literal, "..." allows backslash escapes, and a
// backslash outside quotes escapes the next character. An unterminated quote runs to the
// end of the string.
std::vector<std::string> splitArguments(std::string_view text);

}  // namespace cex

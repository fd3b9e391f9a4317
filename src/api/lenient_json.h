#pragma once

#include <string_view>

#include <boost/json/value.hpp>

namespace cex {

// Parses JSON as a browser-facing server would: bytes that are not UTF-8 are kept (cex's JSON
// writer repairs them on output) and lone surrogate escapes become U+FFFD. For the files that
// already use Boost.JSON; everything else stays with cex's own types.
boost::json::value parseJsonLenient(std::string_view text, boost::json::error_code& ec);

}  // namespace cex

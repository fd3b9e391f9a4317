#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "compile/compile_request.h"
#include "net/http_types.h"

namespace cex {

// A request the API refuses before compiling: the status and body to answer with.
struct ApiError {
  int status = 400;
  std::string content_type;
  std::string body;
};

// Either a request ready for the pipeline or the error to answer with.
struct ParsedRequest {
  std::optional<CompileRequest> request;
  ApiError error;
  // The compiler named inside the body (form style only).
  std::string compiler_id;
};

// JSON style: `source` and `options` are required; everything else is optional and read
// leniently (strings or arrays for argument lists, numbers or booleans for flags, null for
// absent). Malformed JSON is a 400.
ParsedRequest parseJsonCompileRequest(std::string_view body);

// Plain-text style: the body is the source; options, filters, addFilters, removeFilters,
// skipAsm, skipPopArgs and filterAnsi come from the query string. An empty body is a 500.
ParsedRequest parseTextCompileRequest(const HttpRequest& http);

// Form style (urlencoded, as a page without scripts posts it): compiler, lang, source,
// userArguments, executeParametersArgs, executeParametersStdin, skipAsm, filterAnsi and one
// field per filter with the value "true".
ParsedRequest parseFormCompileRequest(std::string_view body);

// An HTML error page with a short message, for statuses the web framework would render.
ApiError htmlError(int status, std::string_view title, std::string_view message);

}  // namespace cex

namespace cex {

// `usedOptions` of a popularArguments request body (a string or an array); empty when the
// body is absent or not JSON.
std::vector<std::string> parseUsedOptions(std::string_view body);

}  // namespace cex

#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "compile/compile_result.h"

namespace cex {

// The plain-text rendering of a compile result that text clients read line by line:
// "# <banner>", the asm lines, then the exit code and output sections, ending in a newline.
// An empty banner leaves the first line out; `filter_ansi` strips colour escapes.
std::string renderCompileText(const CompileResult& result, std::string_view banner,
                              bool filter_ansi);

// The text rendering of an executor request: the banner, the exit code when not zero, then the
// program's output sections.
std::string renderExecutionText(const ExecutionResult& result, std::string_view banner,
                                bool filter_ansi);

// The same renderings from a result's JSON (as a worker published it): a compile result, or
// the body of an executor request (which has `didExecute` at the top). Returns nullopt when
// `json` is not an object.
std::optional<std::string> renderTextFromJson(std::string_view json, std::string_view banner,
                                              bool filter_ansi);

}  // namespace cex

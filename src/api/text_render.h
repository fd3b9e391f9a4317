#pragma once

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

}  // namespace cex

#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "compile/compile_result.h"

namespace cex {

// How paths in compiler output are shown to users.
struct OutputMasking {
  std::string dir;             // the compile's private directory, hidden from users
  std::string input_path;      // shown as <source>
  std::string input_filename;  // the file name reported in tags for <source> lines
};

// Removes ANSI CSI escape sequences (colours) from `text`.
std::string stripAnsi(std::string_view text);

// Replaces the input path with <source> and drops the private directory prefix.
std::string maskOutputLine(std::string_view line, const OutputMasking& masking);

// Splits compiler output into lines (a final newline does not make an empty line), masks
// paths, and tags lines that point at a file position ("<source>:12:5: error: ...") with
// line, column, severity and file, read from the text without colours.
std::vector<ResultLine> parseCompilerOutput(std::string_view output, const OutputMasking& masking);

// Splits program output into lines without tags.
std::vector<ResultLine> splitOutputLines(std::string_view output);

}  // namespace cex

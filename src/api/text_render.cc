#include "api/text_render.h"

#include "compile/diagnostics.h"

namespace cex {

namespace {

template <typename Lines, typename Text>
void appendLines(std::string* out, const Lines& lines, Text text) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out->push_back('\n');
    }
    out->append(text(lines[i]));
  }
}

}  // namespace

std::string renderCompileText(const CompileResult& result, std::string_view banner,
                              bool filter_ansi) {
  std::string out;
  if (!banner.empty()) {
    out.append("# ").append(banner).append("\n");
  }
  appendLines(&out, result.parsed.lines,
              [](const AsmLine& l) -> const std::string& { return l.text; });
  auto line_text = [](const ResultLine& l) -> const std::string& {
    return l.text;
  };
  if (result.code != 0) {
    out.append("\n# Compiler exited with result code ").append(std::to_string(result.code));
  }
  if (!result.stdout_lines.empty()) {
    out.append("\nStandard out:\n");
    appendLines(&out, result.stdout_lines, line_text);
  }
  if (!result.stderr_lines.empty()) {
    out.append("\nStandard error:\n");
    appendLines(&out, result.stderr_lines, line_text);
  }
  if (const ExecutionResult* run = result.exec_result.get()) {
    out.append("\n\n# Execution result with exit code ").append(std::to_string(run->code));
    out.push_back('\n');
    if (!run->stdout_lines.empty()) {
      out.append("# Standard out:\n");
      appendLines(&out, run->stdout_lines, line_text);
    }
    if (!run->stderr_lines.empty()) {
      out.append("\n# Standard error:\n");
      appendLines(&out, run->stderr_lines, line_text);
    }
  }
  out.push_back('\n');
  return filter_ansi ? stripAnsi(out) : out;
}

std::string renderExecutionText(const ExecutionResult& result, std::string_view banner,
                                bool filter_ansi) {
  CompileResult shape;
  shape.code = result.code;
  shape.stdout_lines = result.stdout_lines;
  shape.stderr_lines = result.stderr_lines;
  return renderCompileText(shape, banner, filter_ansi);
}

}  // namespace cex

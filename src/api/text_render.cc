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
  out.push_back('\n');
  return filter_ansi ? stripAnsi(out) : out;
}

}  // namespace cex

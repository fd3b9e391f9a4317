// Text renderings of results that arrive as JSON (from a worker, through a router).

#include <boost/json.hpp>

#include "api/text_render.h"

namespace cex {

namespace json = boost::json;

namespace {

std::vector<ResultLine> linesOf(const json::object& o, std::string_view key) {
  std::vector<ResultLine> lines;
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) {
    return lines;
  }
  for (const auto& item : v->get_array()) {
    const json::value* text = item.is_object() ? item.get_object().if_contains("text") : nullptr;
    lines.push_back(
        {text != nullptr && text->is_string() ? std::string(text->get_string()) : "", {}});
  }
  return lines;
}

int codeOf(const json::object& o) {
  const json::value* v = o.if_contains("code");
  return v != nullptr && v->is_int64() ? static_cast<int>(v->get_int64()) : 0;
}

ExecutionResult executionOf(const json::object& o) {
  ExecutionResult e;
  e.code = codeOf(o);
  e.stdout_lines = linesOf(o, "stdout");
  e.stderr_lines = linesOf(o, "stderr");
  return e;
}

CompileResult compileOf(const json::object& o) {
  CompileResult r;
  r.code = codeOf(o);
  r.stdout_lines = linesOf(o, "stdout");
  r.stderr_lines = linesOf(o, "stderr");
  for (ResultLine& line : linesOf(o, "asm")) {
    AsmLine asm_line;
    asm_line.text = std::move(line.text);
    r.parsed.lines.push_back(std::move(asm_line));
  }
  const json::value* run = o.if_contains("execResult");
  if (run != nullptr && run->is_object()) {
    r.exec_result = std::make_shared<ExecutionResult>(executionOf(run->get_object()));
  }
  return r;
}

}  // namespace

std::optional<std::string> renderTextFromJson(std::string_view text, std::string_view banner,
                                              bool filter_ansi) {
  json::error_code ec;
  json::parse_options options;
  options.allow_invalid_utf8 = true;
  json::value doc = json::parse(text, ec, {}, options);
  if (ec || !doc.is_object()) {
    return std::nullopt;
  }
  const json::object& o = doc.get_object();
  if (o.contains("didExecute") && !o.contains("asm")) {
    return renderExecutionText(executionOf(o), banner, filter_ansi);
  }
  return renderCompileText(compileOf(o), banner, filter_ansi);
}

}  // namespace cex

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>

#include <spdlog/spdlog.h>

#include "base/files.h"
#include "base/strings.h"
#include "cmd/commands.h"
#include "compile/diagnostics.h"
#include "compile/result_json.h"

namespace cex {

namespace {

// Splits the pass-through arguments into compiler arguments and the source file.
bool splitRest(const std::vector<std::string>& rest, std::vector<std::string>* args,
               std::string* source_path) {
  int source_index = -1;
  for (int i = static_cast<int>(rest.size()) - 1; i >= 0; --i) {
    if (rest[i] == "-" || !rest[i].starts_with("-")) {
      source_index = i;
      break;
    }
  }
  if (source_index < 0) {
    return false;
  }
  *source_path = rest[source_index];
  for (int i = 0; i < static_cast<int>(rest.size()); ++i) {
    if (i != source_index) {
      args->push_back(rest[i]);
    }
  }
  return true;
}

Result<std::string> readSource(const std::string& path) {
  if (path != "-") {
    return readFile(path);
  }
  std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  return data;
}

void applyFilterLists(const CompileCommandOptions& o, CompileFilters* filters) {
  if (!o.filters.empty()) {
    *filters = CompileFilters{};
    for (std::string_view name : split(o.filters, ',')) {
      filters->set(trim(name), true);
    }
  }
  for (std::string_view name : split(o.add_filters, ',')) {
    filters->set(trim(name), true);
  }
  for (std::string_view name : split(o.remove_filters, ',')) {
    filters->set(trim(name), false);
  }
}

void printText(const CompileResult& result) {
  std::string out;
  for (const auto& line : result.parsed.lines) {
    out.append(line.text).push_back('\n');
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::string err;
  for (const auto* lines : {&result.stdout_lines, &result.stderr_lines}) {
    for (const auto& line : *lines) {
      err.append(line.text).push_back('\n');
    }
  }
  // Colours are for terminals; a pipe or file gets plain text.
  if (!::isatty(STDERR_FILENO)) {
    err = stripAnsi(err);
  }
  std::fwrite(err.data(), 1, err.size(), stderr);
}

}  // namespace

int runCompileCommand(const CompileCommandOptions& options) {
  CompileRequest request;
  std::string source_path;
  if (!splitRest(options.rest, &request.user_arguments, &source_path)) {
    std::fprintf(stderr, "cex compile: no source file given\n");
    return 2;
  }
  auto source = readSource(source_path);
  if (!source.ok()) {
    std::fprintf(stderr, "cex compile: %s\n", source.status().message().c_str());
    return 2;
  }
  request.source = std::move(source).value();
  applyFilterLists(options, &request.filters);

  auto instance = buildInstance(options.instance);
  if (!instance.ok()) {
    std::fprintf(stderr, "cex compile: %s\n", instance.status().message().c_str());
    return 2;
  }
  const CompilerInfo* compiler =
      (*instance)->discovery.registry.find(options.compiler_id, options.lang);
  if (compiler == nullptr) {
    std::fprintf(stderr, "cex compile: unknown compiler %s\n", options.compiler_id.c_str());
    return 2;
  }

  CompileOutcome outcome = (*instance)->service->compileNow(*compiler, std::move(request));
  if (!outcome.result) {
    std::fprintf(stderr, "cex compile: %s\n", outcome.refusal.c_str());
    return 2;
  }
  if (options.json) {
    std::string out;
    writeCompileResultJson(*outcome.result, &out);
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else {
    printText(*outcome.result);
  }
  int code = outcome.result->code;
  return code < 0 ? 1 : code;
}

}  // namespace cex

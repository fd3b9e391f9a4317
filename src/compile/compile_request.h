#pragma once

#include <string>
#include <utility>
#include <vector>

#include "asm/asm_result.h"

namespace cex {

// The API's `filters` object. Absent keys are false, except that requests start from
// defaultFilters() and override it key by key.
struct CompileFilters {
  bool binary = false;
  bool binary_object = false;
  bool execute = false;
  bool demangle = false;
  bool intel = false;
  bool comment_only = false;
  bool directives = false;
  bool labels = false;
  bool opt_output = false;
  bool library_code = false;
  bool trim = false;
  bool debug_calls = false;
  bool dont_mask_filenames = false;

  bool operator==(const CompileFilters&) const = default;

  // The filters a request gets when it names none: demangle, intel, commentOnly,
  // directives and labels on; everything else off.
  static CompileFilters defaults();

  // Sets the filter called `name` (API spelling, e.g. "commentOnly"); false when the name
  // is not a filter.
  bool set(std::string_view name, bool value);

  // The subset the asm parser needs.
  AsmFilters toAsmFilters() const;
};

// A file written next to the main source.
struct SourceFile {
  std::string filename;
  std::string contents;
};

struct ToolRequest {
  std::string id;
  std::vector<std::string> args;
  std::string stdin_data;
};

struct LibraryRequest {
  std::string id;
  std::string version;
};

// `executeParameters`: how to run the program when `filters.execute` asks for it.
struct ExecuteParameters {
  std::vector<std::string> args;
  std::string stdin_data;
  // `runtimeTools` of type env: variables set for the run.
  std::vector<std::pair<std::string, std::string>> env;
};

// One compile as the pipeline sees it, whichever of the three request styles it came in.
struct CompileRequest {
  std::string source;
  std::vector<std::string> user_arguments;
  CompileFilters filters = CompileFilters::defaults();
  // compilerOptions members the base pipeline honours.
  bool skip_asm = false;
  bool skip_pop_args = false;
  bool executor_request = false;
  bool filter_ansi = false;
  // The whole compilerOptions object, serialised with sorted keys, so that options the
  // pipeline does not interpret still separate cache entries.
  std::string compiler_options_json = "{}";
  std::vector<SourceFile> files;
  std::vector<ToolRequest> tools;
  std::vector<LibraryRequest> libraries;
  ExecuteParameters execute_parameters;
  // 0 = use the cache; 1 = do not read compile results (still write); 2 = bypass only
  // execution results.
  int bypass_cache = 0;
  std::string lang;  // hint for the compiler lookup
};

}  // namespace cex

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "asm/asm_result.h"

namespace cex {

// A diagnostic position parsed from a compiler output line.
struct LineTag {
  int line = 0;
  int column = 0;  // 0 when the compiler gave none
  std::string text;
  int severity = 3;  // 3 error, 2 warning, 1 note
  std::string file;
};

// One line of stdout or stderr.
struct ResultLine {
  std::string text;
  std::optional<LineTag> tag;
};

struct PopularArgument {
  std::string flag;
  std::string description;
};

// The build step of an execution (`buildResult`): the compile that linked the program.
struct BuildResult {
  int code = -1;
  bool timed_out = false;
  bool ok_to_cache = false;
  std::vector<ResultLine> stdout_lines;
  std::vector<ResultLine> stderr_lines;
  std::string input_filename;
  std::vector<std::string> compilation_options;
  std::string executable_filename;
  int64_t exec_time_ms = 0;
};

// The outcome of running the user's program (`execResult`, or the whole body of an executor
// request).
struct ExecutionResult {
  int code = -1;  // the program's exit status; -1 when it did not run or died by a signal
  bool ok_to_cache = false;
  bool timed_out = false;
  bool truncated = false;
  bool did_execute = false;
  std::vector<ResultLine> stdout_lines;
  std::vector<ResultLine> stderr_lines;
  int64_t exec_time_ms = 0;
  double process_execution_result_time = 0;
  BuildResult build_result;
  bool retrieved_from_cache = false;
};

// The outcome of one compile in the API's shape (`CompilationResult`). Optional members are
// left out of the JSON when unset.
struct CompileResult {
  int code = 0;
  bool ok_to_cache = false;
  bool timed_out = false;
  bool truncated = false;
  std::vector<ResultLine> stdout_lines;
  std::vector<ResultLine> stderr_lines;
  std::string input_filename;
  std::vector<std::string> compilation_options;
  int64_t exec_time_ms = 0;
  double process_execution_result_time = 0;
  std::string instruction_set;
  std::optional<int64_t> asm_size;
  ParsedAsm parsed;
  bool has_parse_stats = false;  // parsingTime/filteredCount present
  std::optional<int64_t> objdump_time_ms;
  bool include_popular_arguments = false;
  std::vector<PopularArgument> popular_arguments;
  // Present when the request asked to run the program and the compile succeeded.
  std::shared_ptr<const ExecutionResult> exec_result;
  // Set on the copy returned for a cache hit.
  bool retrieved_from_cache = false;
  double retrieved_from_cache_time = 0;
};

}  // namespace cex

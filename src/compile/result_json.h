#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "compile/compile_result.h"

namespace cex {

class JsonWriter;

// Appends the API's JSON for a compile result to `out`: compact, on one line.
void writeCompileResultJson(const CompileResult& result, std::string* out);

// Appends the JSON of a program run (`execResult`, or the body of an executor request).
void writeExecutionResultJson(const ExecutionResult& result, std::string* out);

// Writes a stdout/stderr line array value.
void writeResultLines(JsonWriter& json, const std::vector<ResultLine>& lines);

// The body of a request refused before compiling (bad options, internal errors):
// {"code":-1,"stdout":[],"stderr":[{"text":<message>}]}.
std::string refusalJson(std::string_view message);

// A result that carries only an error message, in the shape every client reads as a failed
// compile (code -1, the message as stderr, no asm): for jobs that could not be compiled.
std::string errorResultJson(std::string_view message);

// What an instance answers to a build (cmake, cargo, ...) that it cannot run.
// TODO(build): builds are not run yet; every instance answers this, directly or from a queue.
std::string buildUnavailableJson(std::string_view build_system);

}  // namespace cex

#pragma once

#include "base/status.h"
#include "compile/compile_request.h"
#include "compile/compile_result.h"
#include "compilers/compiler_info.h"

namespace cex {

struct CompileSettings;
class ProcessRunner;
class CompilerRegistry;

// Runs one compile from request to result in a private directory that is removed before
// returning, whatever happens. A user error (empty source, bad file name) or a compiler
// failure is a result; only trouble on cex's side (no temp dir, compiler missing) is an
// error Status.
Result<CompileResult> runCompileJob(const CompilerInfo& compiler, const CompileRequest& request,
                                    const CompileSettings& settings, ProcessRunner& runner,
                                    const CompilerRegistry& registry);

// The file name of the main source for a language: "example" plus its first extension.
std::string inputFilenameFor(const std::string& lang);

}  // namespace cex

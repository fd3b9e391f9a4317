#pragma once

#include "base/status.h"
#include "compile/compile_request.h"
#include "compile/compile_result.h"
#include "compilers/compiler_info.h"

namespace cex {

struct CompileSettings;
class ProcessRunner;
class CompilerRegistry;

// Builds the request's program in a private directory and runs it with the request's
// arguments, stdin and environment, under the user-program limits. A failed build, a crash
// or a timeout is a result; only trouble on cex's side is an error Status.
Result<ExecutionResult> runExecutionJob(const CompilerInfo& compiler, const CompileRequest& request,
                                        const CompileSettings& settings, ProcessRunner& runner,
                                        const CompilerRegistry& registry);

}  // namespace cex

#include "compile/execution_job.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "compile/compile_job.h"
#include "compile/compile_service.h"
#include "compile/diagnostics.h"

namespace cex {

namespace {

constexpr std::string_view kTruncated = "\n[Truncated]";
constexpr const char* kStdbuf = "/usr/libexec/coreutils/libstdbuf.so";

BuildResult toBuildResult(CompileResult&& built, const CompilePaths& paths) {
  BuildResult b;
  b.code = built.code;
  b.timed_out = built.timed_out;
  b.ok_to_cache = built.ok_to_cache;
  b.stdout_lines = std::move(built.stdout_lines);
  b.stderr_lines = std::move(built.stderr_lines);
  b.input_filename = std::move(built.input_filename);
  b.compilation_options = std::move(built.compilation_options);
  b.executable_filename = paths.output.substr(paths.dir.size() + 1);
  b.exec_time_ms = built.exec_time_ms;
  return b;
}

ExecutionResult notRun(BuildResult build, std::string message) {
  ExecutionResult e;
  e.ok_to_cache = build.ok_to_cache;
  e.build_result = std::move(build);
  e.stderr_lines.push_back({std::move(message), {}});
  return e;
}

// The program sees a small, fixed environment plus what the request's runtime tools set.
// Its stdout is line-buffered even into a pipe, so a crash keeps what it printed.
std::vector<std::string> programEnvironment(const ExecuteParameters& params,
                                            const std::string& dir) {
  std::vector<std::string> env = {
      "PATH=/usr/local/bin:/usr/bin:/bin",
      "HOME=" + dir,
      "LANG=C.UTF-8",
      "ASAN_OPTIONS=color=always",
      "UBSAN_OPTIONS=color=always",
      "MSAN_OPTIONS=color=always",
      "LSAN_OPTIONS=color=always",
  };

  struct stat st {};

  if (::stat(kStdbuf, &st) == 0) {
    env.push_back(std::string("LD_PRELOAD=") + kStdbuf);
    env.push_back("_STDBUF_O=L");
  }
  for (const auto& [name, value] : params.env) {
    if (!name.empty() && name.find('=') == std::string::npos) {
      env.push_back(name + "=" + value);
    }
  }
  return env;
}

// Cuts a stream that hit its cap so that the marker fits within the cap.
void markTruncated(std::string* data, size_t cap) {
  if (data->size() < cap) {
    return;
  }
  data->resize(cap > kTruncated.size() ? cap - kTruncated.size() : 0);
  data->append(kTruncated);
}

std::string signalMessage(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return std::string("Program terminated with signal: SIG") + (abbrev ? abbrev : "UNKNOWN");
}

ExecutionResult fromRun(ProcessResult&& run, size_t cap) {
  ExecutionResult e;
  e.did_execute = true;
  // A death by signal is code -1, whatever status the sandbox's init turned it into.
  e.code = run.term_signal != 0 ? -1 : run.exit_code;
  e.timed_out = run.timed_out;
  e.truncated = run.truncated;
  e.ok_to_cache = !run.timed_out;
  e.exec_time_ms = static_cast<int64_t>(run.wall_ms);
  if (run.truncated) {
    markTruncated(&run.stdout_data, cap);
    markTruncated(&run.stderr_data, cap);
  }
  if (run.timed_out) {
    run.stderr_data += "\nKilled - processing time exceeded";
  } else if (run.oom_killed) {
    run.stderr_data += (run.stderr_data.empty() ? "" : "\n") +
                       std::string("Program was killed: it ran out of memory");
  } else if (run.term_signal != 0) {
    run.stderr_data += (run.stderr_data.empty() ? "" : "\n") + signalMessage(run.term_signal);
  }
  e.stdout_lines = splitOutputLines(run.stdout_data);
  e.stderr_lines = splitOutputLines(run.stderr_data);
  return e;
}

}  // namespace

Result<ExecutionResult> runExecutionJob(const CompilerInfo& compiler, const CompileRequest& request,
                                        const CompileSettings& settings, ProcessRunner& runner,
                                        const CompilerRegistry& registry) {
  CompileJob build(compiler, request, settings, runner, registry, CompileJob::Purpose::Executable);
  auto built = build.run();
  if (!built.ok()) {
    return built.status();
  }
  int build_code = built->code;
  BuildResult build_result = toBuildResult(std::move(built).value(), build.paths());
  if (build_code != 0) {
    return notRun(std::move(build_result), "Build failed");
  }

  struct stat st {};

  if (::stat(build.paths().output.c_str(), &st) != 0) {
    build_result.stderr_lines.push_back({"Compiler did not produce an executable", {}});
    return notRun(std::move(build_result), "Executable not found");
  }

  ProcessSpec spec;
  spec.argv = {build.paths().output};
  const auto& args = request.execute_parameters.args;
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.cwd = build.paths().dir;
  spec.env = programEnvironment(request.execute_parameters, build.paths().dir);
  spec.stdin_data = request.execute_parameters.stdin_data;
  spec.timeout = settings.exec_timeout;
  spec.max_stdout = settings.max_exec_output;
  spec.max_stderr = settings.max_exec_output;
  spec.profile = SandboxProfile::UserProgram;
  spec.writable_paths = {build.paths().dir};
  spec.readonly_paths = build.readablePaths();
  auto run = runner.run(spec);
  if (!run.ok()) {
    return run.status();
  }
  auto started = std::chrono::steady_clock::now();
  ExecutionResult e = fromRun(std::move(run).value(), settings.max_exec_output);
  e.process_execution_result_time =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  e.build_result = std::move(build_result);
  return e;
}

}  // namespace cex

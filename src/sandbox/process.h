#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace cex {

// Which set of limits a sandboxed run gets: compilers and tools, or the user's own program.
enum class SandboxProfile {
  Compiler,
  UserProgram,
};

// What to run and within which limits.
struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is the executable (absolute, or found on PATH)
  std::string cwd;                // empty = inherit
  std::vector<std::string> env;   // complete environment, "NAME=value"
  std::string stdin_data;         // written to the child's stdin, which is then closed
  std::chrono::milliseconds timeout{20000};
  // Output beyond these is dropped, the child is killed and the result marked truncated.
  size_t max_stdout = 1024 * 1024;
  size_t max_stderr = 1024 * 1024;
  // For sandboxed runners: the limits to apply, the directories the run may write (bound
  // read-write at the same path; the compile's private directory, which must not be writable
  // by others) and extra trees it may read (at the same path; e.g. a compiler installed
  // outside /usr). The direct runner ignores them.
  SandboxProfile profile = SandboxProfile::Compiler;
  std::vector<std::string> writable_paths;
  std::vector<std::string> readonly_paths;
};

// How a run ended. The child and everything it started have exited when this is returned.
struct ProcessResult {
  // The exit status; -1 when the runner killed the child (timeout, overflow) or it died by a
  // signal. Inside the sandbox a program that dies by signal n is seen the way a shell sees
  // it: exit_code 128+n, with term_signal n (a program calling exit(128+n) looks the same).
  int exit_code = -1;
  int term_signal = 0;  // the signal that ended the child, 0 if it exited
  bool timed_out = false;
  bool truncated = false;
  // Sandboxed runs with a cgroup: the memory limit made the kernel kill a process of the run,
  // and a fork or clone failed at the process limit.
  bool oom_killed = false;
  bool process_limit_hit = false;
  std::string stdout_data;
  std::string stderr_data;
  double wall_ms = 0;
};

// Runs one process to completion. Implementations decide how much of the machine the child
// may see: the direct runner below none of the isolation, a sandboxed runner more.
class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Fails only when the process could not be started at all.
  virtual Result<ProcessResult> run(const ProcessSpec& spec) = 0;
  // A short name for logs and /healthcheck ("none", "bwrap+cgroup-v2", ...).
  virtual std::string name() const = 0;

  // One line on how runs are confined and what is missing, for the start-up log.
  virtual std::string describe() const { return name(); }
};

// Runs the child in its own process group with pipes for stdin/stdout/stderr, enforcing the
// timeout and output caps; on timeout, overflow or exit of the child the whole group is
// killed, so nothing it started outlives the run.
std::unique_ptr<ProcessRunner> makeDirectRunner();

}  // namespace cex

#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace cex {

// What a finished probe process left behind.
struct ProcessOutput {
  int exit_code = -1;   // -1 when killed by a signal
  int term_signal = 0;  // the signal that ended it, 0 when it exited
  std::string out;      // stdout, cut at kMaxProbeOutputBytes
  std::string err;      // stderr, cut the same way
};

// Probe output beyond this is dropped and the child stopped, so a runaway child cannot fill
// memory.
inline constexpr size_t kMaxProbeOutputBytes = size_t{1} << 20;

// Runs `argv` (argv[0] an absolute path, no PATH search) with stdin from /dev/null, LC_ALL=C
// so version texts are not translated, and the rest of this process's environment. The child
// leads its own process group; when `timeout_ms` passes first the whole group is killed with
// SIGKILL and the result is a Timeout status. Safe to call from several threads at once: the
// pipes are close-on-exec, so no other child inherits them.
Result<ProcessOutput> runProbeProcess(const std::vector<std::string>& argv, int timeout_ms);

}  // namespace cex

#include "compilers/probe_process.h"

#include <fmt/format.h>

#include "sandbox/process.h"

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX name

namespace cex {

namespace {

// This process's environment with the C locale forced, so version texts are not translated.
std::vector<std::string> probeEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry = *e;
    if (!entry.starts_with("LC_ALL=") && !entry.starts_with("LANG=")) {
      env.emplace_back(entry);
    }
  }
  env.emplace_back("LC_ALL=C");
  env.emplace_back("LANG=C");
  return env;
}

}  // namespace

Result<ProcessOutput> runProbeProcess(const std::vector<std::string>& argv, int timeout_ms) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return Status::invalidArgument("probe: the program must be an absolute path");
  }
  ProcessSpec spec;
  spec.argv = argv;
  spec.env = probeEnvironment();
  spec.timeout = std::chrono::milliseconds(timeout_ms);
  spec.max_stdout = kMaxProbeOutputBytes;
  spec.max_stderr = kMaxProbeOutputBytes;
  auto run = makeDirectRunner()->run(spec);
  if (!run.ok()) {
    return run.status();
  }
  if (run->timed_out) {
    return Status::timeout(fmt::format("probe {}: no answer within {} ms", argv[0], timeout_ms));
  }
  return ProcessOutput{run->exit_code, run->term_signal, std::move(run->stdout_data),
                       std::move(run->stderr_data)};
}

}  // namespace cex

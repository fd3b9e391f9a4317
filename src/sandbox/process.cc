#include "sandbox/process.h"

#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/process_pump.h"
#include "sandbox/unique_fd.h"

namespace cex {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<char*> cStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) {
    out.push_back(const_cast<char*>(s.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

// Starts the child in a new process group with the three pipe ends as stdin/stdout/stderr,
// default signal dispositions and no other inherited descriptors.
Result<pid_t> spawnChild(const ProcessSpec& spec, int in_fd, int out_fd, int err_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (!spec.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
  }

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t no_signals;
  sigset_t all_signals;
  sigemptyset(&no_signals);
  sigfillset(&all_signals);
  posix_spawnattr_setsigmask(&attr, &no_signals);
  posix_spawnattr_setsigdefault(&attr, &all_signals);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_USEVFORK);

  auto argv = cStrings(spec.argv);
  auto envp = cStrings(spec.env);
  pid_t pid = -1;
  int rc = spec.argv[0].find('/') == std::string::npos
               ? ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data())
               : ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Status::fromErrno("spawn " + spec.argv[0], rc);
  }
  return pid;
}

class DirectRunner : public ProcessRunner {
 public:
  Result<ProcessResult> run(const ProcessSpec& spec) override;

  std::string name() const override { return "none"; }
};

Result<ProcessResult> DirectRunner::run(const ProcessSpec& spec) {
  if (spec.argv.empty()) {
    return Status::invalidArgument("spawn: empty argv");
  }
  ignoreSigpipeOnce();
  auto in = makePipe();
  auto out = makePipe();
  auto err = makePipe();
  if (!in.ok() || !out.ok() || !err.ok()) {
    return !in.ok() ? in.status() : !out.ok() ? out.status() : err.status();
  }

  Clock::time_point start = Clock::now();
  auto pid = spawnChild(spec, in->read.get(), out->write.get(), err->write.get());
  if (!pid.ok()) {
    return pid.status();
  }
  // Only the child keeps these ends; closing ours lets EOF arrive when it exits.
  in->read.reset(-1);
  out->write.reset(-1);
  err->write.reset(-1);

  ProcessResult result;
  pid_t group = *pid;
  ProcessPump pump(
      spec, *pid, std::move(in->write), std::move(out->read), std::move(err->read),
      [group] { ::kill(-group, SIGKILL); }, &result);
  pump.run(start);
  result.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return result;
}

}  // namespace

std::unique_ptr<ProcessRunner> makeDirectRunner() {
  return std::make_unique<DirectRunner>();
}

}  // namespace cex

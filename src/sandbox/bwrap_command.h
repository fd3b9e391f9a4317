#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "sandbox/process.h"
#include "sandbox/sandbox.h"

namespace cex {

// The descriptor numbers bubblewrap gets for a run (see spawn.h: fds[i] becomes i).
enum BwrapFd : int {
  kBwrapStdin = 0,
  kBwrapStdout = 1,
  kBwrapStderr = 2,
  kBwrapInfo = 3,     // bubblewrap writes {"child-pid": N} once the sandbox's init exists
  kBwrapBlock = 4,    // the sandbox waits for a byte here before running anything
  kBwrapSeccomp = 5,  // the BPF program
  kBwrapPasswd = 6,   // the contents of /etc/passwd
  kBwrapGroup = 7,    // the contents of /etc/group
  kBwrapFdCount = 8,
};

// Builds bubblewrap command lines. The part every run shares is prepared once at
// construction, so a run only appends its own paths, environment and command.
class BwrapCommand {
 public:
  explicit BwrapCommand(const SandboxConfig& config);

  // The full argv for one run: the shared part, the profile's /tmp size, the spec's paths
  // (read-only ones, then writable ones), environment and working directory, then `command`
  // (the spec's argv, possibly behind a wrapper).
  std::vector<std::string> build(const ProcessSpec& spec, const std::vector<std::string>& command,
                                 const SandboxLimits& limits) const;

  // /etc/passwd and /etc/group inside the sandbox: one user, home `home`.
  std::string passwdFile(const std::string& home) const;
  std::string groupFile() const;

 private:
  std::vector<std::string> prefix_;
  uid_t uid_;
  gid_t gid_;
};

}  // namespace cex

#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace cex {

// A user and group to switch to before exec, with no supplementary groups.
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
};

// One rlimit, soft and hard alike.
struct ResourceLimit {
  int resource = 0;  // RLIMIT_*
  uint64_t value = 0;
};

// How to start a helper process such as bubblewrap.
struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0] is an absolute path; the environment is empty
  // fds[i] (ours) becomes descriptor i in the child; every other descriptor is closed.
  std::vector<int> fds;
  // Set when the child must run as another user (cex runs as root, the sandbox must not).
  std::optional<Credentials> credentials;
  // Set in the child before exec; they pass on to everything it starts.
  std::vector<ResourceLimit> limits;
};

// Starts the child in a new process group with default signal handling and an empty signal
// mask. Uses a vfork-style clone, so it is cheap from a large process and safe from any
// thread. Fails with the exec's or the credential switch's errno.
Result<pid_t> spawnHelper(const SpawnRequest& request);

}  // namespace cex

#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sandbox/cgroup.h"
#include "sandbox/process.h"

namespace cex {

// What one sandbox profile allows a run. Memory, processes and CPU are enforced by a cgroup
// when one is available, otherwise approximated with rlimits (see SandboxConfig::cgroups).
// TODO(sandbox): the writable directory is on the host's disk and RLIMIT_FSIZE bounds each
// file, not their number: a run can write many files until its timeout. A per-run quota
// (project quota, or a size-limited overlay once bubblewrap has one) would bound the total.
struct SandboxLimits {
  uint64_t memory_bytes = 0;
  int64_t max_processes = 0;
  int64_t cpu_millis_per_second = 0;  // 1000 = one core
  uint64_t file_size_bytes = 0;       // RLIMIT_FSIZE: no single file grows past this
  uint64_t open_files = 0;            // RLIMIT_NOFILE
  uint64_t tmp_bytes = 0;             // size of the private /tmp, and of /dev/shm
};

// Compiler Explorer's production limits for compilers and tools: 1.25 GiB, 72 processes, one
// core, 1 GiB files, 300 descriptors, 512 MiB /tmp.
SandboxLimits defaultCompilerLimits();

// The same for users' programs: 200 MiB, 14 processes, half a core, 16 MiB files, 100
// descriptors, 20 MiB /tmp.
SandboxLimits defaultUserProgramLimits();

// Whether runs must get a cgroup.
enum class CgroupPolicy {
  Auto,      // use one where cex may create them, else fall back to rlimits and say so
  Required,  // refuse to start without one
  Off,       // rlimits only
};

// How sandboxed runs are set up. The defaults suit a stock Debian 12 host.
struct SandboxConfig {
  std::string bwrap_path = "/usr/bin/bwrap";
  // util-linux's prlimit, which sets RLIMIT_NPROC inside the sandbox when no pids cgroup is
  // available.
  std::string prlimit_path = "/usr/bin/prlimit";
  SandboxLimits compiler = defaultCompilerLimits();
  SandboxLimits user_program = defaultUserProgramLimits();
  CgroupPolicy cgroups = CgroupPolicy::Auto;
  CgroupOptions cgroup_options;
  // The user and group a run has inside the sandbox.
  uid_t uid = 10240;
  gid_t gid = 10240;
  // When cex runs as root, bubblewrap and so every run are started as this host user instead:
  // a run must never be host root, even without capabilities. The request's writable paths
  // are handed to this user, and the paths a run needs must be searchable by it.
  uid_t host_uid = 65534;
  gid_t host_gid = 65534;
  // Trees every run may read, at the same path (e.g. /opt/compiler-explorer); missing ones
  // are skipped.
  std::vector<std::string> readonly_paths;
  // See SeccompOptions::allow_32bit.
  bool allow_32bit_syscalls = true;
};

// Creates a runner that starts every process in a fresh bubblewrap sandbox: its own user,
// PID, network (loopback only), IPC, UTS and cgroup namespaces; uid `config.uid` with no
// capabilities and no_new_privs; a read-only view of /usr, the /lib links, the few /etc files
// compilers need and the request's read-only paths; the request's writable paths read-write;
// a private size-limited /tmp; minimal /dev; its own /proc; a seccomp filter (see
// seccomp_filter.h); rlimits and a cgroup per run for the profile's limits.
//
// Fails closed: before returning it runs /bin/true and an isolation probe through the
// sandbox, and returns a Status naming what is missing (bubblewrap, user namespaces, a
// required cgroup, ...) so that the caller can refuse to execute anything.
Result<std::unique_ptr<ProcessRunner>> makeSandboxRunner(const SandboxConfig& config);

// The runner for a `--sandbox` mode: "none" is the direct runner (development only, no
// isolation), "bwrap" the sandbox above.
Result<std::unique_ptr<ProcessRunner>> makeProcessRunner(std::string_view mode,
                                                         const SandboxConfig& config);

}  // namespace cex

#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"

namespace cex {

enum class CgroupVersion {
  V1,  // one hierarchy per controller (memory, pids, cpu mounted separately)
  V2,  // the unified hierarchy
};

// The controllers cex uses.
enum class CgroupController {
  Memory,
  Pids,
  Cpu,
};

// The limits one run's cgroup enforces; 0 means no limit for that resource.
struct CgroupLimits {
  uint64_t memory_bytes = 0;
  int64_t max_processes = 0;
  int64_t cpu_millis_per_second = 0;  // 1000 = one core
};

// What the kernel recorded about one run before its cgroup went away.
struct CgroupUsage {
  bool oom_killed = false;         // the memory limit made the kernel kill a process
  bool process_limit_hit = false;  // a fork or clone failed at the process limit
};

// Where cex may create cgroups.
struct CgroupOptions {
  // The parent of the runs' cgroups relative to each hierarchy's root, e.g. "/cex" or
  // "/system.slice/cex.service/runs"; prepared by an operator or created by cex. Empty: as
  // root, "cex" under our own cgroup (v1) or under the root (v2); otherwise the subtree
  // systemd delegated to our own cgroup (v2), or our own cgroup if it is writable (v1).
  std::string parent;
  // Tests only: use the cgroup2 hierarchy mounted here even when it lacks the memory and pids
  // controllers, to exercise creation, placement, killing and removal.
  std::string v2_mount_for_test;
};

class CgroupManager;

// One run's cgroup, in every hierarchy that carries a controller we use. Destroying it kills
// whatever is still inside, waits for it to go and removes the directories.
class RunCgroup {
 public:
  RunCgroup(const RunCgroup&) = delete;
  RunCgroup& operator=(const RunCgroup&) = delete;
  ~RunCgroup();

  // Moves a process (and, on v2, all its threads) into the cgroup; its children follow.
  Status addProcess(pid_t pid) const;

  // Sends SIGKILL to everything inside; safe to call any number of times.
  void killAll() const;

  CgroupUsage usage() const;

  // The cgroup's directories, one per hierarchy.
  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  friend class CgroupManager;

  RunCgroup(CgroupManager* owner, CgroupVersion version) : owner_(owner), version_(version) {}

  // Kills the processes listed in each directory until none are left (v1, or v2 kernels
  // without cgroup.kill).
  void killListed() const;

  CgroupManager* owner_;  // outlives every run it created
  CgroupVersion version_;
  std::vector<std::string> dirs_;
  std::string memory_dir_;  // the directory holding the memory controller's files
  std::string pids_dir_;    // likewise for pids
};

// Finds a place where cex may create cgroups, makes one per run and cleans up after them.
// Thread-safe. It must outlive every RunCgroup it hands out.
class CgroupManager {
 public:
  // Looks at the mounted hierarchies and our own cgroup, prepares the parent (creating it
  // and enabling controllers where needed), removes cgroups left by dead cex processes and
  // checks that a run cgroup with limits can be made. The Status says what is missing.
  static Result<std::unique_ptr<CgroupManager>> create(const CgroupOptions& options);

  CgroupManager(const CgroupManager&) = delete;
  CgroupManager& operator=(const CgroupManager&) = delete;
  ~CgroupManager();

  Result<std::unique_ptr<RunCgroup>> createRun(const CgroupLimits& limits);

  CgroupVersion version() const { return version_; }

  bool has(CgroupController controller) const;

  // "cgroup v1 memory,pids,cpu under /sys/fs/cgroup/memory/cex ...", for the start-up log.
  std::string describe() const;

 private:
  friend class RunCgroup;

  // One parent directory and the controllers available in it. v2 has one; v1 one per
  // hierarchy (two controllers may share a hierarchy when mounted together).
  struct Hierarchy {
    std::string parent_dir;
    std::vector<CgroupController> controllers;
  };

  CgroupManager(CgroupVersion version, std::vector<Hierarchy> hierarchies)
      : version_(version), hierarchies_(std::move(hierarchies)) {}

  static Result<std::unique_ptr<CgroupManager>> createV1(const CgroupOptions& options);
  static Result<std::unique_ptr<CgroupManager>> createV2(const std::string& mount,
                                                         const CgroupOptions& options,
                                                         bool require_controllers);

  Status writeLimits(const Hierarchy& h, const std::string& dir, const CgroupLimits& l) const;
  void sweepStale() const;
  void deferRemoval(const std::string& dir);
  void retryDeferredRemovals();

  CgroupVersion version_;
  std::vector<Hierarchy> hierarchies_;
  std::atomic<uint64_t> next_run_{0};
  std::mutex mutex_;
  std::vector<std::string> deferred_removals_;  // GUARDED_BY(mutex_): still busy when removed
};

}  // namespace cex

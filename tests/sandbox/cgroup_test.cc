#include "sandbox/cgroup.h"

#include <grp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "base/files.h"

namespace cex {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

// A shell that waits for a line on stdin before running `script`, so that it can be put into
// a cgroup first. Returns its pid and the write end of its stdin.
std::pair<pid_t, int> startWaitingShell(const std::string& script) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::string full = "read go; " + script;
  char sh[] = "/bin/sh";
  char c[] = "-c";
  char* argv[] = {sh, c, full.data(), nullptr};
  char* envp[] = {nullptr};
  pid_t pid = 0;
  EXPECT_EQ(::posix_spawn(&pid, sh, &actions, nullptr, argv, envp), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[0]);
  return {pid, fds[1]};
}

void release(int fd) {
  EXPECT_EQ(::write(fd, "\n", 1), 1);
  ::close(fd);
}

Result<std::unique_ptr<CgroupManager>> managerOrSkip(const CgroupOptions& options) {
  auto manager = CgroupManager::create(options);
  if (!manager.ok()) {
    std::printf("[ SKIPPED  ] no usable cgroup: %s\n", manager.status().toString().c_str());
  }
  return manager;
}

TEST(CgroupTest, RunCgroupCarriesTheLimits) {
  auto manager = managerOrSkip({});
  if (!manager.ok()) {
    GTEST_SKIP() << manager.status().toString();
  }
  auto run = (*manager)->createRun({64 * kMiB, 5, 500});
  ASSERT_TRUE(run.ok()) << run.status().toString();
  bool v2 = (*manager)->version() == CgroupVersion::V2;
  std::string all;
  for (const auto& dir : (*run)->dirs()) {
    for (const char* file :
         {"memory.max", "memory.limit_in_bytes", "pids.max", "cpu.max", "cpu.cfs_quota_us"}) {
      if (exists(dir + "/" + file)) {
        all += std::string(file) + "=" + slurp(dir + "/" + file);
      }
    }
  }
  EXPECT_NE(all.find(v2 ? "memory.max=67108864\n" : "memory.limit_in_bytes=67108864\n"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("pids.max=5\n"), std::string::npos) << all;
  if ((*manager)->has(CgroupController::Cpu)) {
    EXPECT_NE(all.find(v2 ? "cpu.max=50000 100000\n" : "cpu.cfs_quota_us=50000\n"),
              std::string::npos)
        << all;
  }
}

TEST(CgroupTest, ProcessLimitKillAndRemoval) {
  auto manager = managerOrSkip({});
  if (!manager.ok()) {
    GTEST_SKIP() << manager.status().toString();
  }
  auto run = (*manager)->createRun({64 * kMiB, 4, 1000});
  ASSERT_TRUE(run.ok()) << run.status().toString();
  std::vector<std::string> dirs = (*run)->dirs();

  // The shell itself and three sleepers fit; the next fork fails and the shell gives up,
  // leaving the sleepers behind in the cgroup.
  auto [pid, go] = startWaitingShell("sleep 30 & sleep 30 & sleep 30 & sh -c true; wait");
  ASSERT_TRUE((*run)->addProcess(pid).isOk());
  std::string run_name = dirs[0].substr(dirs[0].rfind('/'));
  EXPECT_NE(slurp("/proc/" + std::to_string(pid) + "/cgroup").find(run_name), std::string::npos);
  release(go);
  for (int i = 0; i < 200 && !(*run)->usage().process_limit_hit; ++i) {
    ::usleep(10000);
  }
  EXPECT_TRUE((*run)->usage().process_limit_hit);
  EXPECT_FALSE((*run)->usage().oom_killed);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  std::string procs = slurp(dirs[0] + "/cgroup.procs");
  EXPECT_EQ(std::count(procs.begin(), procs.end(), '\n'), 3) << procs;

  (*run)->killAll();
  for (int i = 0; i < 100 && !slurp(dirs[0] + "/cgroup.procs").empty(); ++i) {
    ::usleep(10000);
  }
  EXPECT_EQ(slurp(dirs[0] + "/cgroup.procs"), "");
  run->reset();
  for (const auto& dir : dirs) {
    EXPECT_FALSE(exists(dir)) << dir;
  }
}

TEST(CgroupTest, MemoryLimitKillsAndIsReported) {
  auto manager = managerOrSkip({});
  if (!manager.ok()) {
    GTEST_SKIP() << manager.status().toString();
  }
  auto run = (*manager)->createRun({64 * kMiB, 10, 1000});
  ASSERT_TRUE(run.ok()) << run.status().toString();
  // The shell collects 200 MB into a variable, which cannot fit in 64 MiB.
  auto [pid, go] = startWaitingShell("x=$(head -c 200000000 /dev/zero | tr '\\0' a)");
  ASSERT_TRUE((*run)->addProcess(pid).isOk());
  release(go);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_TRUE((*run)->usage().oom_killed);
  EXPECT_FALSE((*run)->usage().process_limit_hit);
}

TEST(CgroupTest, LeftoversOfDeadCexProcessesAreSwept) {
  auto manager = managerOrSkip({});
  if (!manager.ok()) {
    GTEST_SKIP() << manager.status().toString();
  }
  // A pid that is certainly gone: a child we have reaped.
  pid_t dead = ::fork();
  if (dead == 0) {
    ::_exit(0);
  }
  ::waitpid(dead, nullptr, 0);
  auto run = (*manager)->createRun({});
  ASSERT_TRUE(run.ok());
  std::string parent = (*run)->dirs()[0].substr(0, (*run)->dirs()[0].rfind('/'));
  std::string stale = parent + "/run-" + std::to_string(dead) + "-0";
  std::string ours = parent + "/run-" + std::to_string(::getpid()) + "-999999";
  ASSERT_EQ(::mkdir(stale.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(ours.c_str(), 0755), 0);

  auto again = CgroupManager::create({});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(exists(stale));
  EXPECT_TRUE(exists(ours));  // a live cex's runs are left alone
  ::rmdir(ours.c_str());
}

// On a hybrid host (v1 controllers, cgroup2 beside them without controllers) the v2 code
// path can still create, fill, kill and remove a run cgroup, though it cannot limit anything.
TEST(CgroupTest, V2CreationPlacementKillAndRemoval) {
  const std::string unified = "/sys/fs/cgroup/unified";
  if (::geteuid() != 0 || !exists(unified + "/cgroup.subtree_control")) {
    std::printf("[ SKIPPED  ] needs root and a cgroup2 hierarchy at %s\n", unified.c_str());
    GTEST_SKIP();
  }
  CgroupOptions options;
  options.v2_mount_for_test = unified;
  // Named after this process, so that test runs side by side do not meet.
  std::string parent = "/cex-test-" + std::to_string(::getpid());
  options.parent = parent;
  auto manager = CgroupManager::create(options);
  ASSERT_TRUE(manager.ok()) << manager.status().toString();
  EXPECT_EQ((*manager)->version(), CgroupVersion::V2);
  auto run = (*manager)->createRun({});
  ASSERT_TRUE(run.ok()) << run.status().toString();
  ASSERT_EQ((*run)->dirs().size(), 1u);
  std::string dir = (*run)->dirs()[0];

  auto [pid, go] = startWaitingShell("sleep 30 & sleep 30 & wait");
  ASSERT_TRUE((*run)->addProcess(pid).isOk());
  release(go);
  for (int i = 0; i < 100 && slurp(dir + "/cgroup.procs").size() < 6; ++i) {
    ::usleep(10000);
  }
  EXPECT_NE(slurp("/proc/" + std::to_string(pid) + "/cgroup").find("0::" + parent + "/run-"),
            std::string::npos);
  EXPECT_TRUE(exists(dir + "/cgroup.kill"));

  (*run)->killAll();  // through cgroup.kill
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  run->reset();
  EXPECT_FALSE(exists(dir));
  ::rmdir((unified + parent).c_str());
}

// The path an unprivileged cex takes on v2: a subtree delegated to its user the way systemd
// does it for Delegate=yes (directory and control files chowned). Simulated on the hybrid
// host's cgroup2 hierarchy; returns 0 or the number of the step that failed.
int runDelegatedChild(const std::string& unified, const std::string& delegated) {
  if (!writeFile(delegated + "/cgroup.procs", std::to_string(::getpid())).isOk()) {
    return 1;
  }
  if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
      ::setresuid(65534, 65534, 65534) != 0) {
    return 2;
  }
  CgroupOptions options;
  options.v2_mount_for_test = unified;
  auto manager = CgroupManager::create(options);
  if (!manager.ok()) {
    std::fprintf(stderr, "%s\n", manager.status().toString().c_str());
    return 3;
  }
  // cex moved itself into a leaf so that its own cgroup can parent the runs.
  std::string own = delegated.substr(unified.size());
  if (slurp("/proc/self/cgroup").find("0::" + own + "/cex-main\n") == std::string::npos) {
    return 4;
  }
  auto run = (*manager)->createRun({});
  if (!run.ok() || (*run)->dirs()[0].find(delegated + "/cex-runs/run-") != 0) {
    return 5;
  }
  auto [pid, go] = startWaitingShell("sleep 30");
  if (!(*run)->addProcess(pid).isOk()) {
    return 6;
  }
  release(go);
  (*run)->killAll();
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status)) {
    return 7;
  }
  std::string dir = (*run)->dirs()[0];
  run->reset();
  return exists(dir) ? 8 : 0;
}

TEST(CgroupTest, V2DelegatedSubtreeAsAnUnprivilegedUser) {
  const std::string unified = "/sys/fs/cgroup/unified";
  if (::geteuid() != 0 || !exists(unified + "/cgroup.subtree_control")) {
    std::printf("[ SKIPPED  ] needs root to delegate a subtree of %s\n", unified.c_str());
    GTEST_SKIP();
  }
  std::string delegated = unified + "/cex-deleg-test-" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(delegated.c_str(), 0755), 0);
  for (const char* file : {"", "/cgroup.procs", "/cgroup.subtree_control", "/cgroup.threads"}) {
    ASSERT_EQ(::chown((delegated + file).c_str(), 65534, 65534), 0) << file;
  }

  pid_t child = ::fork();
  if (child == 0) {
    ::_exit(runDelegatedChild(unified, delegated));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "failed at step " << WEXITSTATUS(status);

  for (const char* dir : {"/cex-runs", "/cex-main", ""}) {
    ::rmdir((delegated + dir).c_str());
  }
  EXPECT_FALSE(exists(delegated));
}

}  // namespace
}  // namespace cex

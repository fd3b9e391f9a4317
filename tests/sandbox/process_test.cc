#include "sandbox/process.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "base/files.h"

namespace cex {
namespace {

using std::chrono::milliseconds;

ProcessSpec shell(const std::string& script) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.timeout = milliseconds(5000);
  return spec;
}

// True while the process runs; a zombie waiting for its reaper counts as gone.
bool processAlive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, state;
  if (!(stat >> pid_field >> comm >> state)) {
    return false;
  }
  return state != "Z" && state != "X";
}

TEST(ProcessTest, CapturesOutputAndExitCode) {
  auto runner = makeDirectRunner();
  auto r = runner->run(shell("echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->stdout_data, "out\n");
  EXPECT_EQ(r->stderr_data, "err\n");
  EXPECT_FALSE(r->timed_out);
  EXPECT_FALSE(r->truncated);
}

TEST(ProcessTest, FeedsStdinAndUsesCwdAndEnv) {
  auto runner = makeDirectRunner();
  ProcessSpec spec = shell("cat; pwd; echo $GREETING");
  spec.stdin_data = std::string(200000, 'x');  // more than a pipe buffer
  spec.cwd = "/tmp";
  spec.env.push_back("GREETING=hello");
  auto r = runner->run(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stdout_data, std::string(200000, 'x') + "/tmp\nhello\n");
}

TEST(ProcessTest, TimeoutKillsTheWholeGroup) {
  auto dir = TempDir::create("/tmp", "cex-process-test-");
  ASSERT_TRUE(dir.ok());
  std::string pidfile = dir->path() + "/pid";
  auto runner = makeDirectRunner();
  ProcessSpec spec = shell("sleep 100 & echo $! > " + pidfile + "; echo started; wait");
  spec.timeout = milliseconds(300);
  auto r = runner->run(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->term_signal, SIGKILL);
  EXPECT_EQ(r->stdout_data, "started\n");  // output before the kill is kept
  pid_t grandchild = 0;
  std::ifstream(pidfile) >> grandchild;
  ASSERT_GT(grandchild, 0);
  // The grandchild was killed with the group; give the kernel a moment to reap it.
  for (int i = 0; i < 100 && processAlive(grandchild); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_FALSE(processAlive(grandchild));
}

TEST(ProcessTest, BackgroundProcessesDieWhenTheChildExits) {
  auto dir = TempDir::create("/tmp", "cex-process-test-");
  ASSERT_TRUE(dir.ok());
  std::string pidfile = dir->path() + "/pid";
  auto runner = makeDirectRunner();
  // The background sleeper holds stdout open; the run must still end promptly.
  auto r = runner->run(shell("sleep 100 & echo $! > " + pidfile + "; exit 0"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_LT(r->wall_ms, 3000);
  pid_t sleeper = 0;
  std::ifstream(pidfile) >> sleeper;
  ASSERT_GT(sleeper, 0);
  for (int i = 0; i < 100 && processAlive(sleeper); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_FALSE(processAlive(sleeper));
}

TEST(ProcessTest, OutputFloodIsTruncatedAndStopped) {
  auto runner = makeDirectRunner();
  ProcessSpec spec = shell("yes flood");
  spec.max_stdout = 1000;
  auto r = runner->run(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->truncated);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->stdout_data.size(), 1000u);
}

TEST(ProcessTest, DeathBySignalIsReported) {
  auto runner = makeDirectRunner();
  auto r = runner->run(shell("kill -SEGV $$"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->term_signal, SIGSEGV);
}

TEST(ProcessTest, MissingExecutableIsAnError) {
  auto runner = makeDirectRunner();
  ProcessSpec spec;
  spec.argv = {"/nonexistent/compiler"};
  auto r = runner->run(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::NotFound);
}

TEST(ProcessTest, DoesNotLeakDescriptorsToTheChild) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);  // deliberately without O_CLOEXEC
  auto runner = makeDirectRunner();
  auto r = runner->run(shell("ls /proc/self/fd | wc -l"));
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_TRUE(r.ok());
  // stdin, stdout, stderr and the descriptor ls opens for the listing.
  EXPECT_EQ(r->stdout_data, "4\n");
}

}  // namespace
}  // namespace cex

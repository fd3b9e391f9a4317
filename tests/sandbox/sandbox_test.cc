#include "sandbox/sandbox.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/files.h"
#include "sandbox_fixture.h"

namespace cex {
namespace {

using std::chrono::milliseconds;

using SandboxTest = SandboxFixture;

// Forks children that wait forever until fork fails, then reports how many it got.
constexpr const char* kForkBomb = R"(
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
  int children = 0;
  for (;;) {
    pid_t pid = fork();
    if (pid < 0) {
      printf("refused after %d errno=%d\n", children, errno);
      return 0;
    }
    if (pid == 0) {
      pause();
      _exit(0);
    }
    if (++children > 5000) {
      printf("not contained\n");
      return 1;
    }
  }
})";

// Allocates and touches memory a MiB at a time, printing each step, up to 1 GiB.
constexpr const char* kBalloon = R"(
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  for (int mib = 1; mib <= 1024; ++mib) {
    char* p = malloc(1 << 20);
    if (p == NULL) {
      printf("refused at %d MiB\n", mib);
      return 3;
    }
    memset(p, 1, 1 << 20);
    printf("%d\n", mib);
    fflush(stdout);
  }
  return 0;
})";

TEST_F(SandboxTest, ReportsItsMode) {
  std::string name = runner().name();
  EXPECT_TRUE(name == "bwrap+cgroup-v1" || name == "bwrap+cgroup-v2" || name == "bwrap+rlimits")
      << name;
  EXPECT_NE(runner().describe().find("seccomp"), std::string::npos) << runner().describe();
  std::printf("sandbox mode: %s\n", runner().describe().c_str());
}

TEST_F(SandboxTest, CapturesOutputStdinEnvironmentAndWorkingDirectory) {
  ProcessSpec spec = shell("cat; pwd; echo $GREETING; echo err >&2; exit 3");
  spec.stdin_data = std::string(200000, 'x');  // more than a pipe buffer
  spec.env.push_back("GREETING=hello");
  auto r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->stdout_data, std::string(200000, 'x') + dir() + "\nhello\n");
  EXPECT_EQ(r->stderr_data, "err\n");
  EXPECT_FALSE(r->timed_out);
}

TEST_F(SandboxTest, OnlyTheGivenEnvironmentReachesTheRun) {
  ::setenv("CEX_SANDBOX_HOST_ONLY", "leak", 1);
  auto r = runner().run(shell("env | sort"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->stdout_data.find("CEX_SANDBOX_HOST_ONLY"), std::string::npos);
  EXPECT_NE(r->stdout_data.find("HOME=" + dir()), std::string::npos);
}

TEST_F(SandboxTest, RunsAsTheSandboxUserWithASyntheticPasswd) {
  auto r = runner().run(shell("id; cat /etc/passwd; hostname"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_NE(r->stdout_data.find("uid=10240(cex) gid=10240(cex)"), std::string::npos)
      << r->stdout_data;
  EXPECT_NE(r->stdout_data.find("cex:x:10240:10240:cex:" + dir() + ":/bin/sh"), std::string::npos);
  EXPECT_EQ(r->stdout_data.find("root:"), std::string::npos);
  EXPECT_NE(r->stdout_data.find("\ncex\n"), std::string::npos);
}

TEST_F(SandboxTest, DeathBySignalIsReportedTheShellWay) {
  auto r = runner().run(shell("kill -SEGV $$"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->exit_code, 128 + SIGSEGV);
  EXPECT_EQ(r->term_signal, SIGSEGV);
}

TEST_F(SandboxTest, MissingExecutableIsNotFound) {
  ProcessSpec spec = shell("");
  spec.argv = {"/nonexistent/compiler"};
  auto r = runner().run(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::NotFound);

  spec.argv = {"no-such-command-anywhere"};
  r = runner().run(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::NotFound);
}

TEST_F(SandboxTest, BareCommandsAreFoundOnTheRunsPath) {
  ProcessSpec spec = shell("");
  spec.argv = {"echo", "found"};
  auto r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->stdout_data, "found\n");
}

TEST_F(SandboxTest, CompilesARealFileIntoTheWritableDirectoryAndRunsIt) {
  ASSERT_TRUE(writeFile(dir() + "/hello.cpp",
                        "#include <iostream>\nint main() { std::cout << \"hello\\n\"; }\n")
                  .isOk());
  ProcessSpec compile = shell("", SandboxProfile::Compiler);
  compile.argv = {"g++", "-O2", "-o", "hello", "hello.cpp"};
  compile.timeout = std::chrono::seconds(60);
  auto c = runner().run(compile);
  ASSERT_TRUE(c.ok()) << c.status().toString();
  ASSERT_EQ(c->exit_code, 0) << c->stderr_data;

  struct stat st {};

  ASSERT_EQ(::stat((dir() + "/hello").c_str(), &st), 0);  // visible on the host

  ProcessSpec run = shell("");
  run.argv = {dir() + "/hello"};
  auto r = runner().run(run);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->stdout_data, "hello\n");
}

TEST_F(SandboxTest, ReadOnlyPathsAreReadableButNotWritable) {
  auto extra = TempDir::create("/tmp", "cex-sandbox-ro-");
  ASSERT_TRUE(extra.ok());
  ::chmod(extra->path().c_str(), 0755);
  ASSERT_TRUE(writeFile(extra->path() + "/data", "shared\n").isOk());
  ProcessSpec spec =
      shell("cat " + extra->path() + "/data; echo x > " + extra->path() + "/new && echo WROTE");
  spec.readonly_paths = {extra->path()};
  auto r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->stdout_data, "shared\n");
  EXPECT_NE(r->stderr_data.find("Read-only file system"), std::string::npos) << r->stderr_data;
}

TEST_F(SandboxTest, TheSystemViewIsReadOnly) {
  auto r = runner().run(shell(
      "for p in /usr/x /etc/x /x /dev/x /bin/x; do touch $p 2>/dev/null && echo WROTE:$p; done;"
      "echo ok"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->stdout_data, "ok\n");
}

TEST_F(SandboxTest, InfiniteLoopIsKilledOnTime) {
  ProcessSpec spec = shell("while :; do :; done");
  spec.timeout = milliseconds(700);
  auto r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->term_signal, SIGKILL);
  EXPECT_GE(r->wall_ms, 700);
  EXPECT_LT(r->wall_ms, 700 + 1500);
}

TEST_F(SandboxTest, SleepersPastTheTimeoutDieWithTheWholeTree) {
  ProcessSpec spec = shell("sleep 8761 & (sleep 8762 &) ; echo started; sleep 8763");
  spec.timeout = milliseconds(500);
  auto r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->stdout_data, "started\n");  // output before the kill is kept
  EXPECT_LT(r->wall_ms, 500 + 1500);
  // The fixture checks that none of the three sleepers is left.
}

TEST_F(SandboxTest, OutputFloodIsCappedAndStopped) {
  ProcessSpec spec = shell("yes flood");
  spec.max_stdout = 1000;
  auto r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_TRUE(r->truncated);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->stdout_data.size(), 1000u);
}

TEST_F(SandboxTest, ForkBombIsContainedByTheProcessLimit) {
  std::string exe = compileC("forkbomb", kForkBomb);
  ProcessSpec spec = shell("");
  spec.argv = {exe};
  auto r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->exit_code, 0) << r->stdout_data;
  int children = -1;
  ASSERT_EQ(std::sscanf(r->stdout_data.c_str(), "refused after %d", &children), 1)
      << r->stdout_data;
  std::printf("fork bomb: %s", r->stdout_data.c_str());
  // The user-program profile allows 14 processes, the program itself being one.
  EXPECT_LE(children, 13);
  EXPECT_GE(children, 5);
  if (hasCgroups()) {
    EXPECT_TRUE(r->process_limit_hit);
  }
  EXPECT_FALSE(r->timed_out);  // the run ended when the program did, children and all
}

TEST_F(SandboxTest, ShellForkBombEndsWithTheRun) {
  ProcessSpec spec = shell("b() { b | b & }; b; sleep 8764");
  spec.timeout = milliseconds(1500);
  auto r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_LT(r->wall_ms, 1500 + 2000);
}

TEST_F(SandboxTest, MemoryBalloonIsStoppedAndReported) {
  std::string exe = compileC("balloon", kBalloon);
  ProcessSpec spec = shell("");
  spec.argv = {exe};
  auto r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_NE(r->exit_code, 0);
  size_t last_line = r->stdout_data.rfind('\n', r->stdout_data.size() - 2);
  std::printf("balloon: exit=%d signal=%d oom_killed=%d last=%s", r->exit_code, r->term_signal,
              r->oom_killed, r->stdout_data.substr(last_line + 1).c_str());
  EXPECT_EQ(r->stdout_data.find("\n300\n"), std::string::npos) << "grew past the limit";
  if (hasCgroups()) {
    EXPECT_TRUE(r->oom_killed);
    EXPECT_EQ(r->term_signal, SIGKILL);
  } else {
    // RLIMIT_AS turns the allocation down instead.
    EXPECT_NE(r->stdout_data.find("refused at"), std::string::npos) << r->stdout_data;
    EXPECT_FALSE(r->oom_killed);
  }
}

TEST_F(SandboxTest, FillingTmpStopsAtItsSize) {
  // Four files of 8 MiB: the third no longer fits the user profile's 20 MiB /tmp.
  auto r = runner().run(
      shell("for i in 1 2 3 4; do head -c 8388608 /dev/zero > /tmp/f$i || echo full:$i; done; "
            "df -k /tmp | tail -1"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_NE(r->stdout_data.find("full:3"), std::string::npos) << r->stdout_data;
  EXPECT_NE(r->stderr_data.find("No space left"), std::string::npos) << r->stderr_data;
}

TEST_F(SandboxTest, TmpIsPrivateToEachRun) {
  std::string name = "left-behind-" + dir().substr(dir().rfind('-') + 1);
  auto r = runner().run(shell("echo secret > /tmp/" + name));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  r = runner().run(shell("ls -A /tmp"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  // /tmp holds only the mount point of the work directory.
  EXPECT_EQ(r->stdout_data.find(name), std::string::npos) << r->stdout_data;
  EXPECT_NE(::access(("/tmp/" + name).c_str(), F_OK), 0);
}

TEST_F(SandboxTest, FillingTheWorkingDirectoryStopsAtTheFileSizeLimit) {
  auto r = runner().run(shell("head -c 33554432 /dev/zero > big; echo rc=$?"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->stdout_data, "rc=" + std::to_string(128 + SIGXFSZ) + "\n");

  struct stat st {};

  ASSERT_EQ(::stat((dir() + "/big").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 16 * 1024 * 1024);  // the user profile's file size limit
}

}  // namespace
}  // namespace cex

namespace cex {
namespace {

TEST_F(SandboxTest, ConcurrentRunsStayApart) {
  constexpr int kRuns = 8;
  std::vector<Result<ProcessResult>> results(kRuns, Status::internal("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kRuns; ++i) {
    threads.emplace_back([&, i] {
      ProcessSpec spec = shell("echo " + std::to_string(i) + " > /tmp/n; sleep 0.2; cat /tmp/n");
      results[i] = runner().run(spec);
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (int i = 0; i < kRuns; ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].status().toString();
    EXPECT_EQ(results[i]->stdout_data, std::to_string(i) + "\n");  // each its own /tmp
  }
}

TEST_F(SandboxTest, WritablePathsMustBePrivateDirectories) {
  auto shared = TempDir::create("/tmp", "cex-sandbox-shared-");
  ASSERT_TRUE(shared.ok());
  ASSERT_EQ(::chmod(shared->path().c_str(), 0777), 0);
  struct stat before = {};
  ASSERT_EQ(::stat(shared->path().c_str(), &before), 0);
  std::string link = dir() + "-link";
  ASSERT_EQ(::symlink(dir().c_str(), link.c_str()), 0);

  for (const std::string& path : {shared->path(), link, dir() + "/missing", std::string("rel")}) {
    ProcessSpec spec = shell("true");
    spec.writable_paths = {path};
    auto r = runner().run(spec);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status().code(), StatusCode::InvalidArgument) << path;
  }
  ::unlink(link.c_str());
  struct stat after = {};
  ASSERT_EQ(::stat(shared->path().c_str(), &after), 0);
  EXPECT_EQ(after.st_uid, before.st_uid);  // a refused path is left as it was
}

TEST_F(SandboxTest, SetupFailuresAreErrorsNotResults) {
  ProcessSpec spec = shell("true");
  spec.cwd = "/nonexistent-cex-dir";  // not in the sandbox's view
  auto r = runner().run(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::Unavailable);
  EXPECT_NE(r.status().message().find("bwrap"), std::string::npos) << r.status().toString();
}

TEST(SandboxCreationTest, MissingBubblewrapIsExplained) {
  SandboxConfig config;
  config.bwrap_path = "/nonexistent/bwrap";
  auto r = makeSandboxRunner(config);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::Unavailable);
  EXPECT_NE(r.status().message().find("bubblewrap not found"), std::string::npos);
}

TEST(SandboxCreationTest, RequiredCgroupsFailClosedWithoutThem) {
  SandboxConfig config;
  config.cgroups = CgroupPolicy::Required;
  auto r = makeSandboxRunner(config);
  if (CgroupManager::create({}).ok()) {
    ASSERT_TRUE(r.ok()) << r.status().toString();
    EXPECT_NE((*r)->name().find("cgroup"), std::string::npos);
  } else {
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("cgroups required"), std::string::npos)
        << r.status().toString();
  }
}

TEST(SandboxCreationTest, RlimitsOnlyWhenCgroupsAreOff) {
  SandboxConfig config;
  config.cgroups = CgroupPolicy::Off;
  auto r = makeSandboxRunner(config);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ((*r)->name(), "bwrap+rlimits");
  EXPECT_NE((*r)->describe().find("RLIMIT_NPROC"), std::string::npos);
}

TEST(SandboxCreationTest, ModesByName) {
  auto none = makeProcessRunner("none", SandboxConfig{});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ((*none)->name(), "none");
  auto bogus = makeProcessRunner("nsjail", SandboxConfig{});
  ASSERT_FALSE(bogus.ok());
  EXPECT_EQ(bogus.status().code(), StatusCode::InvalidArgument);
}

}  // namespace
}  // namespace cex

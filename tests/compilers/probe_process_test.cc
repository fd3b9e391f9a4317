#include "compilers/probe_process.h"

#include <chrono>

#include <gtest/gtest.h>

namespace cex {
namespace {

TEST(ProbeProcessTest, SeparatesOutputsAndReportsExitCode) {
  Result<ProcessOutput> run =
      runProbeProcess({"/bin/sh", "-c", "echo out; echo err >&2; exit 7"}, 5000);
  ASSERT_TRUE(run.ok()) << run.status().toString();
  EXPECT_EQ(run->out, "out\n");
  EXPECT_EQ(run->err, "err\n");
  EXPECT_EQ(run->exit_code, 7);
  EXPECT_EQ(run->term_signal, 0);
}

TEST(ProbeProcessTest, ReportsTheKillingSignal) {
  Result<ProcessOutput> run = runProbeProcess({"/bin/sh", "-c", "kill -TERM $$"}, 5000);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exit_code, -1);
  EXPECT_EQ(run->term_signal, 15);
}

TEST(ProbeProcessTest, RunsWithTheCLocaleAndNoStdin) {
  Result<ProcessOutput> run =
      runProbeProcess({"/bin/sh", "-c", "echo $LC_ALL $LANG; cat; echo done"}, 5000);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->out, "C C\ndone\n");
}

TEST(ProbeProcessTest, TimesOutAndKillsTheGroup) {
  auto started = std::chrono::steady_clock::now();
  // The shell's child holds the pipe open too; the whole group must go.
  Result<ProcessOutput> run = runProbeProcess({"/bin/sh", "-c", "sleep 30 & wait"}, 300);
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::Timeout);
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(ProbeProcessTest, CapsOutput) {
  Result<ProcessOutput> run =
      runProbeProcess({"/bin/sh", "-c", "head -c 3000000 /dev/zero"}, 10000);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->out.size(), kMaxProbeOutputBytes);
}

TEST(ProbeProcessTest, RejectsRelativeAndMissingPrograms) {
  EXPECT_EQ(runProbeProcess({"sh", "-c", "true"}, 1000).status().code(),
            StatusCode::InvalidArgument);
  EXPECT_EQ(runProbeProcess({}, 1000).status().code(), StatusCode::InvalidArgument);
  Result<ProcessOutput> missing = runProbeProcess({"/nonexistent/cex-compiler"}, 1000);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::NotFound);
}

}  // namespace
}  // namespace cex

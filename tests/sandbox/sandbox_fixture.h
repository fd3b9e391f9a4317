#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/files.h"
#include "sandbox/process.h"
#include "sandbox/sandbox.h"

namespace cex {

// Shared set-up for tests that run hostile programs through the sandbox: one runner for the
// whole suite, a fresh work directory per test, and a marker in every run's environment so
// that the test can prove afterwards that no process of its runs is left anywhere.
class SandboxFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto made = makeSandboxRunner(SandboxConfig{});
    if (made.ok()) {
      runner_ = std::move(*made).release();
    } else {
      creation_error_ = new std::string(made.status().toString());
    }
  }

  static void TearDownTestSuite() {
    delete runner_;
    runner_ = nullptr;
  }

  void SetUp() override {
    std::random_device rd;
    marker_ = "CEX_SANDBOX_TEST_MARKER=" + std::to_string(rd()) + std::to_string(rd());
    ASSERT_NE(runner_, nullptr) << "sandbox unavailable: " << *creation_error_;
    auto dir = TempDir::create("/tmp", "cex-sandbox-test-");
    ASSERT_TRUE(dir.ok()) << dir.status().toString();
    work_ = std::make_unique<TempDir>(std::move(*dir));
  }

  void TearDown() override {
    // The runner promises that a run's processes are gone when run() returns.
    if (runner_ != nullptr) {
      EXPECT_EQ(processesWithMarker(), 0) << "processes of this test outlived their runs";
    }
  }

  ProcessRunner& runner() { return *runner_; }

  bool hasCgroups() const { return runner_->name() != "bwrap+rlimits"; }

  const std::string& dir() const { return work_->path(); }

  // A run of `script` under /bin/sh in the work directory, which is the only writable path.
  ProcessSpec shell(const std::string& script,
                    SandboxProfile profile = SandboxProfile::UserProgram) const {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.cwd = dir();
    spec.env = {"PATH=/usr/bin:/bin", "HOME=" + dir(), "LC_ALL=C", marker_};
    spec.profile = profile;
    spec.writable_paths = {dir()};
    spec.timeout = std::chrono::seconds(10);
    return spec;
  }

  // Compiles a C program on the host (outside the sandbox) into the work directory and
  // returns its path.
  std::string compileC(const std::string& name, const std::string& source) const {
    std::string src = dir() + "/" + name + ".c";
    std::string exe = dir() + "/" + name;
    EXPECT_TRUE(writeFile(src, source).isOk());
    std::string cmd = "cc -O1 -o " + exe + " " + src + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "cc failed for " << name;  // NOLINT
    return exe;
  }

  // Processes anywhere on the host whose environment carries this test's marker.
  int processesWithMarker() const {
    int count = 0;
    DIR* proc = ::opendir("/proc");
    while (dirent* entry = proc != nullptr ? ::readdir(proc) : nullptr) {
      std::string pid = entry->d_name;
      if (pid.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      std::ifstream env("/proc/" + pid + "/environ");
      std::stringstream text;
      text << env.rdbuf();
      if (text.str().find(marker_) != std::string::npos) {
        ++count;
      }
    }
    if (proc != nullptr) {
      ::closedir(proc);
    }
    return count;
  }

  static void printSkipReason(const std::string& why) {
    std::printf("[ SKIPPED  ] %s\n", why.c_str());
  }

 private:
  static inline ProcessRunner* runner_ = nullptr;
  static inline std::string* creation_error_ = nullptr;
  std::unique_ptr<TempDir> work_;
  std::string marker_;
};

}  // namespace cex

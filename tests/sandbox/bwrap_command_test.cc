#include "sandbox/bwrap_command.h"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

namespace cex {
namespace {

ProcessSpec sampleSpec(SandboxProfile profile) {
  ProcessSpec spec;
  spec.argv = {"g++", "-c", "example.cpp"};
  spec.cwd = "/tmp/cex-compile-abc";
  spec.env = {"PATH=/usr/bin:/bin", "LANG=C=utf8", "BROKEN"};
  spec.profile = profile;
  spec.writable_paths = {"/tmp/cex-compile-abc"};
  spec.readonly_paths = {"/opt/toolchain"};
  return spec;
}

// Position of the first occurrence of `args` as a consecutive run, or npos.
size_t find(const std::vector<std::string>& argv, const std::vector<std::string>& args) {
  auto it = std::search(argv.begin(), argv.end(), args.begin(), args.end());
  return it == argv.end() ? std::string::npos : static_cast<size_t>(it - argv.begin());
}

TEST(BwrapCommandTest, IsolatesNamespacesIdentityAndLifetime) {
  SandboxConfig config;
  BwrapCommand command(config);
  auto spec = sampleSpec(SandboxProfile::Compiler);
  auto argv = command.build(spec, spec.argv, config.compiler);
  EXPECT_EQ(argv[0], "/usr/bin/bwrap");
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--unshare-user", "--uid", "10240", "--gid", "10240"},
                                             {"--unshare-pid"},
                                             {"--unshare-net"},
                                             {"--unshare-ipc"},
                                             {"--unshare-uts"},
                                             {"--unshare-cgroup"},
                                             {"--die-with-parent"},
                                             {"--new-session"},
                                             {"--cap-drop", "ALL"},
                                             {"--info-fd", "3"},
                                             {"--block-fd", "4"},
                                             {"--seccomp", "5"},
                                             {"--ro-bind-data", "6", "/etc/passwd"},
                                             {"--ro-bind-data", "7", "/etc/group"},
                                             {"--proc", "/proc"},
                                             {"--dev", "/dev"},
                                             {"--remount-ro", "/"},
                                             {"--clearenv"}}) {
    EXPECT_NE(find(argv, args), std::string::npos) << args[0];
  }
}

TEST(BwrapCommandTest, BindsOnlyTheSystemViewAndTheSpecsPaths) {
  SandboxConfig config;
  config.readonly_paths = {"/opt/compiler-explorer"};
  BwrapCommand command(config);
  auto spec = sampleSpec(SandboxProfile::Compiler);
  auto argv = command.build(spec, spec.argv, config.compiler);
  std::set<std::string> sources;
  std::set<std::string> writable;
  for (size_t i = 0; i + 2 < argv.size() && argv[i] != "--"; ++i) {
    if (argv[i] == "--bind" || argv[i] == "--ro-bind" || argv[i] == "--ro-bind-try") {
      EXPECT_EQ(argv[i + 1], argv[i + 2]) << "paths keep their place";
      (argv[i] == "--bind" ? writable : sources).insert(argv[i + 1]);
    }
  }
  EXPECT_EQ(writable, std::set<std::string>{"/tmp/cex-compile-abc"});
  for (const auto& path : sources) {
    bool expected = path == "/usr" || path.starts_with("/etc/") ||
                    path == "/sys/devices/system/cpu" || path == "/opt/toolchain" ||
                    path == "/opt/compiler-explorer" ||
                    (path.starts_with("/lib") || path == "/bin" || path == "/sbin");
    EXPECT_TRUE(expected) << "unexpected read-only bind " << path;
  }
  // A writable directory under /tmp is bound after the private /tmp is mounted.
  size_t tmp = find(argv, {"--tmpfs", "/tmp"});
  size_t work = find(argv, {"--bind", "/tmp/cex-compile-abc"});
  ASSERT_NE(tmp, std::string::npos);
  ASSERT_NE(work, std::string::npos);
  EXPECT_LT(tmp, work);
}

TEST(BwrapCommandTest, ProfilesSizeTmpAndCompilersSeeTheCpuList) {
  SandboxConfig config;
  BwrapCommand command(config);
  auto compiler = sampleSpec(SandboxProfile::Compiler);
  auto user = sampleSpec(SandboxProfile::UserProgram);
  auto a = command.build(compiler, compiler.argv, config.compiler);
  auto b = command.build(user, user.argv, config.user_program);
  EXPECT_NE(find(a, {"--size", std::to_string(512 << 20), "--perms", "1777", "--tmpfs", "/tmp"}),
            std::string::npos);
  EXPECT_NE(find(b, {"--size", std::to_string(20 << 20), "--perms", "1777", "--tmpfs", "/tmp"}),
            std::string::npos);
  EXPECT_NE(find(a, {"/sys/devices/system/cpu"}), std::string::npos);
  EXPECT_EQ(find(b, {"/sys/devices/system/cpu"}), std::string::npos);
}

TEST(BwrapCommandTest, EnvironmentDirectoryAndCommandComeLast) {
  SandboxConfig config;
  BwrapCommand command(config);
  auto spec = sampleSpec(SandboxProfile::Compiler);
  auto argv = command.build(spec, {"/usr/bin/prlimit", "--nproc=14", "--", "g++"}, config.compiler);
  EXPECT_NE(find(argv, {"--setenv", "PATH", "/usr/bin:/bin"}), std::string::npos);
  EXPECT_NE(find(argv, {"--setenv", "LANG", "C=utf8"}), std::string::npos);
  EXPECT_EQ(find(argv, {"BROKEN"}), std::string::npos);
  std::vector<std::string> tail = {
      "--chdir", "/tmp/cex-compile-abc", "--", "/usr/bin/prlimit", "--nproc=14", "--", "g++"};
  ASSERT_GE(argv.size(), tail.size());
  EXPECT_EQ(std::vector<std::string>(argv.end() - static_cast<long>(tail.size()), argv.end()),
            tail);
}

TEST(BwrapCommandTest, SyntheticIdentityFiles) {
  SandboxConfig config;
  BwrapCommand command(config);
  EXPECT_EQ(command.passwdFile("/tmp/x").substr(0, 39), "cex:x:10240:10240:cex:/tmp/x:/bin/sh\nno");
  EXPECT_EQ(command.groupFile(), "cex:x:10240:\nnogroup:x:65534:\n");
}

}  // namespace
}  // namespace cex

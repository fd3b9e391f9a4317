#include "compilers/discovery.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <iostream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "base/files.h"
#include "base/strings.h"
#include "fake_compiler.h"

namespace cex {
namespace {

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

bool anyWarningContains(const DiscoveryReport& report, std::string_view text) {
  for (const std::string& w : report.warnings) {
    if (w.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::set<std::string> idsOf(const CompilerRegistry& registry) {
  std::set<std::string> ids;
  for (const CompilerInfo& c : registry.compilers()) {
    EXPECT_TRUE(ids.insert(c.id).second) << "duplicate id " << c.id;
  }
  return ids;
}

DiscoveryReport discover(const DiscoveryOptions& options) {
  Result<DiscoveryReport> report = discoverCompilers(options);
  EXPECT_TRUE(report.ok()) << report.status().toString();
  return report.ok() ? std::move(report).value() : DiscoveryReport{};
}

// A temp dir with bin/ (search dir), cache/ and a log of fake compiler runs.
class FakeCompilersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("/tmp", "cex-discovery-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<TempDir>(std::move(dir).value());
    bin_ = dir_->path() + "/bin";
    log_ = dir_->path() + "/runs.log";
    ASSERT_TRUE(makeDirectories(bin_).isOk());
    options_.search_dirs = {bin_};
    options_.cache_dir = dir_->path() + "/cache";
  }

  void link(const std::string& target, const std::string& name) {
    ASSERT_EQ(::symlink(target.c_str(), (bin_ + "/" + name).c_str()), 0) << name;
  }

  // g++-12 with g++ pointing at it; clang-14 with clang, clang++ and clang++-14 pointing at it.
  void writeGccAndClang() {
    writeFakeCompiler(bin_ + "/g++-12", "g++ (Fake 12.2.0-14) 12.2.0", "x86_64-linux-gnu", log_);
    link("g++-12", "g++");
    writeFakeCompiler(bin_ + "/clang-14", "Fake clang version 14.0.6", "x86_64-pc-linux-gnu", log_);
    link("clang-14", "clang");
    link("clang-14", "clang++");
    link("clang-14", "clang++-14");
  }

  std::unique_ptr<TempDir> dir_;
  std::string bin_;
  std::string log_;
  DiscoveryOptions options_;
};

TEST_F(FakeCompilersTest, VersionedNamesOfOneBinaryAreOneCompiler) {
  writeGccAndClang();
  DiscoveryReport report = discover(options_);

  EXPECT_EQ(idsOf(report.registry), (std::set<std::string>{"g122", "clang1406", "cclang1406"}));
  const CompilerInfo* gcc = report.registry.find("g122");
  ASSERT_NE(gcc, nullptr);
  EXPECT_EQ(gcc->exe, bin_ + "/g++-12");
  EXPECT_EQ(gcc->name, "x86-64 gcc 12.2");
  EXPECT_EQ(gcc->lang, "c++");
  EXPECT_EQ(gcc->instruction_set, "amd64");
  EXPECT_EQ(gcc->intel_asm, (std::vector<std::string>{"-masm=intel"}));
  EXPECT_TRUE(gcc->supports_intel);
  EXPECT_TRUE(gcc->supports_verbose_asm);
  EXPECT_EQ(gcc->version, "g++ (Fake 12.2.0-14) 12.2.0");
  EXPECT_NE(gcc->full_version.find("fake compiler"), std::string::npos);

  // clang and clang++ are one binary but two drivers, each under its versioned name.
  const CompilerInfo* clangxx = report.registry.find("clang1406");
  ASSERT_NE(clangxx, nullptr);
  EXPECT_EQ(clangxx->exe, bin_ + "/clang++-14");
  EXPECT_EQ(clangxx->family, CompilerFamily::Clang);
  EXPECT_EQ(clangxx->compiler_type, "clang");
  EXPECT_EQ(clangxx->intel_asm, (std::vector<std::string>{"-mllvm", "--x86-asm-syntax=intel"}));
  EXPECT_EQ(report.registry.find("cclang1406")->exe, bin_ + "/clang-14");

  // Three executables probed: g++-12 three times, each clang driver twice.
  EXPECT_EQ(report.probes_run, 3);
  EXPECT_EQ(report.probes_cached, 0);
  EXPECT_EQ(countRuns(log_), 7);
  EXPECT_TRUE(report.warnings.empty());
}

TEST_F(FakeCompilersTest, WarmCacheRunsNoCompiler) {
  writeGccAndClang();
  DiscoveryReport cold = discover(options_);
  ASSERT_EQ(cold.probes_run, 3);
  ASSERT_TRUE(exists(options_.cache_dir + "/compiler-probes.json"));
  int runs = countRuns(log_);

  auto started = std::chrono::steady_clock::now();
  DiscoveryReport warm = discover(options_);
  auto elapsed = std::chrono::steady_clock::now() - started;

  EXPECT_EQ(warm.probes_run, 0);
  EXPECT_EQ(warm.probes_cached, 3);
  EXPECT_EQ(countRuns(log_), runs);
  EXPECT_EQ(idsOf(warm.registry), idsOf(cold.registry));
  EXPECT_EQ(warm.registry.find("g122")->full_version, cold.registry.find("g122")->full_version);
  EXPECT_EQ(warm.registry.find("g122")->intel_asm, cold.registry.find("g122")->intel_asm);
  EXPECT_LT(elapsed, std::chrono::milliseconds(200));
}

TEST_F(FakeCompilersTest, ChangedMtimeInvalidatesOneEntry) {
  writeGccAndClang();
  discover(options_);
  int runs = countRuns(log_);

  // Same size, new mtime: as after reinstalling the same package version.
  timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (bin_ + "/g++-12").c_str(), times, 0), 0);
  DiscoveryReport report = discover(options_);
  EXPECT_EQ(report.probes_run, 1);
  EXPECT_EQ(report.probes_cached, 2);
  EXPECT_EQ(countRuns(log_), runs + 3);
  EXPECT_NE(report.registry.find("g122"), nullptr);
}

TEST_F(FakeCompilersTest, CorruptCacheIsIgnoredAndReplaced) {
  writeGccAndClang();
  ASSERT_TRUE(makeDirectories(options_.cache_dir).isOk());
  ASSERT_TRUE(
      writeFile(options_.cache_dir + "/compiler-probes.json", "{\"format\":1,\"pro").isOk());

  DiscoveryReport report = discover(options_);
  EXPECT_EQ(report.probes_run, 3);
  EXPECT_TRUE(anyWarningContains(report, "probe cache"));
  EXPECT_EQ(idsOf(report.registry).size(), 3u);

  DiscoveryReport again = discover(options_);
  EXPECT_EQ(again.probes_run, 0);
  EXPECT_TRUE(again.warnings.empty());
}

TEST_F(FakeCompilersTest, NoCacheDirMeansNoCache) {
  writeGccAndClang();
  options_.cache_dir.clear();
  discover(options_);
  EXPECT_EQ(discover(options_).probes_run, 3);
}

TEST_F(FakeCompilersTest, HangingCompilerIsKilledAndDroppedWithoutBlockingOthers) {
  writeFakeCompiler(bin_ + "/g++-12", "g++ (Fake) 12.2.0", "x86_64-linux-gnu", log_);
  // Its own child keeps running too, so killing only the script would not be enough.
  std::string pid_file = dir_->path() + "/sleeper.pid";
  writeScript(bin_ + "/clang-15", "sleep 30 &\necho $! > '" + pid_file + "'\nwait\n");
  options_.probe_timeout_ms = 500;
  options_.parallelism = 2;

  auto started = std::chrono::steady_clock::now();
  DiscoveryReport report = discover(options_);
  auto elapsed = std::chrono::steady_clock::now() - started;

  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_EQ(idsOf(report.registry), (std::set<std::string>{"g122"}));
  EXPECT_TRUE(anyWarningContains(report, bin_ + "/clang-15"));

  // The sleeping grandchild went with its process group.
  Result<std::string> pid_text = readFile(pid_file);
  ASSERT_TRUE(pid_text.ok());
  pid_t sleeper = std::stoi(std::string(trim(*pid_text)));
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    Result<std::string> stat = readFile("/proc/" + std::to_string(sleeper) + "/stat");
    gone = !stat.ok() || stat->find(") Z") != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "sleep " << sleeper << " still running";

  // A timeout may be passing trouble, so it is not remembered: the next start tries again.
  DiscoveryReport again = discover(options_);
  EXPECT_EQ(again.probes_run, 1);
  EXPECT_EQ(again.probes_cached, 1);
}

TEST_F(FakeCompilersTest, BrokenCompilerIsDroppedAndRemembered) {
  writeFakeCompiler(bin_ + "/g++-12", "g++ (Fake) 12.2.0", "x86_64-linux-gnu", log_);
  writeScript(bin_ + "/gcc-11", "echo 'gcc-11: fatal: broken install' >&2\nexit 3\n");
  writeScript(bin_ + "/gfortran", "echo 'no version number at all'\n");

  DiscoveryReport report = discover(options_);
  EXPECT_EQ(idsOf(report.registry), (std::set<std::string>{"g122"}));
  EXPECT_TRUE(anyWarningContains(report, "broken install"));
  EXPECT_TRUE(anyWarningContains(report, "no version number"));

  // Running them again would fail the same way, so the cache keeps the failures.
  DiscoveryReport again = discover(options_);
  EXPECT_EQ(again.probes_run, 0);
  EXPECT_EQ(again.probes_cached, 3);
  EXPECT_EQ(again.warnings.size(), 2u);
}

TEST_F(FakeCompilersTest, IdClashKeepsTheFirstInSearchOrder) {
  std::string second = dir_->path() + "/bin2";
  ASSERT_TRUE(makeDirectories(second).isOk());
  writeFakeCompiler(bin_ + "/g++-12", "g++ (First) 12.2.0", "x86_64-linux-gnu", log_);
  writeFakeCompiler(second + "/g++-12", "g++ (Second) 12.2.0", "x86_64-linux-gnu", log_);
  options_.search_dirs = {bin_, second};

  DiscoveryReport report = discover(options_);
  ASSERT_NE(report.registry.find("g122"), nullptr);
  EXPECT_EQ(report.registry.find("g122")->exe, bin_ + "/g++-12");
  EXPECT_TRUE(anyWarningContains(report, "clash"));
}

TEST_F(FakeCompilersTest, OtherArchitecturesAndFortran) {
  writeFakeCompiler(bin_ + "/g++-12", "g++ (Fake) 12.2.0", "aarch64-linux-gnu", log_);
  writeFakeCompiler(bin_ + "/gfortran-11", "GNU Fortran (Fake) 11.3.0", "x86_64-linux-gnu", log_);
  writeFakeCompiler(bin_ + "/clang-16", "clang version 16.0.0", "aarch64-unknown-linux-gnu", log_);

  DiscoveryReport report = discover(options_);
  EXPECT_EQ(idsOf(report.registry), (std::set<std::string>{"g122", "gfortran113", "cclang1600"}));
  EXPECT_EQ(report.registry.find("g122")->name, "ARM64 gcc 12.2");
  EXPECT_EQ(report.registry.find("g122")->instruction_set, "aarch64");
  // Clang's Intel syntax is an x86 option.
  EXPECT_FALSE(report.registry.find("cclang1600")->supports_intel);
  const CompilerInfo* fortran = report.registry.find("gfortran113");
  EXPECT_EQ(fortran->lang, "fortran");
  EXPECT_EQ(fortran->compiler_type, "fortran");
  EXPECT_EQ(fortran->name, "x86-64 gfortran 11.3");
  EXPECT_EQ(report.registry.language("fortran")->default_compiler, "gfortran113");
}

// The compilers installed on this machine, found through $PATH and /usr/bin.
TEST(RealDiscoveryTest, FindsThisMachinesCompilers) {
  auto cache = TempDir::create("/tmp", "cex-discovery-real-");
  ASSERT_TRUE(cache.ok());
  DiscoveryOptions options;
  options.cache_dir = cache->path();
  DiscoveryReport report = discover(options);
  std::set<std::string> ids = idsOf(report.registry);

  struct Expected {
    const char* exe;
    const char* id;
    const char* lang;
  };

  const Expected expected[] = {
      {"/usr/bin/g++-12", "g122", "c++"},
      {"/usr/bin/gcc-12", "cg122", "c"},
      {"/usr/bin/clang++-14", "clang1406", "c++"},
      {"/usr/bin/clang-14", "cclang1406", "c"},
      {"/usr/bin/gfortran-12", "gfortran122", "fortran"},
  };
  int checked = 0;
  for (const Expected& e : expected) {
    if (!exists(e.exe)) {
      continue;
    }
    ++checked;
    const CompilerInfo* c = report.registry.find(e.id);
    ASSERT_NE(c, nullptr) << e.id;
    EXPECT_EQ(c->lang, e.lang);
    EXPECT_EQ(c->exe, e.exe);
    EXPECT_FALSE(c->instruction_set.empty());
    if (c->instruction_set == "amd64") {
      EXPECT_TRUE(c->supports_intel) << e.id;
      EXPECT_EQ(c->name.substr(0, 7), "x86-64 ");
    }
  }
  if (checked == 0) {
    GTEST_SKIP() << "none of the expected compilers is installed";
  }

  // A second start answers everything from the cache, quickly.
  auto started = std::chrono::steady_clock::now();
  DiscoveryReport warm = discover(options);
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(warm.probes_run, 0);
  EXPECT_EQ(idsOf(warm.registry), ids);
  EXPECT_LT(elapsed, std::chrono::milliseconds(200));
  std::cout << "warm discovery of " << ids.size() << " compilers took "
            << std::chrono::duration<double, std::milli>(elapsed).count() << " ms\n";
}

TEST(RealDiscoveryTest, RustcRunsWithoutRustup) {
  DiscoveryOptions options;
  DiscoveryReport report = discover(options);
  const CompilerInfo* rustc = nullptr;
  for (const CompilerInfo& c : report.registry.compilers()) {
    if (c.lang == "rust") {
      rustc = &c;
    }
  }
  if (rustc == nullptr) {
    GTEST_SKIP() << "no rustc on PATH";
  }
  EXPECT_EQ(rustc->id.substr(0, 1), "r");
  EXPECT_EQ(rustc->name.substr(0, 6), "rustc ");
  EXPECT_EQ(rustc->compiler_type, "rust");
  EXPECT_EQ(rustc->family, CompilerFamily::Rustc);
  // The binary itself, not a rustup proxy, which needs rustup's environment to work.
  char real[PATH_MAX];
  ASSERT_NE(::realpath(rustc->exe.c_str(), real), nullptr);
  EXPECT_EQ(std::string(real).substr(std::string(real).rfind('/') + 1), "rustc");
  if (rustc->instruction_set == "amd64") {
    EXPECT_TRUE(rustc->supports_intel);
  }
}

}  // namespace
}  // namespace cex

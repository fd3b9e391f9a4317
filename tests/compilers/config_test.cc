#include <gtest/gtest.h>

#include "base/files.h"
#include "base/strings.h"
#include "compilers/compiler_config.h"
#include "compilers/discovery.h"
#include "fake_compiler.h"

namespace cex {
namespace {

bool anyWarningContains(const std::vector<std::string>& warnings, std::string_view text) {
  for (const std::string& w : warnings) {
    if (w.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// A Compiler Explorer style configuration over fake compilers:
//   bin/    g++-12, gcc-12 (same binary as g++-12), g++-13, clang-14 (+ clang++-14 link)
//   tools/  g++-11, a custom g++-13 build, clang++ for a configured clang
//   etc/    compiler-explorer.*, c++.* and c.* properties
class CompilerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("/tmp", "cex-config-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<TempDir>(std::move(dir).value());
    root_ = dir_->path();
    for (const char* sub : {"/bin", "/tools", "/etc", "/cache"}) {
      ASSERT_TRUE(makeDirectories(root_ + sub).isOk());
    }
    std::string log = root_ + "/runs.log";
    writeFakeCompiler(root_ + "/bin/g++-12", "g++ (Fake) 12.2.0", "x86_64-linux-gnu", log);
    ASSERT_EQ(::link((root_ + "/bin/g++-12").c_str(), (root_ + "/bin/gcc-12").c_str()), 0);
    writeFakeCompiler(root_ + "/bin/g++-13", "g++ (Fake) 13.2.0", "x86_64-linux-gnu", log);
    writeFakeCompiler(root_ + "/bin/clang-14", "clang version 14.0.6", "x86_64-pc-linux-gnu", log);
    ASSERT_EQ(::symlink("clang-14", (root_ + "/bin/clang++-14").c_str()), 0);
    writeFakeCompiler(root_ + "/tools/g++-11", "g++ (Fake) 11.4.0", "x86_64-linux-gnu", log);
    writeFakeCompiler(root_ + "/tools/custom-g++", "g++ (Custom) 13.2.0", "x86_64-linux-gnu", log);
    writeFakeCompiler(root_ + "/tools/clang++", "clang version 17.0.1", "x86_64-pc-linux-gnu", log);
    writeConfig();
    options_.search_dirs = {root_ + "/bin"};
    options_.cache_dir = root_ + "/cache";
    options_.config_dir = root_ + "/etc";
  }

  void writeEtc(const std::string& name, const std::string& text) {
    ASSERT_TRUE(writeFile(root_ + "/etc/" + name, replaceAll(text, "@T@", root_)).isOk());
  }

  void writeConfig() {
    writeEtc("compiler-explorer.defaults.properties",
             "demangler=global-demangler\n"
             "objdumper=global-objdump\n");
    writeEtc("c++.defaults.properties",
             "# C++ compilers for the config test\n"
             "compilers=&gcc:&clang:missing:remote.example.com@10240:g132\n"
             "defaultCompiler=mygcc12   # the one users get first\n"
             "objdumper=cpp-objdump\n"
             "\n"
             "group.gcc.compilers=mygcc12:&oldgcc\n"
             "group.gcc.groupName=GCC x86-64\n"
             "group.gcc.options=-fno-pie '-DNAME=a b' -DQ=\\\"x\\\"\n"
             "group.gcc.supportsBinaryObject=true\n"
             "group.oldgcc.compilers=mygcc11\n"
             "group.oldgcc.groupName=Old GCC\n"
             "group.clang.compilers=myclang\n"
             "group.clang.compilerType=clang\n"
             "group.clang.intelAsm=-mllvm --x86-asm-syntax=intel\n"
             "\n"
             "compiler.mygcc12.exe=@T@/bin/g++-12\n"
             "compiler.mygcc12.name=My GCC 12\n"
             "compiler.mygcc12.alias=gcc12:g12alias\n"
             "compiler.mygcc12.options=-O1\n"
             "compiler.mygcc12.options+= -g\n"
             "compiler.mygcc11.exe=@T@/tools/g++-11\n"
             "compiler.mygcc11.semver=11.4\n"
             "compiler.mygcc11.baseName=legacy gcc\n"
             "compiler.mygcc11.supportsExecute=false\n"
             "compiler.myclang.exe=@T@/tools/clang++\n"
             "compiler.myclang.hidden=true\n"
             "compiler.missing.exe=@T@/tools/not-there\n"
             "compiler.g132.exe=@T@/tools/custom-g++\n"
             "compiler.g132.name=Custom GCC 13.2\n"
             "compiler.g132.intelAsm=\n"
             "compiler.orphan.exe=/bin/true\n"
             "this line is broken\n"
             "\n"
             "libs=fmt:boost\n"
             "libs.fmt.name={fmt}\n"
             "libs.fmt.url=https://fmt.dev\n"
             "libs.fmt.description=A formatting library\n"
             "libs.fmt.versions=trunk:1000\n"
             "libs.fmt.liblink=fmt\n"
             "libs.fmt.versions.trunk.version=trunk\n"
             "libs.fmt.versions.trunk.path=/opt/fmt/trunk/include:/opt/fmt/extra\n"
             "libs.fmt.versions.1000.version=10.0.0\n"
             "libs.fmt.versions.1000.alias=10:ten\n"
             "libs.fmt.versions.1000.libpath=/opt/fmt/10/lib\n"
             "libs.fmt.versions.1000.options=-DFMT_HEADER_ONLY \"-DX=a b\"\n"
             "libs.boost.versions=181\n"
             "libs.boost.versions.181.version=1.81\n"
             "libs.boost.versions.181.hidden=true\n");
    // Later files of the hierarchy win over defaults.
    writeEtc("c++.dev.properties", "group.oldgcc.groupName=Old GCC (dev)\n");
    writeEtc("c++.local.properties", "compiler.mygcc12.alias=gcc12:g12alias:localalias\n");
    // Another environment's file is not read.
    writeEtc("c++.amazon.properties", "compiler.mygcc12.name=Amazon\n");
    writeEtc("c.defaults.properties", "compilers=cgcc\ncompiler.cgcc.exe=gcc-12\n");
  }

  std::unique_ptr<TempDir> dir_;
  std::string root_;
  DiscoveryOptions options_;
};

TEST_F(CompilerConfigTest, ReadsGroupsNestingAndPerCompilerKeys) {
  CompilerConfig config = readCompilerConfig(root_ + "/etc", "dev", {root_ + "/bin"});
  ASSERT_EQ(config.languages.count("c++"), 1u);
  const LanguageConfig& cpp = config.languages.at("c++");
  ASSERT_EQ(cpp.compilers.size(), 4u);  // mygcc12, mygcc11, myclang, g132
  EXPECT_EQ(cpp.compilers[0].info.id, "mygcc12");
  EXPECT_EQ(cpp.compilers[1].info.id, "mygcc11");
  EXPECT_EQ(cpp.compilers[2].info.id, "myclang");
  EXPECT_EQ(cpp.compilers[3].info.id, "g132");

  const ConfiguredCompiler& gcc12 = cpp.compilers[0];
  EXPECT_EQ(gcc12.info.group, "gcc");
  EXPECT_EQ(gcc12.info.group_name, "GCC x86-64");
  // The compiler's own options replace the group's; `+=` extended them in the same file.
  EXPECT_EQ(gcc12.info.options, (std::vector<std::string>{"-O1", "-g"}));
  EXPECT_EQ(gcc12.info.alias, (std::vector<std::string>{"gcc12", "g12alias", "localalias"}));
  EXPECT_EQ(gcc12.name, "My GCC 12");
  EXPECT_TRUE(gcc12.info.supports_binary_object);
  // Language level beats the compiler-explorer fallback, which still answers the rest.
  EXPECT_EQ(gcc12.info.objdumper, "cpp-objdump");
  EXPECT_EQ(gcc12.info.demangler, "global-demangler");

  // Nested: the inner group names it, the outer group's settings still reach it.
  const ConfiguredCompiler& gcc11 = cpp.compilers[1];
  EXPECT_EQ(gcc11.info.group, "oldgcc");
  EXPECT_EQ(gcc11.info.group_name, "Old GCC (dev)");
  EXPECT_EQ(gcc11.info.options, (std::vector<std::string>{"-fno-pie", "-DNAME=a b", "-DQ=\"x\""}));
  EXPECT_FALSE(gcc11.info.supports_execute);

  const ConfiguredCompiler& clang = cpp.compilers[2];
  EXPECT_EQ(clang.kind, CompilerKind::Clang);
  EXPECT_TRUE(clang.info.hidden);
  EXPECT_EQ(clang.intel_asm, (std::vector<std::string>{"-mllvm", "--x86-asm-syntax=intel"}));

  EXPECT_EQ(cpp.default_compiler, "mygcc12");
  EXPECT_TRUE(anyWarningContains(config.warnings, "missing skipped"));
  EXPECT_TRUE(anyWarningContains(config.warnings, "remote.example.com@10240"));
  EXPECT_TRUE(anyWarningContains(config.warnings, "orphan"));
  EXPECT_TRUE(anyWarningContains(config.warnings, "c++.defaults.properties:32:"));

  // A bare exe name is looked up in the search dirs.
  ASSERT_EQ(config.languages.at("c").compilers.size(), 1u);
  EXPECT_EQ(config.languages.at("c").compilers[0].info.exe, root_ + "/bin/gcc-12");
}

TEST_F(CompilerConfigTest, ReadsLibraries) {
  CompilerConfig config = readCompilerConfig(root_ + "/etc", "dev", {root_ + "/bin"});
  const std::vector<Library>& libs = config.languages.at("c++").libraries;
  ASSERT_EQ(libs.size(), 2u);
  const Library& fmt = libs[0];
  EXPECT_EQ(fmt.id, "fmt");
  EXPECT_EQ(fmt.name, "{fmt}");
  EXPECT_EQ(fmt.url, "https://fmt.dev");
  EXPECT_EQ(fmt.description, "A formatting library");
  ASSERT_EQ(fmt.versions.size(), 2u);
  EXPECT_EQ(fmt.versions[0].id, "trunk");
  EXPECT_EQ(fmt.versions[0].path,
            (std::vector<std::string>{"/opt/fmt/trunk/include", "/opt/fmt/extra"}));
  EXPECT_EQ(fmt.versions[0].liblink, (std::vector<std::string>{"fmt"}));
  EXPECT_EQ(fmt.versions[1].version, "10.0.0");
  EXPECT_EQ(fmt.versions[1].alias, (std::vector<std::string>{"10", "ten"}));
  EXPECT_EQ(fmt.versions[1].libpath, (std::vector<std::string>{"/opt/fmt/10/lib"}));
  EXPECT_EQ(fmt.versions[1].options, (std::vector<std::string>{"-DFMT_HEADER_ONLY", "-DX=a b"}));
  EXPECT_EQ(libs[1].name, "boost");
  EXPECT_TRUE(libs[1].versions[0].hidden);
  EXPECT_EQ(libs[1].versions[0].version, "1.81");
}

TEST_F(CompilerConfigTest, ConfiguredCompilersJoinAndOverrideDiscoveredOnes) {
  Result<DiscoveryReport> result = discoverCompilers(options_);
  ASSERT_TRUE(result.ok());
  const CompilerRegistry& registry = result->registry;

  // Configured, probed, configured values kept.
  const CompilerInfo* gcc12 = registry.find("mygcc12");
  ASSERT_NE(gcc12, nullptr);
  EXPECT_TRUE(gcc12->configured);
  EXPECT_EQ(gcc12->name, "My GCC 12");
  EXPECT_EQ(gcc12->version, "g++ (Fake) 12.2.0");
  EXPECT_EQ(gcc12->semver, "12.2");
  EXPECT_EQ(gcc12->instruction_set, "amd64");
  EXPECT_TRUE(gcc12->supports_intel);
  EXPECT_EQ(registry.find("g12alias", "rust"), gcc12);

  // The same binary for the same language was not listed again as g122; for C it was.
  EXPECT_EQ(registry.find("g122"), nullptr);
  EXPECT_EQ(registry.find("cg122"), nullptr);  // c.defaults configures gcc-12 as cgcc
  EXPECT_NE(registry.find("cgcc"), nullptr);

  // The name comes from baseName and semver when not given.
  EXPECT_EQ(registry.find("mygcc11")->name, "legacy gcc 11.4");

  // g132 was discovered in bin/ but the configuration's g132 wins.
  const CompilerInfo* g132 = registry.find("g132");
  ASSERT_NE(g132, nullptr);
  EXPECT_EQ(g132->exe, root_ + "/tools/custom-g++");
  EXPECT_EQ(g132->name, "Custom GCC 13.2");
  // intelAsm configured empty turns Intel syntax off although the compiler accepts it.
  EXPECT_FALSE(g132->supports_intel);

  // A compiler only discovered is still there.
  EXPECT_NE(registry.find("clang1406"), nullptr);
  EXPECT_EQ(registry.find("myclang")->family, CompilerFamily::Clang);
  EXPECT_EQ(registry.find("myclang")->name, "x86-64 clang 17.0.1");
  EXPECT_EQ(registry.find("myclang")->compiler_type, "clang");

  EXPECT_EQ(registry.language("c++")->default_compiler, "mygcc12");
  EXPECT_EQ(registry.libraries("c++").size(), 2u);
  EXPECT_TRUE(anyWarningContains(result->warnings, "missing"));

  // Configured compilers go through the probe cache too.
  Result<DiscoveryReport> warm = discoverCompilers(options_);
  ASSERT_TRUE(warm.ok());
  EXPECT_EQ(warm->probes_run, 0);
  EXPECT_EQ(warm->registry.compilers().size(), registry.compilers().size());
}

TEST_F(CompilerConfigTest, ConfiguredOnlyWhenDiscoveryIsOff) {
  options_.discover = false;
  Result<DiscoveryReport> result = discoverCompilers(options_);
  ASSERT_TRUE(result.ok());
  for (const CompilerInfo& c : result->registry.compilers()) {
    EXPECT_TRUE(c.configured) << c.id;
  }
  EXPECT_EQ(result->registry.compilers().size(), 5u);
}

TEST_F(CompilerConfigTest, BadDefaultCompilerFallsBackWithAWarning) {
  writeEtc("c++.local.properties", "defaultCompiler=nonesuch\n");
  Result<DiscoveryReport> result = discoverCompilers(options_);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(anyWarningContains(result->warnings, "nonesuch"));
  // The newest non-hidden gcc.
  EXPECT_EQ(result->registry.language("c++")->default_compiler, "g132");
}

TEST_F(CompilerConfigTest, GroupCyclesAreCut) {
  writeEtc("c++.local.properties",
           "group.gcc.compilers=mygcc12:&loop\n"
           "group.loop.compilers=&gcc:mygcc11\n");
  CompilerConfig config = readCompilerConfig(root_ + "/etc", "dev", {root_ + "/bin"});
  EXPECT_TRUE(anyWarningContains(config.warnings, "cycle"));
  ASSERT_GE(config.languages.at("c++").compilers.size(), 2u);
  EXPECT_EQ(config.languages.at("c++").compilers[1].info.group, "loop");
}

TEST_F(CompilerConfigTest, MissingConfigDirIsAWarningNotAFailure) {
  options_.config_dir = root_ + "/nope";
  Result<DiscoveryReport> result = discoverCompilers(options_);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->warnings.empty());
  EXPECT_NE(result->registry.find("g122"), nullptr);
}

}  // namespace
}  // namespace cex

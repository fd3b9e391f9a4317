#include "compilers/naming.h"

#include <gtest/gtest.h>

namespace cex {
namespace {

VersionNumber versionOf(std::string_view line) {
  std::optional<VersionNumber> v = parseVersionNumber(line);
  EXPECT_TRUE(v.has_value()) << line;
  return v.value_or(VersionNumber{});
}

TEST(NamingTest, RecognisesDriverNames) {
  struct Case {
    const char* name;
    CompilerKind kind;
    const char* lang;
    bool versioned;
  };

  const Case cases[] = {
      {"gcc", CompilerKind::Gcc, "c", false},
      {"g++", CompilerKind::Gcc, "c++", false},
      {"g++-12", CompilerKind::Gcc, "c++", true},
      {"gcc-13.2", CompilerKind::Gcc, "c", true},
      {"clang", CompilerKind::Clang, "c", false},
      {"clang-14", CompilerKind::Clang, "c", true},
      {"clang++", CompilerKind::Clang, "c++", false},
      {"clang++-16", CompilerKind::Clang, "c++", true},
      {"gfortran-12", CompilerKind::Gfortran, "fortran", true},
      {"rustc", CompilerKind::Rustc, "rust", false},
  };
  for (const Case& c : cases) {
    std::optional<DriverName> d = parseDriverName(c.name);
    ASSERT_TRUE(d.has_value()) << c.name;
    EXPECT_EQ(d->kind, c.kind) << c.name;
    EXPECT_EQ(d->lang, c.lang) << c.name;
    EXPECT_EQ(d->versioned, c.versioned) << c.name;
  }
  for (const char* other :
       {"gcc-ar-12", "gcc-nm", "clang-tidy-14", "clang-format", "g++-", "g++-12.", "gccgo",
        "rustdoc", "cc", "x86_64-linux-gnu-gcc-12", "clang++-14.0.x", "clang-cpp-14"}) {
    EXPECT_FALSE(parseDriverName(other).has_value()) << other;
  }
}

TEST(NamingTest, ParsesVersionLines) {
  VersionNumber gcc = versionOf("g++ (Debian 12.2.0-14+deb12u1) 12.2.0");
  EXPECT_EQ(gcc.major, 12);
  EXPECT_EQ(gcc.minor, 2);
  EXPECT_EQ(gcc.patch, 0);

  VersionNumber clang = versionOf("Debian clang version 14.0.6");
  EXPECT_EQ(clang.major, 14);
  EXPECT_EQ(clang.minor, 0);
  EXPECT_EQ(clang.patch, 6);

  VersionNumber ubuntu = versionOf("Ubuntu clang version 14.0.0-1ubuntu1.1");
  EXPECT_EQ(ubuntu.patch, 0);
  EXPECT_EQ(ubuntu.suffix, "-1ubuntu1.1");

  VersionNumber rust = versionOf("rustc 1.95.0 (59807616e 2026-04-14)");
  EXPECT_EQ(rust.major, 1);
  EXPECT_EQ(rust.minor, 95);
  EXPECT_EQ(rust.patch, 0);

  EXPECT_EQ(versionOf("rustc 1.80.0-nightly (abc 2024-05-01)").suffix, "-nightly");
  EXPECT_EQ(versionOf("gcc (GCC) 13.1.1 20230429").patch, 1);
  EXPECT_EQ(versionOf("GNU Fortran (GCC) 11.3.0").minor, 3);
  EXPECT_EQ(versionOf("clang version 17.0.6 (https://github.com/llvm/llvm 6009708b)").major, 17);
  // A number inside a program name is not the version.
  EXPECT_EQ(versionOf("gcc-12 (Foo 9.9.9) 12.3").minor, 3);

  EXPECT_FALSE(parseVersionNumber("no version here").has_value());
  EXPECT_FALSE(parseVersionNumber("(only 1.2.3 in parentheses)").has_value());
  EXPECT_FALSE(parseVersionNumber("").has_value());
}

TEST(NamingTest, ComparesSemver) {
  EXPECT_LT(compareSemver("12.2", "12.10"), 0);
  EXPECT_GT(compareSemver("13", "12.9.9"), 0);
  EXPECT_EQ(compareSemver("14.0", "14.0.0"), 0);
  EXPECT_LT(compareSemver("", "1"), 0);
}

TEST(NamingTest, MapsTargetsToInstructionSets) {
  EXPECT_EQ(instructionSetForTarget("x86_64-linux-gnu"), "amd64");
  EXPECT_EQ(instructionSetForTarget("x86_64-pc-linux-gnu"), "amd64");
  EXPECT_EQ(instructionSetForTarget("x86_64-unknown-linux-gnu"), "amd64");
  EXPECT_EQ(instructionSetForTarget("aarch64-linux-gnu"), "aarch64");
  EXPECT_EQ(instructionSetForTarget("arm-linux-gnueabihf"), "arm32");
  EXPECT_EQ(instructionSetForTarget("armv7-unknown-linux-gnueabihf"), "arm32");
  EXPECT_EQ(instructionSetForTarget("riscv64-linux-gnu"), "riscv64");
  EXPECT_EQ(instructionSetForTarget("i686-linux-gnu"), "x86");
  EXPECT_EQ(instructionSetForTarget("powerpc64le-linux-gnu"), "powerpc");
  EXPECT_EQ(instructionSetForTarget("s390x-linux-gnu"), "s390x");
  EXPECT_EQ(archDisplayName("amd64"), "x86-64");
  EXPECT_EQ(archDisplayName("aarch64"), "ARM64");
  EXPECT_EQ(archDisplayName("s390x"), "s390x");
}

TEST(NamingTest, NamesCompilersLikeCompilerExplorer) {
  VersionNumber gcc122 = versionOf("g++ (Debian 12.2.0-14+deb12u1) 12.2.0");
  CompilerNaming cpp = nameCompiler(CompilerKind::Gcc, "c++", gcc122, "amd64");
  EXPECT_EQ(cpp.id, "g122");
  EXPECT_EQ(cpp.name, "x86-64 gcc 12.2");
  EXPECT_EQ(cpp.semver, "12.2");
  EXPECT_EQ(cpp.base_name, "x86-64 gcc");
  EXPECT_EQ(nameCompiler(CompilerKind::Gcc, "c", gcc122, "amd64").id, "cg122");
  EXPECT_EQ(nameCompiler(CompilerKind::Gcc, "c++", gcc122, "aarch64").name, "ARM64 gcc 12.2");

  VersionNumber gcc113 = versionOf("g++ (Ubuntu 11.3.0-1ubuntu1~22.04) 11.3.0");
  EXPECT_EQ(nameCompiler(CompilerKind::Gcc, "c++", gcc113, "amd64").id, "g113");
  VersionNumber gcc131 = versionOf("g++ (GCC) 13.1.1 20230429");
  CompilerNaming patched = nameCompiler(CompilerKind::Gcc, "c++", gcc131, "amd64");
  EXPECT_EQ(patched.id, "g1311");
  EXPECT_EQ(patched.name, "x86-64 gcc 13.1.1");

  VersionNumber clang1406 = versionOf("Debian clang version 14.0.6");
  CompilerNaming clang = nameCompiler(CompilerKind::Clang, "c++", clang1406, "amd64");
  EXPECT_EQ(clang.id, "clang1406");
  EXPECT_EQ(clang.name, "x86-64 clang 14.0.6");
  EXPECT_EQ(nameCompiler(CompilerKind::Clang, "c", clang1406, "amd64").id, "cclang1406");

  CompilerNaming fortran = nameCompiler(CompilerKind::Gfortran, "fortran", gcc122, "amd64");
  EXPECT_EQ(fortran.id, "gfortran122");
  EXPECT_EQ(fortran.name, "x86-64 gfortran 12.2");

  VersionNumber rust = versionOf("rustc 1.95.0 (59807616e 2026-04-14)");
  CompilerNaming rustc = nameCompiler(CompilerKind::Rustc, "rust", rust, "amd64");
  EXPECT_EQ(rustc.id, "r1950");
  EXPECT_EQ(rustc.name, "rustc 1.95.0");

  EXPECT_EQ(compilerTypeOf(CompilerKind::Gfortran), "fortran");
  EXPECT_EQ(compilerTypeOf(CompilerKind::Rustc), "rust");
  EXPECT_EQ(familyOf(CompilerKind::Gfortran), CompilerFamily::Gcc);
}

}  // namespace
}  // namespace cex

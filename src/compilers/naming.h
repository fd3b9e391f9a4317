#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "compilers/compiler_info.h"

namespace cex {

// The driver an executable is, which decides its probes, its flags and how it is named.
enum class CompilerKind {
  Gcc,       // gcc, g++
  Clang,     // clang, clang++
  Gfortran,  // gfortran
  Rustc,     // rustc
};

// What an executable's file name says about it: `g++-12` is a versioned g++ for C++.
struct DriverName {
  CompilerKind kind = CompilerKind::Gcc;
  std::string lang;        // language id the driver compiles
  bool versioned = false;  // has a `-N[.N...]` suffix
};

// Recognises gcc, g++, clang, clang++, gfortran and rustc, plain or with a version suffix
// (`clang++-16`, `gcc-12`); nullopt for anything else (`gcc-ar-12`, `clang-tidy`).
std::optional<DriverName> parseDriverName(std::string_view file_name);

// A compiler's release number as its version line gives it.
struct VersionNumber {
  int major = 0;
  int minor = 0;
  int patch = 0;
  std::string suffix;  // whatever follows the number in the same word: "-nightly", "-1ubuntu1"
};

// Finds the release number in a version line: the first word, outside parentheses, that
// starts with `N.N` ("g++ (Debian 12.2.0-14) 12.2.0" gives 12.2.0, "Debian clang version
// 14.0.6" gives 14.0.6, "rustc 1.95.0 (59807616e 2026-04-14)" gives 1.95.0).
std::optional<VersionNumber> parseVersionNumber(std::string_view version_line);

// Compares release numbers given as text ("12.2" < "12.10"); missing parts count as 0.
int compareSemver(std::string_view a, std::string_view b);

// Maps the architecture of a target triple to Compiler Explorer's instruction set name:
// x86_64 gives amd64, aarch64 stays aarch64, arm* gives arm32, riscv64 stays riscv64.
std::string instructionSetForTarget(std::string_view target_triple);

// The prefix compiler names carry for an instruction set: amd64 gives "x86-64", aarch64
// gives "ARM64".
std::string archDisplayName(std::string_view instruction_set);

CompilerFamily familyOf(CompilerKind kind);

// Compiler Explorer's compilerType for a driver: gcc, clang, fortran, rust.
std::string compilerTypeOf(CompilerKind kind);

// The identity Compiler Explorer would give a compiler it found.
struct CompilerNaming {
  std::string id;         // g122, cg122, clang1406, cclang1406, gfortran122, r1950
  std::string semver;     // 12.2, 14.0.6, 1.95.0
  std::string base_name;  // "x86-64 gcc", "rustc"
  std::string name;       // "x86-64 gcc 12.2"
};

// gcc and gfortran use major.minor, plus the patch level when it is not 0; clang and rustc
// always use all three numbers. C compilers get a `c` in front of the C++ id.
CompilerNaming nameCompiler(CompilerKind kind, std::string_view lang, const VersionNumber& version,
                            std::string_view instruction_set);

}  // namespace cex

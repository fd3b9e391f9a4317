#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cex {

// How cex drives a compiler: which flags select asm output, Intel syntax, colours.
enum class CompilerFamily {
  Gcc,    // gcc, g++, gfortran and anything that takes gcc's flags
  Clang,  // clang, clang++
  Rustc,  // rustc
};

// A library version a compile may use (`/api/libraries/<lang>`, `options.libraries`).
struct LibraryVersion {
  std::string id;
  std::string version;
  std::vector<std::string> alias;
  std::vector<std::string> path;     // include directories
  std::vector<std::string> libpath;  // link directories
  std::vector<std::string> liblink;  // libraries to link (-l)
  std::vector<std::string> staticliblink;
  std::vector<std::string> options;  // extra compiler options
  std::vector<std::string> dependencies;
  bool hidden = false;
};

struct Library {
  std::string id;
  std::string name;
  std::string description;
  std::string url;
  std::vector<LibraryVersion> versions;
};

// Everything cex knows about one compiler: its identity in the API and how to run it.
// Field names follow Compiler Explorer's CompilerInfo, in snake_case.
struct CompilerInfo {
  std::string id;               // stable, readable: g122, clang1406, gfortran122, r1950
  std::string exe;              // absolute path as invoked (the name selects the driver)
  std::string name;             // "x86-64 gcc 12.2"
  std::string lang;             // language id: c++, c, fortran, rust
  std::string version;          // first line of the version output
  std::string full_version;     // whole version output
  std::string semver;           // "12.2", "14.0.6"
  std::string base_name;        // "x86-64 gcc"
  std::string compiler_type;    // "gcc", "clang", "rust", "fortran" or a configured type
  std::string instruction_set;  // "amd64", "aarch64", ...
  std::string target;           // target triple, e.g. x86_64-linux-gnu
  std::string group;            // group id from configuration ("" for discovered)
  std::string group_name;
  CompilerFamily family = CompilerFamily::Gcc;
  std::vector<std::string> alias;
  std::vector<std::string> options;    // configured options, placed before user arguments
  std::vector<std::string> intel_asm;  // flags that select Intel syntax; empty = unsupported
  std::string demangler;               // external demangler exe; empty = in process
  std::vector<std::string> demangler_args;
  // Functions hidden in binary mode (PCRE2); empty = the parser's default list.
  std::string binary_hide_func_re;
  int max_lines_of_asm = 5000;  // binary mode stops after this many lines
  std::string objdumper = "objdump";
  bool supports_intel = false;
  bool supports_verbose_asm = false;  // -fverbose-asm / -fno-verbose-asm
  bool supports_binary = true;
  bool supports_binary_object = true;
  bool supports_execute = true;
  bool supports_demangle = true;
  bool supports_library_code_filter = true;
  bool is_semver = true;
  bool is_nightly = false;
  bool hidden = false;
  bool configured = false;  // from .properties rather than discovery
  // Identity of the executable for cache keys: changes when the binary changes.
  uint64_t exe_size = 0;
  int64_t exe_mtime_ns = 0;
  // Libraries usable with this compiler (ids into the language's library list); empty means
  // every library of the language (`supportsLibraries` not configured).
  std::vector<std::string> libs;
};

}  // namespace cex

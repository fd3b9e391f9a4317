#pragma once

#include <string>
#include <vector>

#include "compile/compile_request.h"
#include "compilers/compiler_info.h"

namespace cex {

// Paths of one compile inside its private directory.
struct CompilePaths {
  std::string dir;
  std::string input;   // <dir>/example.<ext>
  std::string output;  // <dir>/output.s (asm, object or executable)
};

// The compiler's argv (argv[0] = exe) for a request: the flags that select the output kind
// and syntax for the compiler's family, then configured options, library flags, the user's
// arguments and the input file.
std::vector<std::string> compilerArgv(const CompilerInfo& compiler, const CompileFilters& filters,
                                      const std::vector<std::string>& library_flags,
                                      const std::vector<std::string>& user_arguments,
                                      const CompilePaths& paths);

// The objdump argv for binary modes.
std::vector<std::string> objdumpArgv(const CompilerInfo& compiler, const CompileFilters& filters,
                                     const std::string& binary_path);

// Filters as the server adjusts them before anything else: no binary output for compilers
// that cannot link, every filter off for C/C++ preprocessing (-E), real file names when the
// request carries extra files.
CompileFilters adjustFilters(const CompilerInfo& compiler, CompileFilters filters,
                             const std::vector<std::string>& user_arguments, bool has_files);

}  // namespace cex

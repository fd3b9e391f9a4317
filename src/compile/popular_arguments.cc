#include "compile/popular_arguments.h"

#include <algorithm>

namespace cex {

namespace {

const std::vector<PopularArgument>& gccLikeArguments() {
  static const std::vector<PopularArgument> kArgs = {
      {"-O2", "Optimize for speed without trading size."},
      {"-O3", "Optimize aggressively for speed, including vectorization."},
      {"-Os", "Optimize for size."},
      {"-O0", "Disable optimization."},
      {"-Wall", "Enable the common set of warnings."},
      {"-Wextra", "Enable extra warnings beyond -Wall."},
      {"-march=native", "Generate code for the CPU of the build machine."},
      {"-g0", "Produce no debug information."},
  };
  return kArgs;
}

const std::vector<PopularArgument>& rustcArguments() {
  static const std::vector<PopularArgument> kArgs = {
      {"-O", "Optimize (same as -C opt-level=3)."},
      {"-Copt-level=3", "Optimize aggressively for speed."},
      {"-Copt-level=s", "Optimize for size."},
      {"-Ctarget-cpu=native", "Generate code for the CPU of the build machine."},
      {"--edition=2021", "Compile as the 2021 edition of Rust."},
  };
  return kArgs;
}

}  // namespace

std::vector<PopularArgument> popularArguments(const CompilerInfo& compiler,
                                              const std::vector<std::string>& used) {
  const auto& all =
      compiler.family == CompilerFamily::Rustc ? rustcArguments() : gccLikeArguments();
  std::vector<PopularArgument> out;
  for (const auto& arg : all) {
    if (out.size() == 5) {
      break;
    }
    if (std::find(used.begin(), used.end(), arg.flag) == used.end()) {
      out.push_back(arg);
    }
  }
  return out;
}

}  // namespace cex

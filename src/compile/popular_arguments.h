#pragma once

#include <vector>

#include "compile/compile_result.h"
#include "compilers/compiler_info.h"

namespace cex {

// Up to five commonly useful flags for the compiler that the user did not pass already.
std::vector<PopularArgument> popularArguments(const CompilerInfo& compiler,
                                              const std::vector<std::string>& used);

}  // namespace cex

#include "compile/compile_request.h"

namespace cex {

CompileFilters CompileFilters::defaults() {
  CompileFilters f;
  f.demangle = true;
  f.intel = true;
  f.comment_only = true;
  f.directives = true;
  f.labels = true;
  return f;
}

bool CompileFilters::set(std::string_view name, bool value) {
  struct Entry {
    std::string_view name;
    bool CompileFilters::*member;
  };

  static constexpr Entry kEntries[] = {
      {"binary", &CompileFilters::binary},
      {"binaryObject", &CompileFilters::binary_object},
      {"execute", &CompileFilters::execute},
      {"demangle", &CompileFilters::demangle},
      {"intel", &CompileFilters::intel},
      {"commentOnly", &CompileFilters::comment_only},
      {"directives", &CompileFilters::directives},
      {"labels", &CompileFilters::labels},
      {"optOutput", &CompileFilters::opt_output},
      {"libraryCode", &CompileFilters::library_code},
      {"trim", &CompileFilters::trim},
      {"debugCalls", &CompileFilters::debug_calls},
      {"dontMaskFilenames", &CompileFilters::dont_mask_filenames},
  };
  for (const auto& entry : kEntries) {
    if (entry.name == name) {
      this->*entry.member = value;
      return true;
    }
  }
  return false;
}

AsmFilters CompileFilters::toAsmFilters() const {
  AsmFilters a;
  a.binary = binary;
  a.binary_object = binary_object;
  a.labels = labels;
  a.directives = directives;
  a.comment_only = comment_only;
  a.library_code = library_code;
  a.trim = trim;
  a.demangle = demangle;
  a.debug_calls = debug_calls;
  a.dont_mask_filenames = dont_mask_filenames;
  return a;
}

}  // namespace cex

#include "compilers/languages.h"

#include "base/strings.h"

namespace cex {

namespace {

// C and C++ share the example: it is valid in both.
constexpr const char* kCFamilyExample =
    "// cex: edit the code, the assembly follows.\n"
    "int square(int num) {\n"
    "    return num * num;\n"
    "}\n";

constexpr const char* kFortranExample =
    "! cex: edit the code, the assembly follows.\n"
    "integer function square(num)\n"
    "    integer, intent(in) :: num\n"
    "    square = num * num\n"
    "end function square\n";

constexpr const char* kRustExample =
    "// cex: edit the code, the assembly follows.\n"
    "pub fn square(num: i32) -> i32 {\n"
    "    num * num\n"
    "}\n";

std::vector<Language> makeLanguages() {
  return {
      {"c++",
       "C++",
       "cppp",
       {".cpp", ".cxx", ".h", ".hpp", ".hxx", ".c", ".cc", ".ixx"},
       {"gcc", "cpp", "cxx"},
       kCFamilyExample,
       ""},
      {"c", "C", "nc", {".c", ".h"}, {"cc", "c99", "c11"}, kCFamilyExample, ""},
      {"fortran",
       "Fortran",
       "fortran",
       {".f90", ".F90", ".f95", ".F95", ".f"},
       {"f90", "gfortran"},
       kFortranExample,
       ""},
      {"rust", "Rust", "rust", {".rs"}, {"rs", "rustc"}, kRustExample, ""},
  };
}

}  // namespace

const std::vector<Language>& builtinLanguages() {
  static const std::vector<Language> kLanguages = makeLanguages();
  return kLanguages;
}

const Language* findBuiltinLanguage(std::string_view id_or_alias) {
  // Ids first, so an alias can never shadow another language's id.
  for (const Language& lang : builtinLanguages()) {
    if (iequals(lang.id, id_or_alias)) {
      return &lang;
    }
  }
  for (const Language& lang : builtinLanguages()) {
    for (const std::string& alias : lang.alias) {
      if (iequals(alias, id_or_alias)) {
        return &lang;
      }
    }
  }
  return nullptr;
}

}  // namespace cex

#include "compile/compiler_command.h"

#include <algorithm>

namespace cex {

namespace {

void append(std::vector<std::string>* argv, const std::vector<std::string>& more) {
  argv->insert(argv->end(), more.begin(), more.end());
}

// gcc, g++, gfortran and compatible drivers.
void gccFlags(const CompilerInfo& c, const CompileFilters& f, const CompilePaths& paths,
              std::vector<std::string>* argv) {
  append(argv, {"-g", "-o", paths.output});
  bool text_output = !f.binary && !f.binary_object;
  if (f.intel && text_output && c.supports_intel) {
    append(argv, c.intel_asm);
  }
  if (c.supports_verbose_asm) {
    argv->push_back(f.comment_only ? "-fno-verbose-asm" : "-fverbose-asm");
  }
  if (f.binary_object) {
    argv->push_back("-c");
  } else if (text_output) {
    argv->push_back("-S");
  }
  argv->push_back("-fdiagnostics-color=always");
}

void clangFlags(const CompilerInfo& c, const CompileFilters& f, const CompilePaths& paths,
                std::vector<std::string>* argv) {
  append(argv, {"-g", "-o", paths.output});
  bool text_output = !f.binary && !f.binary_object;
  if (f.intel && text_output && c.supports_intel) {
    append(argv, c.intel_asm);
  }
  if (f.binary_object) {
    argv->push_back("-c");
  } else if (text_output) {
    argv->push_back("-S");
  }
  append(argv, {"-fcolor-diagnostics", "-fno-crash-diagnostics"});
}

void rustcFlags(const CompilerInfo& c, const CompileFilters& f, const CompilePaths& paths,
                std::vector<std::string>* argv) {
  append(argv, {"-C", "debuginfo=2", "-o", paths.output});
  if (f.binary) {
    append(argv, {"--crate-type", "bin"});
  } else if (f.binary_object) {
    append(argv, {"--emit", "obj", "--crate-type", "rlib"});
  } else {
    append(argv, {"--emit", "asm", "--crate-type", "rlib"});
    if (f.intel && c.supports_intel) {
      append(argv, c.intel_asm);
    }
  }
  append(argv, {"--color", "always"});
}

bool isCFamily(const std::string& lang) {
  return lang == "c" || lang == "c++";
}

}  // namespace

std::vector<std::string> compilerArgv(const CompilerInfo& compiler, const CompileFilters& filters,
                                      const std::vector<std::string>& library_flags,
                                      const std::vector<std::string>& user_arguments,
                                      const CompilePaths& paths) {
  std::vector<std::string> argv = {compiler.exe};
  switch (compiler.family) {
    case CompilerFamily::Gcc:
      gccFlags(compiler, filters, paths, &argv);
      break;
    case CompilerFamily::Clang:
      clangFlags(compiler, filters, paths, &argv);
      break;
    case CompilerFamily::Rustc:
      rustcFlags(compiler, filters, paths, &argv);
      break;
  }
  append(&argv, compiler.options);
  append(&argv, library_flags);
  append(&argv, user_arguments);
  argv.push_back(paths.input);
  return argv;
}

std::vector<std::string> objdumpArgv(const CompilerInfo& compiler, const CompileFilters& filters,
                                     const std::string& binary_path) {
  std::vector<std::string> argv = {compiler.objdumper.empty() ? "objdump" : compiler.objdumper,
                                   "-d", binary_path, "-l", "--insn-width=16"};
  if (filters.binary_object) {
    argv.push_back("-r");
  }
  if (filters.demangle) {
    argv.push_back("-C");
  }
  if (filters.intel) {
    append(&argv, {"-M", "intel"});
  }
  return argv;
}

CompileFilters adjustFilters(const CompilerInfo& compiler, CompileFilters filters,
                             const std::vector<std::string>& user_arguments, bool has_files) {
  if (!compiler.supports_binary) {
    filters.binary = false;
  }
  if (!compiler.supports_binary_object) {
    filters.binary_object = false;
  }
  bool preprocess_only =
      std::find(user_arguments.begin(), user_arguments.end(), "-E") != user_arguments.end();
  if (isCFamily(compiler.lang) && preprocess_only) {
    filters = CompileFilters{};
  }
  if (has_files) {
    filters.dont_mask_filenames = true;
  }
  return filters;
}

}  // namespace cex

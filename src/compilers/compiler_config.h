#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compilers/compiler_info.h"
#include "compilers/naming.h"

namespace cex {

// A compiler as the configuration describes it, before it is probed. Fields the
// configuration leaves out are filled from the probe later, so they are optional here.
struct ConfiguredCompiler {
  // id, exe (absolute), lang, group, group_name, alias, options, demangler, objdumper, libs,
  // the supports_* and other flags, configured = true.
  CompilerInfo info;
  CompilerKind kind = CompilerKind::Gcc;
  std::optional<std::string> name;
  std::optional<std::string> semver;
  std::optional<std::string> base_name;
  std::optional<std::string> instruction_set;
  std::optional<std::string> compiler_type;
  // Set (possibly empty, which turns Intel syntax off) when `intelAsm` is configured.
  std::optional<std::vector<std::string>> intel_asm;
};

// What the configuration says about one language.
struct LanguageConfig {
  std::vector<ConfiguredCompiler> compilers;  // in the order the lists name them
  std::vector<Library> libraries;
  std::string default_compiler;  // `defaultCompiler`; empty when not set
};

// What the configuration dir says about every built-in language.
struct CompilerConfig {
  std::map<std::string, LanguageConfig> languages;  // by language id; only those configured
  std::vector<std::string> warnings;
};

// Reads `<lang>.*.properties` for each built-in language, falling back to
// `compiler-explorer.*.properties`, in the hierarchy of `env`. Compilers whose executable
// does not exist, remote (`host@port`) entries, group cycles and unreadable files are
// skipped with a warning; this never fails as a whole. Executables named without a `/` are
// looked up in `search_dirs`.
CompilerConfig readCompilerConfig(const std::string& config_dir, const std::string& env,
                                  const std::vector<std::string>& search_dirs);

}  // namespace cex

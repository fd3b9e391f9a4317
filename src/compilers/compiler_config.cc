#include "compilers/compiler_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <memory>
#include <set>

#include <spdlog/spdlog.h>

#include "base/arguments.h"
#include "base/properties.h"
#include "base/strings.h"
#include "compilers/languages.h"

namespace cex {

namespace {

void addWarning(std::vector<std::string>* warnings, std::string_view lang, std::string message) {
  spdlog::warn("discovery config lang={} problem=\"{}\"", lang, message);
  warnings->push_back(std::move(message));
}

// Looks a per-compiler key up the way Compiler Explorer does: `compiler.<id>.<key>`, then
// `group.<g>.<key>` from the innermost group outwards, then the language-level `<key>`, then
// (through the fallback) the `compiler-explorer` settings.
class KeyChain {
 public:
  KeyChain(const Properties& props, const std::string& id, const std::vector<std::string>& groups)
      : props_(props) {
    prefixes_.push_back("compiler." + id + ".");
    for (auto it = groups.rbegin(); it != groups.rend(); ++it) {
      prefixes_.push_back("group." + *it + ".");
    }
  }

  const std::string* find(std::string_view key) const {
    for (const std::string& prefix : prefixes_) {
      if (const std::string* v = props_.findLocal(prefix + std::string(key))) {
        return v;
      }
    }
    return props_.find(key);
  }

  std::optional<std::string> optional(std::string_view key) const {
    const std::string* v = find(key);
    return v == nullptr ? std::nullopt : std::optional<std::string>(*v);
  }

  std::string string(std::string_view key, std::string_view default_value) const {
    const std::string* v = find(key);
    return v == nullptr ? std::string(default_value) : *v;
  }

  bool flag(std::string_view key, bool default_value) const {
    const std::string* v = find(key);
    if (v == nullptr) {
      return default_value;
    }
    PropertyValue typed = Properties::typeValue(key, *v);
    const bool* b = std::get_if<bool>(&typed);
    return b == nullptr ? default_value : *b;
  }

  std::vector<std::string> list(std::string_view key) const {
    const std::string* v = find(key);
    return v == nullptr ? std::vector<std::string>() : splitNonEmpty(*v, ':');
  }

 private:
  const Properties& props_;
  std::vector<std::string> prefixes_;  // compiler first, then groups innermost first
};

// A compiler id reached through the lists, with the groups it was reached through.
struct ListedCompiler {
  std::string id;
  std::vector<std::string> groups;  // outermost first
};

// State of a walk over `compilers=` and the group lists it names.
struct ListWalk {
  const Properties* props;
  std::string lang;
  std::vector<std::string> chain;  // groups being walked, outermost first
  std::set<std::string> seen_groups;
  std::set<std::string> seen_compilers;
  std::vector<ListedCompiler> found;
  std::vector<std::string>* warnings;
};

void walkList(ListWalk* walk, std::string_view list);

void walkGroup(ListWalk* walk, const std::string& group) {
  for (const std::string& open : walk->chain) {
    if (open == group) {
      addWarning(walk->warnings, walk->lang, "group " + group + " includes itself; cycle cut");
      return;
    }
  }
  walk->seen_groups.insert(group);
  walk->chain.push_back(group);
  walkList(walk, walk->props->getString("group." + group + ".compilers", ""));
  walk->chain.pop_back();
}

void walkList(ListWalk* walk, std::string_view list) {
  for (const std::string& entry : splitNonEmpty(list, ':')) {
    if (entry[0] == '&') {
      walkGroup(walk, entry.substr(1));
    } else if (entry.find('@') != std::string::npos) {
      addWarning(walk->warnings, walk->lang,
                 "remote compilers are not supported, skipped " + entry);
    } else if (!walk->seen_compilers.insert(entry).second) {
      addWarning(walk->warnings, walk->lang, "compiler " + entry + " is listed twice");
    } else {
      walk->found.push_back({entry, walk->chain});
    }
  }
}

bool isExecutableFile(const std::string& path) {
  struct stat st {};

  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// An absolute path for a configured `exe`; empty when no such executable exists.
std::string resolveExe(const std::string& exe, const std::vector<std::string>& search_dirs) {
  if (exe.find('/') != std::string::npos) {
    if (exe[0] == '/') {
      return isExecutableFile(exe) ? exe : std::string();
    }
    char cwd[4096];
    std::string absolute = ::getcwd(cwd, sizeof(cwd)) == nullptr ? exe : cwd + ("/" + exe);
    return isExecutableFile(absolute) ? absolute : std::string();
  }
  for (const std::string& dir : search_dirs) {
    std::string candidate = dir + "/" + exe;
    if (isExecutableFile(candidate)) {
      return candidate;
    }
  }
  return {};
}

// The driver kind: from compilerType when it names one, else from the executable's name,
// else from the language.
CompilerKind inferKind(const std::string& compiler_type, const std::string& exe,
                       std::string_view lang) {
  if (compiler_type == "clang") {
    return CompilerKind::Clang;
  }
  if (compiler_type == "rust" || compiler_type == "rustc") {
    return CompilerKind::Rustc;
  }
  if (compiler_type == "fortran" || compiler_type == "gfortran") {
    return CompilerKind::Gfortran;
  }
  if (compiler_type != "gcc") {
    std::string base = exe.substr(exe.rfind('/') + 1);
    if (base.find("clang") != std::string::npos) {
      return CompilerKind::Clang;
    }
    if (base.find("rustc") != std::string::npos || lang == "rust") {
      return CompilerKind::Rustc;
    }
  }
  return lang == "fortran" ? CompilerKind::Gfortran : CompilerKind::Gcc;
}

// The flags and lists of a configured compiler; defaults are CompilerInfo's.
void readCompilerFields(const KeyChain& keys, CompilerInfo* info) {
  info->group_name = keys.string("groupName", "");
  info->alias = keys.list("alias");
  info->options = splitArguments(keys.string("baseOptions", ""));
  for (std::string& option : splitArguments(keys.string("options", ""))) {
    info->options.push_back(std::move(option));
  }
  info->demangler = keys.string("demangler", info->demangler);
  info->demangler_args = splitArguments(keys.string("demanglerArgs", ""));
  info->objdumper = keys.string("objdumper", info->objdumper);
  info->binary_hide_func_re = keys.string("binaryHideFuncRe", "");
  std::string max_lines = keys.string("maxLinesOfAsm", "");
  int parsed_lines = 0;
  auto [end, ec] =
      std::from_chars(max_lines.data(), max_lines.data() + max_lines.size(), parsed_lines);
  if (ec == std::errc() && parsed_lines > 0) {
    info->max_lines_of_asm = parsed_lines;
  }
  info->supports_binary = keys.flag("supportsBinary", info->supports_binary);
  info->supports_binary_object = keys.flag("supportsBinaryObject", info->supports_binary_object);
  // Executing needs a binary to run.
  info->supports_execute = info->supports_binary && keys.flag("supportsExecute", true);
  info->supports_demangle = keys.flag("supportsDemangle", info->supports_demangle);
  info->supports_library_code_filter =
      keys.flag("supportsLibraryCodeFilter", info->supports_library_code_filter);
  info->is_semver = keys.flag("isSemVer", info->is_semver);
  info->is_nightly = keys.flag("isNightly", info->is_nightly);
  info->hidden = keys.flag("hidden", info->hidden);
  info->libs = keys.list("supportsLibraries");
}

std::optional<ConfiguredCompiler> readCompiler(const Properties& props, std::string_view lang,
                                               const ListedCompiler& listed,
                                               const std::vector<std::string>& search_dirs,
                                               std::vector<std::string>* warnings) {
  KeyChain keys(props, listed.id, listed.groups);
  std::string exe_setting = keys.string("exe", listed.id);
  std::string exe = resolveExe(exe_setting, search_dirs);
  if (exe.empty()) {
    addWarning(warnings, lang,
               "compiler " + listed.id + " skipped: executable not found: " + exe_setting);
    return std::nullopt;
  }

  ConfiguredCompiler c;
  c.info.id = listed.id;
  c.info.exe = exe;
  c.info.lang = std::string(lang);
  c.info.group = listed.groups.empty() ? "" : listed.groups.back();
  c.info.configured = true;
  readCompilerFields(keys, &c.info);
  c.name = keys.optional("name");
  c.semver = keys.optional("semver");
  c.base_name = keys.optional("baseName");
  c.instruction_set = keys.optional("instructionSet");
  c.compiler_type = keys.optional("compilerType");
  if (std::optional<std::string> intel = keys.optional("intelAsm")) {
    c.intel_asm = splitArguments(*intel);
  }
  c.kind = inferKind(c.compiler_type.value_or(""), exe, lang);
  return c;
}

std::vector<std::string> argumentsOrEmpty(const Properties& props, const std::string& key) {
  return splitArguments(props.getString(key, ""));
}

// Library-level link settings apply to every version, ahead of the version's own.
void prependAll(std::vector<std::string>* to, std::vector<std::string> from) {
  to->insert(to->begin(), from.begin(), from.end());
}

LibraryVersion readLibraryVersion(const Properties& props, const std::string& lib_prefix,
                                  const std::string& version_id) {
  std::string prefix = lib_prefix + "versions." + version_id + ".";
  LibraryVersion v;
  v.id = version_id;
  v.version = props.getString(prefix + "version", version_id);
  v.alias = props.getList(prefix + "alias");
  v.path = props.getList(prefix + "path");
  v.libpath = props.getList(prefix + "libpath");
  v.liblink = props.getList(prefix + "liblink");
  v.staticliblink = props.getList(prefix + "staticliblink");
  v.dependencies = props.getList(prefix + "dependencies");
  v.options = argumentsOrEmpty(props, prefix + "options");
  v.hidden = props.getBool(prefix + "hidden", false);
  prependAll(&v.liblink, props.getList(lib_prefix + "liblink"));
  prependAll(&v.staticliblink, props.getList(lib_prefix + "staticliblink"));
  prependAll(&v.dependencies, props.getList(lib_prefix + "dependencies"));
  prependAll(&v.options, argumentsOrEmpty(props, lib_prefix + "options"));
  return v;
}

std::vector<Library> readLibraries(const Properties& props) {
  std::vector<Library> libraries;
  for (const std::string& id : props.getList("libs")) {
    std::string prefix = "libs." + id + ".";
    Library lib;
    lib.id = id;
    lib.name = props.getString(prefix + "name", id);
    lib.url = props.getString(prefix + "url", "");
    lib.description = props.getString(prefix + "description", "");
    for (const std::string& version_id : props.getList(prefix + "versions")) {
      lib.versions.push_back(readLibraryVersion(props, prefix, version_id));
    }
    libraries.push_back(std::move(lib));
  }
  return libraries;
}

// Compilers and groups that have settings but that no list reaches are likely typos.
void warnAboutOrphans(const Properties& props, const ListWalk& walk) {
  for (std::string_view kind : {"compiler", "group"}) {
    std::string prefix = std::string(kind) + ".";
    const std::set<std::string>& seen = kind == "group" ? walk.seen_groups : walk.seen_compilers;
    std::set<std::string> orphans;
    for (const std::string& key : props.keysWithPrefix(prefix)) {
      std::string name = key.substr(prefix.size(), key.find('.', prefix.size()) - prefix.size());
      if (seen.count(name) == 0) {
        orphans.insert(name);
      }
    }
    for (const std::string& name : orphans) {
      addWarning(walk.warnings, walk.lang,
                 std::string(kind) + " " + name + " has settings but is in no compilers list");
    }
  }
}

LanguageConfig readLanguage(const Properties& props, std::string_view lang,
                            const std::vector<std::string>& search_dirs,
                            std::vector<std::string>* warnings) {
  ListWalk walk{&props, std::string(lang), {}, {}, {}, {}, warnings};
  walkList(&walk, props.getString("compilers", ""));
  warnAboutOrphans(props, walk);

  LanguageConfig config;
  for (const ListedCompiler& listed : walk.found) {
    std::optional<ConfiguredCompiler> c = readCompiler(props, lang, listed, search_dirs, warnings);
    if (c) {
      config.compilers.push_back(std::move(*c));
    }
  }
  config.libraries = readLibraries(props);
  config.default_compiler = props.getString("defaultCompiler", "");
  return config;
}

void collectParseWarnings(const Properties& props, std::vector<std::string>* warnings) {
  warnings->insert(warnings->end(), props.warnings().begin(), props.warnings().end());
}

}  // namespace

CompilerConfig readCompilerConfig(const std::string& config_dir, const std::string& env,
                                  const std::vector<std::string>& search_dirs) {
  CompilerConfig config;
  Result<Properties> global = loadPropertiesHierarchy(config_dir, "compiler-explorer", env);
  if (!global.ok()) {
    addWarning(&config.warnings, "*", "configuration not read: " + global.status().message());
    return config;
  }
  collectParseWarnings(*global, &config.warnings);
  auto fallback = std::make_shared<const Properties>(std::move(*global));

  for (const Language& language : builtinLanguages()) {
    Result<Properties> props = loadPropertiesHierarchy(config_dir, language.id, env);
    if (!props.ok()) {
      addWarning(&config.warnings, language.id, "not read: " + props.status().message());
      continue;
    }
    if (props->sources().empty()) {
      continue;
    }
    collectParseWarnings(*props, &config.warnings);
    props->setFallback(fallback);
    config.languages[language.id] =
        readLanguage(*props, language.id, search_dirs, &config.warnings);
  }
  return config;
}

}  // namespace cex

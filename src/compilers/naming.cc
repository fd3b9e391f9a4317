#include "compilers/naming.h"

#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "base/strings.h"

namespace cex {

namespace {

struct DriverBase {
  std::string_view name;
  CompilerKind kind;
  std::string_view lang;
};

// Longer names first so `clang++` is not taken for `clang` plus a suffix.
constexpr DriverBase kDrivers[] = {
    {"clang++", CompilerKind::Clang, "c++"},
    {"clang", CompilerKind::Clang, "c"},
    {"g++", CompilerKind::Gcc, "c++"},
    {"gcc", CompilerKind::Gcc, "c"},
    {"gfortran", CompilerKind::Gfortran, "fortran"},
    {"rustc", CompilerKind::Rustc, "rust"},
};

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// "12", "3.8", "16.0.1": digits and single dots, starting and ending with a digit.
bool isVersionSuffix(std::string_view s) {
  if (s.empty() || !isDigit(s.front()) || !isDigit(s.back())) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (!isDigit(s[i]) && !(s[i] == '.' && isDigit(s[i + 1]))) {
      return false;
    }
  }
  return true;
}

// Reads a run of digits at `pos`, advancing it; nullopt when there is none.
std::optional<int> readNumber(std::string_view s, size_t* pos) {
  int n = 0;
  auto [end, err] = std::from_chars(s.data() + *pos, s.data() + s.size(), n);
  if (err != std::errc()) {
    return std::nullopt;
  }
  *pos = static_cast<size_t>(end - s.data());
  return n;
}

// Parses a word of the form N.N[.N][suffix].
std::optional<VersionNumber> parseVersionWord(std::string_view word) {
  if (word.empty() || !isDigit(word[0])) {
    return std::nullopt;
  }
  VersionNumber v;
  size_t pos = 0;
  std::optional<int> major = readNumber(word, &pos);
  if (!major || pos + 1 >= word.size() || word[pos] != '.' || !isDigit(word[pos + 1])) {
    return std::nullopt;
  }
  ++pos;
  v.major = *major;
  v.minor = readNumber(word, &pos).value_or(0);
  if (pos + 1 < word.size() && word[pos] == '.' && isDigit(word[pos + 1])) {
    ++pos;
    v.patch = readNumber(word, &pos).value_or(0);
  }
  v.suffix = std::string(word.substr(pos));
  return v;
}

// The line with every parenthesised part blanked out (nesting included).
std::string withoutParentheses(std::string_view line) {
  std::string out;
  int depth = 0;
  for (char c : line) {
    if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
      out.push_back(' ');
    } else if (depth == 0) {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::optional<DriverName> parseDriverName(std::string_view file_name) {
  for (const DriverBase& driver : kDrivers) {
    if (file_name.substr(0, driver.name.size()) != driver.name) {
      continue;
    }
    std::string_view rest = file_name.substr(driver.name.size());
    if (rest.empty()) {
      return DriverName{driver.kind, std::string(driver.lang), false};
    }
    if (rest[0] == '-' && isVersionSuffix(rest.substr(1))) {
      return DriverName{driver.kind, std::string(driver.lang), true};
    }
  }
  return std::nullopt;
}

std::optional<VersionNumber> parseVersionNumber(std::string_view version_line) {
  std::string text = withoutParentheses(version_line);
  for (std::string_view word : split(text, ' ')) {
    std::optional<VersionNumber> v = parseVersionWord(trim(word));
    if (v) {
      return v;
    }
  }
  return std::nullopt;
}

int compareSemver(std::string_view a, std::string_view b) {
  std::vector<std::string_view> pa = split(a, '.');
  std::vector<std::string_view> pb = split(b, '.');
  for (size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
    int x = 0;
    int y = 0;
    if (i < pa.size()) {
      std::from_chars(pa[i].data(), pa[i].data() + pa[i].size(), x);
    }
    if (i < pb.size()) {
      std::from_chars(pb[i].data(), pb[i].data() + pb[i].size(), y);
    }
    if (x != y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

std::string instructionSetForTarget(std::string_view target_triple) {
  std::string arch = toLower(target_triple.substr(0, target_triple.find('-')));
  auto starts = [&arch](std::string_view prefix) {
    return arch.rfind(prefix, 0) == 0;
  };
  if (arch == "x86_64" || arch == "amd64") {
    return "amd64";
  }
  if (arch == "i386" || arch == "i486" || arch == "i586" || arch == "i686") {
    return "x86";
  }
  if (arch == "aarch64" || arch == "arm64") {
    return "aarch64";
  }
  if (starts("arm") || starts("thumb")) {
    return "arm32";
  }
  if (starts("powerpc") || starts("ppc")) {
    return "powerpc";
  }
  if (starts("mips")) {
    return "mips";
  }
  if (starts("loongarch")) {
    return "loongarch";
  }
  return arch;
}

std::string archDisplayName(std::string_view instruction_set) {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"amd64", "x86-64"},  {"x86", "x86"},           {"aarch64", "ARM64"},
      {"arm32", "ARM"},     {"riscv64", "RISC-V 64"}, {"riscv32", "RISC-V 32"},
      {"powerpc", "POWER"}, {"mips", "MIPS"},         {"loongarch", "LoongArch"},
  };
  for (const auto& [set, name] : kNames) {
    if (set == instruction_set) {
      return std::string(name);
    }
  }
  return std::string(instruction_set);
}

CompilerFamily familyOf(CompilerKind kind) {
  switch (kind) {
    case CompilerKind::Clang:
      return CompilerFamily::Clang;
    case CompilerKind::Rustc:
      return CompilerFamily::Rustc;
    case CompilerKind::Gcc:
    case CompilerKind::Gfortran:
      break;
  }
  return CompilerFamily::Gcc;
}

std::string compilerTypeOf(CompilerKind kind) {
  switch (kind) {
    case CompilerKind::Clang:
      return "clang";
    case CompilerKind::Rustc:
      return "rust";
    case CompilerKind::Gfortran:
      return "fortran";
    case CompilerKind::Gcc:
      break;
  }
  return "gcc";
}

CompilerNaming nameCompiler(CompilerKind kind, std::string_view lang, const VersionNumber& version,
                            std::string_view instruction_set) {
  // gcc-style releases (12.2.0) are known by major.minor; clang and rustc by all three.
  bool gcc_style = kind == CompilerKind::Gcc || kind == CompilerKind::Gfortran;
  std::string digits = fmt::format("{}{}", version.major, version.minor);
  std::string semver = fmt::format("{}.{}", version.major, version.minor);
  if (!gcc_style || version.patch != 0) {
    digits += std::to_string(version.patch);
    semver += "." + std::to_string(version.patch);
  }

  std::string arch = archDisplayName(instruction_set);
  if (!arch.empty()) {
    arch += " ";
  }
  std::string c_prefix = lang == "c" ? "c" : "";
  CompilerNaming naming;
  switch (kind) {
    case CompilerKind::Gcc:
      naming.id = c_prefix + "g" + digits;
      naming.base_name = arch + "gcc";
      break;
    case CompilerKind::Clang:
      naming.id = c_prefix + "clang" + digits;
      naming.base_name = arch + "clang";
      break;
    case CompilerKind::Gfortran:
      naming.id = "gfortran" + digits;
      naming.base_name = arch + "gfortran";
      break;
    case CompilerKind::Rustc:
      naming.id = "r" + digits;
      naming.base_name = "rustc";
      break;
  }
  naming.semver = semver;
  naming.name = naming.base_name + " " + semver;
  return naming;
}

}  // namespace cex

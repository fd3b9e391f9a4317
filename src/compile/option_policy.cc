#include "compile/option_policy.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace cex {

namespace {

// Each alternative names one way an argument could reach outside the compile.
constexpr const char* kDefaultForbidden =
    "^(?:"
    "-fplugin.*|-fpass-plugin.*|-{1,2}load.*|-{1,2}plugin.*|-add-plugin.*"  // load code
    "|-{1,2}specs.*|-{1,2}wrapper.*|-B.*|--?prefix.*|-fmodule-mapper.*"     // run programs
    "|-fuse-ld=.*/.*|--ld-path.*|--gcc-toolchain.*|--gcc-install-dir.*|-ccc-.*"
    "|@.*"                                                                    // response files
    "|-o.*|--output.*|-dumpdir.*|-dumpbase.*|-MF.*|--?sysroot.*|-isysroot.*"  // paths
    "|-fdump-.*=.*|-fopt-info.*=.*|-fcrash-diagnostics-dir.*"                 // write files
    "|-fprofile-(?:generate|use|instr-generate|instr-use|sample-use|dir|note|prefix-map)=.*"
    "|-fsanitize-(?:black|ignore)list.*|-fprofile-list.*|-fxray-.*-list.*"  // read files
    "|-Wl,.*|-Wa,.*|-Wp,.*|-Xlinker|-Xassembler|-Xpreprocessor"             // opaque pass-through
    "|(?:-C)?linker(?:-flavor)?=.*|(?:-C)?link-args?=.*|(?:-C)?incremental=.*"  // rustc
    "|--out-dir.*|--extern.*|-L.*|--emit=.*=.*"
    "|(?:asm|llvm-ir|llvm-bc|obj|metadata|link|dep-info|mir)=.*"
    "|--"
    ")$";

void freeCode(void* code) {
  pcre2_code_free(static_cast<pcre2_code*>(code));
}

}  // namespace

Result<Regex> Regex::compile(std::string_view pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    return Status::invalidArgument("regex \"" + std::string(pattern) + "\" at offset " +
                                   std::to_string(offset) + ": " +
                                   reinterpret_cast<const char*>(message));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // Falls back to the interpreter on failure.
  return Regex(std::string(pattern), std::shared_ptr<void>(code, freeCode));
}

bool Regex::search(std::string_view subject) const {
  auto* code = static_cast<pcre2_code*>(code_.get());
  pcre2_match_data* match = pcre2_match_data_create_from_pattern(code, nullptr);
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                       match, nullptr);
  pcre2_match_data_free(match);
  return rc >= 0;
}

const char* OptionPolicy::defaultForbiddenPattern() {
  return kDefaultForbidden;
}

Result<OptionPolicy> OptionPolicy::create(std::string_view allowed, std::string_view forbidden) {
  auto allowed_re = Regex::compile(allowed.empty() ? ".*" : allowed);
  if (!allowed_re.ok()) {
    return allowed_re.status();
  }
  auto forbidden_re = Regex::compile(forbidden.empty() ? kDefaultForbidden : forbidden);
  if (!forbidden_re.ok()) {
    return forbidden_re.status();
  }
  return OptionPolicy(std::move(allowed_re).value(), std::move(forbidden_re).value());
}

std::vector<std::string> OptionPolicy::badOptions(const std::vector<std::string>& args) const {
  std::vector<std::string> bad;
  for (const auto& arg : args) {
    if (!allowed_.search(arg) || forbidden_.search(arg)) {
      bad.push_back(arg);
    }
  }
  return bad;
}

}  // namespace cex

#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cex {

// A compiled regular expression (PCRE2, JIT where available). Safe to share between
// threads; each match uses its own scratch space.
class Regex {
 public:
  static Result<Regex> compile(std::string_view pattern);
  // True when the pattern matches anywhere in `subject` (like JavaScript's RegExp.test).
  bool search(std::string_view subject) const;

  const std::string& pattern() const { return pattern_; }

 private:
  Regex(std::string pattern, std::shared_ptr<void> code)
      : pattern_(std::move(pattern)), code_(std::move(code)) {}

  std::string pattern_;
  std::shared_ptr<void> code_;  // pcre2_code_8, opaque to keep pcre2.h out of headers
};

// Which user arguments a compiler accepts: each must match `allowed` and must not match
// `forbidden` (Compiler Explorer's optionsAllowedRe / optionsForbiddenRe).
class OptionPolicy {
 public:
  // The built-in forbidden pattern: options that load code into the compiler, run other
  // programs, read files named on the command line, or write outside the compile's
  // directory.
  static const char* defaultForbiddenPattern();

  // Empty patterns mean "allow everything" and "the built-in forbidden pattern".
  static Result<OptionPolicy> create(std::string_view allowed, std::string_view forbidden);

  // The arguments that fail the policy, in order.
  std::vector<std::string> badOptions(const std::vector<std::string>& args) const;

 private:
  OptionPolicy(Regex allowed, Regex forbidden)
      : allowed_(std::move(allowed)), forbidden_(std::move(forbidden)) {}

  Regex allowed_;
  Regex forbidden_;
};

}  // namespace cex

#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "compilers/compiler_info.h"
#include "compilers/languages.h"

namespace cex {

// The set of compilers and languages an instance serves. Immutable once built, so any
// thread may read it without locks.
class CompilerRegistry {
 public:
  CompilerRegistry() = default;
  // Takes the compilers (any order) and the per-language libraries and default compilers.
  // Languages without compilers are left out of languages(). A language whose configured
  // default is missing or names no compiler of it gets the newest non-hidden gcc-family
  // compiler (the newest compiler when it has none of those).
  CompilerRegistry(std::vector<CompilerInfo> compilers,
                   std::map<std::string, std::vector<Library>> libraries,
                   std::map<std::string, std::string> default_compilers);

  // Finds a compiler by id, then alias, within `lang_hint`; then in every language.
  // Returns nullptr when there is none.
  const CompilerInfo* find(std::string_view id, std::string_view lang_hint = {}) const;

  // All compilers, sorted by name.
  const std::vector<CompilerInfo>& compilers() const { return compilers_; }

  // Languages that have at least one compiler, each with its default compiler set.
  const std::vector<Language>& languages() const { return languages_; }

  const Language* language(std::string_view id) const;
  // Libraries of a language; empty when none are configured.
  const std::vector<Library>& libraries(std::string_view lang) const;

  const std::map<std::string, std::vector<Library>>& allLibraries() const { return libraries_; }

 private:
  // Indices into compilers_ for an id or alias, in compilers_ order.
  using Index = std::map<std::string, std::vector<size_t>, std::less<>>;

  const CompilerInfo* lookup(const Index& index, std::string_view key, std::string_view lang) const;

  std::vector<CompilerInfo> compilers_;
  Index by_id_;
  Index by_alias_;
  std::vector<Language> languages_;
  std::map<std::string, std::vector<Library>> libraries_;
};

}  // namespace cex

#include "compilers/registry.h"

#include <algorithm>
#include <tuple>

#include "compilers/naming.h"

namespace cex {

namespace {

// Whether `a` makes a better automatic default than `b`: visible first, then the gcc family
// (what C, C++ and Fortran users expect), then the newest release, then the name.
bool betterDefault(const CompilerInfo& a, const CompilerInfo& b) {
  if (a.hidden != b.hidden) {
    return !a.hidden;
  }
  bool a_gcc = a.family == CompilerFamily::Gcc;
  bool b_gcc = b.family == CompilerFamily::Gcc;
  if (a_gcc != b_gcc) {
    return a_gcc;
  }
  int order = compareSemver(a.semver, b.semver);
  if (order != 0) {
    return order > 0;
  }
  return a.name < b.name;
}

std::string chooseDefault(const std::vector<CompilerInfo>& compilers, const std::string& lang,
                          const std::string& configured) {
  const CompilerInfo* best = nullptr;
  for (const CompilerInfo& c : compilers) {
    if (c.lang != lang) {
      continue;
    }
    if (!configured.empty() && c.id == configured) {
      return c.id;
    }
    if (best == nullptr || betterDefault(c, *best)) {
      best = &c;
    }
  }
  return best == nullptr ? std::string() : best->id;
}

}  // namespace

CompilerRegistry::CompilerRegistry(std::vector<CompilerInfo> compilers,
                                   std::map<std::string, std::vector<Library>> libraries,
                                   std::map<std::string, std::string> default_compilers)
    : compilers_(std::move(compilers)), libraries_(std::move(libraries)) {
  std::stable_sort(compilers_.begin(), compilers_.end(),
                   [](const CompilerInfo& a, const CompilerInfo& b) {
                     return std::tie(a.name, a.lang, a.id) < std::tie(b.name, b.lang, b.id);
                   });
  for (size_t i = 0; i < compilers_.size(); ++i) {
    by_id_[compilers_[i].id].push_back(i);
    for (const std::string& alias : compilers_[i].alias) {
      by_alias_[alias].push_back(i);
    }
  }

  // Languages keep the built-in order; only those with a compiler are served.
  for (const Language& builtin : builtinLanguages()) {
    std::string chosen = chooseDefault(compilers_, builtin.id, default_compilers[builtin.id]);
    if (!chosen.empty()) {
      languages_.push_back(builtin);
      languages_.back().default_compiler = chosen;
    }
  }
}

const CompilerInfo* CompilerRegistry::lookup(const Index& index, std::string_view key,
                                             std::string_view lang) const {
  auto it = index.find(key);
  if (it == index.end()) {
    return nullptr;
  }
  for (size_t i : it->second) {
    if (lang.empty() || compilers_[i].lang == lang) {
      return &compilers_[i];
    }
  }
  return nullptr;
}

const CompilerInfo* CompilerRegistry::find(std::string_view id, std::string_view lang_hint) const {
  // Within the hinted language first; clients send wrong or no languages, so then anywhere.
  if (!lang_hint.empty()) {
    if (const CompilerInfo* c = lookup(by_id_, id, lang_hint)) {
      return c;
    }
    if (const CompilerInfo* c = lookup(by_alias_, id, lang_hint)) {
      return c;
    }
  }
  if (const CompilerInfo* c = lookup(by_id_, id, {})) {
    return c;
  }
  return lookup(by_alias_, id, {});
}

const Language* CompilerRegistry::language(std::string_view id) const {
  for (const Language& lang : languages_) {
    if (lang.id == id) {
      return &lang;
    }
  }
  return nullptr;
}

const std::vector<Library>& CompilerRegistry::libraries(std::string_view lang) const {
  static const std::vector<Library> kNone;
  auto it = libraries_.find(std::string(lang));
  return it == libraries_.end() ? kNone : it->second;
}

}  // namespace cex

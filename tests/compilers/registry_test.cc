#include "compilers/registry.h"

#include <gtest/gtest.h>

namespace cex {
namespace {

CompilerInfo compiler(std::string id, std::string name, std::string lang, std::string semver,
                      CompilerFamily family = CompilerFamily::Gcc) {
  CompilerInfo c;
  c.id = std::move(id);
  c.name = std::move(name);
  c.lang = std::move(lang);
  c.semver = std::move(semver);
  c.family = family;
  return c;
}

CompilerRegistry sampleRegistry(std::map<std::string, std::string> defaults = {}) {
  std::vector<CompilerInfo> compilers = {
      compiler("g95", "x86-64 gcc 9.5", "c++", "9.5"),
      compiler("g122", "x86-64 gcc 12.2", "c++", "12.2"),
      compiler("clang1406", "x86-64 clang 14.0.6", "c++", "14.0.6", CompilerFamily::Clang),
      compiler("cg122", "x86-64 gcc 12.2", "c", "12.2"),
      compiler("cclang1406", "x86-64 clang 14.0.6", "c", "14.0.6", CompilerFamily::Clang),
      compiler("r1950", "rustc 1.95.0", "rust", "1.95.0", CompilerFamily::Rustc),
  };
  compilers[1].alias = {"gcc12", "shared-alias"};
  compilers[3].alias = {"shared-alias"};
  std::map<std::string, std::vector<Library>> libs;
  libs["c++"] = {Library{"fmt", "{fmt}", "", "", {}}};
  return CompilerRegistry(std::move(compilers), std::move(libs), std::move(defaults));
}

TEST(RegistryTest, SortsCompilersByName) {
  CompilerRegistry registry = sampleRegistry();
  std::vector<std::string> names;
  for (const CompilerInfo& c : registry.compilers()) {
    names.push_back(c.name);
  }
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(registry.compilers().front().name, "rustc 1.95.0");
}

TEST(RegistryTest, FindsByIdThenAliasWithinTheHintedLanguage) {
  CompilerRegistry registry = sampleRegistry();
  ASSERT_NE(registry.find("g122", "c++"), nullptr);
  EXPECT_EQ(registry.find("g122", "c++")->id, "g122");
  EXPECT_EQ(registry.find("gcc12", "c++")->id, "g122");
  // Two languages share an alias: the hint decides.
  EXPECT_EQ(registry.find("shared-alias", "c")->id, "cg122");
  EXPECT_EQ(registry.find("shared-alias", "c++")->id, "g122");
}

TEST(RegistryTest, WrongOrMissingLanguageStillFindsTheCompiler) {
  CompilerRegistry registry = sampleRegistry();
  ASSERT_NE(registry.find("cg122", "c++"), nullptr);
  EXPECT_EQ(registry.find("cg122", "c++")->lang, "c");
  EXPECT_EQ(registry.find("r1950")->id, "r1950");
  EXPECT_EQ(registry.find("r1950", "r1950")->id, "r1950");
  EXPECT_EQ(registry.find("gcc12", "rust")->id, "g122");
  EXPECT_EQ(registry.find("nope", "c++"), nullptr);
  EXPECT_EQ(registry.find(""), nullptr);
}

TEST(RegistryTest, ListsOnlyLanguagesWithCompilersAndPicksDefaults) {
  CompilerRegistry registry = sampleRegistry();
  std::vector<std::string> ids;
  for (const Language& lang : registry.languages()) {
    ids.push_back(lang.id);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"c++", "c", "rust"}));
  // The newest gcc, not the newest compiler or the first by name.
  EXPECT_EQ(registry.language("c++")->default_compiler, "g122");
  EXPECT_EQ(registry.language("c")->default_compiler, "cg122");
  EXPECT_EQ(registry.language("rust")->default_compiler, "r1950");
  EXPECT_EQ(registry.language("fortran"), nullptr);
}

TEST(RegistryTest, ConfiguredDefaultWinsWhenItExists) {
  EXPECT_EQ(sampleRegistry({{"c++", "clang1406"}}).language("c++")->default_compiler, "clang1406");
  // A default naming another language's compiler, or none at all, is not taken.
  EXPECT_EQ(sampleRegistry({{"c++", "cg122"}}).language("c++")->default_compiler, "g122");
  EXPECT_EQ(sampleRegistry({{"c++", "missing"}}).language("c++")->default_compiler, "g122");
}

TEST(RegistryTest, HiddenCompilersAreNotDefaultsButCanBeFound) {
  std::vector<CompilerInfo> compilers = {compiler("g132", "x86-64 gcc 13.2", "c++", "13.2"),
                                         compiler("g122", "x86-64 gcc 12.2", "c++", "12.2")};
  compilers[0].hidden = true;
  CompilerRegistry registry(std::move(compilers), {}, {});
  EXPECT_EQ(registry.language("c++")->default_compiler, "g122");
  EXPECT_NE(registry.find("g132"), nullptr);
}

TEST(RegistryTest, LibrariesPerLanguage) {
  CompilerRegistry registry = sampleRegistry();
  ASSERT_EQ(registry.libraries("c++").size(), 1u);
  EXPECT_EQ(registry.libraries("c++")[0].id, "fmt");
  EXPECT_TRUE(registry.libraries("rust").empty());
  EXPECT_TRUE(registry.libraries("nope").empty());
  EXPECT_EQ(registry.allLibraries().size(), 1u);
}

TEST(RegistryTest, EmptyRegistry) {
  CompilerRegistry registry;
  EXPECT_TRUE(registry.compilers().empty());
  EXPECT_TRUE(registry.languages().empty());
  EXPECT_EQ(registry.find("g122"), nullptr);
}

TEST(LanguagesTest, BuiltinTable) {
  const Language* cpp = findBuiltinLanguage("c++");
  ASSERT_NE(cpp, nullptr);
  EXPECT_EQ(cpp->name, "C++");
  EXPECT_EQ(cpp->monaco, "cppp");
  EXPECT_EQ(cpp->extensions.front(), ".cpp");
  EXPECT_FALSE(cpp->example.empty());
  EXPECT_EQ(findBuiltinLanguage("cpp"), cpp);
  EXPECT_EQ(findBuiltinLanguage("C++"), cpp);
  EXPECT_EQ(findBuiltinLanguage("c")->monaco, "nc");
  EXPECT_EQ(findBuiltinLanguage("fortran")->extensions.front(), ".f90");
  EXPECT_EQ(findBuiltinLanguage("rust")->extensions, (std::vector<std::string>{".rs"}));
  EXPECT_EQ(findBuiltinLanguage("rs")->id, "rust");
  EXPECT_EQ(findBuiltinLanguage("cobol"), nullptr);
  EXPECT_EQ(builtinLanguages().size(), 4u);
}

}  // namespace
}  // namespace cex

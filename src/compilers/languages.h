#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cex {

// A source language the API knows (`/api/languages`).
struct Language {
  std::string id;                       // "c++"
  std::string name;                     // "C++"
  std::string monaco;                   // editor mode: "cppp"
  std::vector<std::string> extensions;  // first one names the input file: ".cpp"
  std::vector<std::string> alias;
  std::string example;           // default example program
  std::string default_compiler;  // filled once compilers are known
};

// The built-in table of languages cex can serve, in listing order.
const std::vector<Language>& builtinLanguages();

// Looks a language up by id or alias; nullptr when unknown.
const Language* findBuiltinLanguage(std::string_view id_or_alias);

}  // namespace cex

#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "compilers/registry.h"

namespace cex {

// Which keys of each object a listing shows: the route's default set, everything
// (`?fields=all`) or the named keys that exist (unknown names are ignored).
struct FieldSelection {
  bool all = false;
  std::vector<std::string> names;  // empty and !all = the default set

  static FieldSelection parse(std::string_view query_value);
};

// What an instance can do beyond compiling, reflected in the listings.
struct ListingContext {
  bool execution_available = false;
};

// /api/languages as JSON (languages with at least one compiler).
std::string languagesJson(const CompilerRegistry& registry, const FieldSelection& fields,
                          const ListingContext& context);
// /api/languages as text: an "Id | Name" table.
std::string languagesText(const CompilerRegistry& registry);

// /api/compilers[/<lang>] as JSON, in the given order.
std::string compilersJson(const std::vector<const CompilerInfo*>& compilers,
                          const FieldSelection& fields, const ListingContext& context);
// /api/compilers[/<lang>] as text: a "Compiler Name | Name" table.
std::string compilersText(const std::vector<const CompilerInfo*>& compilers);

// /api/libraries/<lang>; `fields` may name top-level keys and dotted `versions.<key>`.
std::string librariesJson(const std::vector<Library>& libraries, const FieldSelection& fields);
// /api/libraries: every language's libraries keyed by language and library id.
std::string allLibrariesJson(const CompilerRegistry& registry);

}  // namespace cex

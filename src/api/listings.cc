#include "api/listings.h"

#include <algorithm>
#include <functional>

#include "base/json_writer.h"
#include "base/strings.h"

namespace cex {

namespace {

template <typename T>
struct Field {
  const char* name;
  std::function<void(JsonWriter&, const T&)> write;
};

void writeStrings(JsonWriter& w, const std::vector<std::string>& strings) {
  w.beginArray();
  for (const auto& s : strings) {
    w.string(s);
  }
  w.endArray();
}

bool selected(const FieldSelection& fields, const std::vector<std::string>& defaults,
              std::string_view name) {
  if (fields.all) {
    return true;
  }
  const auto& names = fields.names.empty() ? defaults : fields.names;
  return std::find(names.begin(), names.end(), name) != names.end();
}

template <typename T>
void writeObject(JsonWriter& w, const T& item, const std::vector<Field<T>>& table,
                 const FieldSelection& fields, const std::vector<std::string>& defaults) {
  w.beginObject();
  for (const auto& field : table) {
    if (selected(fields, defaults, field.name)) {
      w.key(field.name);
      field.write(w, item);
    }
  }
  w.endObject();
}

std::vector<Field<Language>> languageFields(const ListingContext& context) {
  return {
      {"id",
       [](JsonWriter& w, const Language& l) {
         w.string(l.id);
       }},
      {"name",
       [](JsonWriter& w, const Language& l) {
         w.string(l.name);
       }},
      {"alias",
       [](JsonWriter& w, const Language& l) {
         writeStrings(w, l.alias);
       }},
      {"extensions",
       [](JsonWriter& w, const Language& l) {
         writeStrings(w, l.extensions);
       }},
      {"monaco",
       [](JsonWriter& w, const Language& l) {
         w.string(l.monaco);
       }},
      {"defaultCompiler",
       [](JsonWriter& w, const Language& l) {
         w.string(l.default_compiler);
       }},
      {"example",
       [](JsonWriter& w, const Language& l) {
         w.string(l.example);
       }},
      {"supportsExecute",
       [context](JsonWriter& w, const Language&) {
         w.boolean(context.execution_available);
       }},
      {"defaultLibs",
       [](JsonWriter& w, const Language&) {
         w.beginArray().endArray();
       }},
  };
}

std::string joinArgs(const std::vector<std::string>& args) {
  return join(args, " ");
}

using CompilerField = Field<CompilerInfo>;

void addIdentityFields(std::vector<CompilerField>* t) {
  t->insert(t->end(), {
                          {"id",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.id);
                           }},
                          {"exe",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.exe);
                           }},
                          {"name",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.name);
                           }},
                          {"alias",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             writeStrings(w, c.alias);
                           }},
                          {"options",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(joinArgs(c.options));
                           }},
                          {"version",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.version);
                           }},
                          {"fullVersion",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.full_version);
                           }},
                          {"baseName",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.base_name);
                           }},
                          {"semver",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.semver);
                           }},
                          {"isSemVer",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.boolean(c.is_semver);
                           }},
                          {"compilerType",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.compiler_type);
                           }},
                          {"instructionSet",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.instruction_set);
                           }},
                          {"lang",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.lang);
                           }},
                          {"group",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.group);
                           }},
                          {"groupName",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.group_name);
                           }},
                          {"hidden",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.boolean(c.hidden);
                           }},
                          {"isNightly",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.boolean(c.is_nightly);
                           }},
                          {"releaseTrack",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.is_nightly ? "nightly" : "stable");
                           }},
                      });
}

void addCapabilityFields(std::vector<CompilerField>* t, const ListingContext& context) {
  t->insert(t->end(), {
                          {"supportsBinary",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.boolean(c.supports_binary);
                           }},
                          {"supportsBinaryObject",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.boolean(c.supports_binary_object);
                           }},
                          {"supportsExecute",
                           [context](JsonWriter& w, const CompilerInfo& c) {
                             w.boolean(c.supports_execute && context.execution_available);
                           }},
                          {"supportsIntel",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.boolean(c.supports_intel);
                           }},
                          {"supportsDemangle",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.boolean(c.supports_demangle);
                           }},
                          {"supportsLibraryCodeFilter",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.boolean(c.supports_library_code_filter);
                           }},
                          {"supportsVerboseAsm",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.boolean(c.supports_verbose_asm);
                           }},
                          {"supportsAsmDocs",
                           [](JsonWriter& w, const CompilerInfo&) {
                             w.boolean(false);
                           }},
                          {"supportsOptOutput",
                           [](JsonWriter& w, const CompilerInfo&) {
                             w.boolean(false);
                           }},
                          {"intelAsm",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(joinArgs(c.intel_asm));
                           }},
                          {"demangler",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.demangler);
                           }},
                          {"objdumper",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             w.string(c.objdumper);
                           }},
                          {"includeFlag",
                           [](JsonWriter& w, const CompilerInfo&) {
                             w.string("-isystem");
                           }},
                          {"disabledFilters",
                           [](JsonWriter& w, const CompilerInfo&) {
                             w.beginArray().endArray();
                           }},
                          {"tools",
                           [](JsonWriter& w, const CompilerInfo&) {
                             w.beginArray().endArray();
                           }},
                          {"libsArr",
                           [](JsonWriter& w, const CompilerInfo& c) {
                             writeStrings(w, c.libs);
                           }},
                          {"possibleOverrides",
                           [](JsonWriter& w, const CompilerInfo&) {
                             w.beginArray().endArray();
                           }},
                          {"possibleRuntimeTools",
                           [](JsonWriter& w, const CompilerInfo&) {
                             w.beginArray().endArray();
                           }},
                          {"interpreted",
                           [](JsonWriter& w, const CompilerInfo&) {
                             w.boolean(false);
                           }},
                          {"emulated",
                           [](JsonWriter& w, const CompilerInfo&) {
                             w.boolean(false);
                           }},
                      });
}

std::vector<CompilerField> compilerFields(const ListingContext& context) {
  std::vector<CompilerField> table;
  addIdentityFields(&table);
  addCapabilityFields(&table, context);
  return table;
}

void writeLibraryVersion(JsonWriter& w, const LibraryVersion& v, const FieldSelection& fields) {
  const std::vector<Field<LibraryVersion>> table = {
      {"id",
       [](JsonWriter& w, const LibraryVersion& v) {
         w.string(v.id);
       }},
      {"version",
       [](JsonWriter& w, const LibraryVersion& v) {
         w.string(v.version);
       }},
      {"staticliblink",
       [](JsonWriter& w, const LibraryVersion& v) {
         writeStrings(w, v.staticliblink);
       }},
      {"alias",
       [](JsonWriter& w, const LibraryVersion& v) {
         writeStrings(w, v.alias);
       }},
      {"dependencies",
       [](JsonWriter& w, const LibraryVersion& v) {
         writeStrings(w, v.dependencies);
       }},
      {"path",
       [](JsonWriter& w, const LibraryVersion& v) {
         writeStrings(w, v.path);
       }},
      {"libpath",
       [](JsonWriter& w, const LibraryVersion& v) {
         writeStrings(w, v.libpath);
       }},
      {"liblink",
       [](JsonWriter& w, const LibraryVersion& v) {
         writeStrings(w, v.liblink);
       }},
      {"options",
       [](JsonWriter& w, const LibraryVersion& v) {
         writeStrings(w, v.options);
       }},
      {"hidden",
       [](JsonWriter& w, const LibraryVersion& v) {
         w.boolean(v.hidden);
       }},
  };
  writeObject(w, v, table, fields, {});
}

// The sub-selection for `versions`: dotted names, or everything when `versions` is named
// alone or no names are given.
FieldSelection versionFields(const FieldSelection& fields) {
  FieldSelection sub;
  sub.all = true;
  if (fields.all || fields.names.empty()) {
    return sub;
  }
  for (const auto& name : fields.names) {
    if (name == "versions") {
      return sub;
    }
    if (name.starts_with("versions.")) {
      sub.all = false;
      sub.names.push_back(name.substr(9));
    }
  }
  return sub;
}

void writeLibrary(JsonWriter& w, const Library& lib, const FieldSelection& fields) {
  FieldSelection top = fields;
  for (const auto& name : fields.names) {
    if (name.starts_with("versions.")) {
      top.names.push_back("versions");
    }
  }
  FieldSelection sub = versionFields(fields);
  const std::vector<Field<Library>> table = {
      {"id",
       [](JsonWriter& w, const Library& l) {
         w.string(l.id);
       }},
      {"name",
       [](JsonWriter& w, const Library& l) {
         w.string(l.name);
       }},
      {"description",
       [](JsonWriter& w, const Library& l) {
         w.string(l.description);
       }},
      {"url",
       [](JsonWriter& w, const Library& l) {
         w.string(l.url);
       }},
      {"versions",
       [&sub](JsonWriter& w, const Library& l) {
         w.beginArray();
         for (const auto& v : l.versions) {
           writeLibraryVersion(w, v, sub);
         }
         w.endArray();
       }},
  };
  FieldSelection all_fields;
  all_fields.all = true;
  writeObject(w, lib, table, fields.names.empty() ? all_fields : top, {});
}

std::string table(std::string_view title,
                  const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = title.size();
  for (const auto& row : rows) {
    width = std::max(width, row.first.size());
  }
  std::string out = padRight(title, width) + " | Name\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i > 0) {
      out.push_back('\n');
    }
    out += padRight(rows[i].first, width) + " | " + rows[i].second;
  }
  return out;
}

}  // namespace

FieldSelection FieldSelection::parse(std::string_view query_value) {
  FieldSelection fields;
  fields.names = splitNonEmpty(query_value, ',');
  fields.all = std::find(fields.names.begin(), fields.names.end(), "all") != fields.names.end();
  return fields;
}

std::string languagesJson(const CompilerRegistry& registry, const FieldSelection& fields,
                          const ListingContext& context) {
  static const std::vector<std::string> kDefaults = {"id", "name", "extensions", "monaco"};
  auto table = languageFields(context);
  std::string out;
  JsonWriter w(&out);
  w.beginArray();
  for (const auto& language : registry.languages()) {
    writeObject(w, language, table, fields, kDefaults);
  }
  w.endArray();
  return out;
}

std::string languagesText(const CompilerRegistry& registry) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& language : registry.languages()) {
    rows.emplace_back(language.id, language.name);
  }
  return table("Id", rows);
}

std::string compilersJson(const std::vector<const CompilerInfo*>& compilers,
                          const FieldSelection& fields, const ListingContext& context) {
  static const std::vector<std::string> kDefaults = {"id",           "name",   "lang",
                                                     "compilerType", "semver", "instructionSet"};
  auto table = compilerFields(context);
  std::string out;
  JsonWriter w(&out);
  w.beginArray();
  for (const CompilerInfo* compiler : compilers) {
    writeObject(w, *compiler, table, fields, kDefaults);
  }
  w.endArray();
  return out;
}

std::string compilersText(const std::vector<const CompilerInfo*>& compilers) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const CompilerInfo* compiler : compilers) {
    rows.emplace_back(compiler->id, compiler->name);
  }
  return table("Compiler Name", rows);
}

std::string librariesJson(const std::vector<Library>& libraries, const FieldSelection& fields) {
  std::string out;
  JsonWriter w(&out);
  w.beginArray();
  for (const auto& lib : libraries) {
    writeLibrary(w, lib, fields);
  }
  w.endArray();
  return out;
}

std::string allLibrariesJson(const CompilerRegistry& registry) {
  std::string out;
  JsonWriter w(&out);
  w.beginObject();
  for (const auto& [lang, libraries] : registry.allLibraries()) {
    w.key(lang).beginObject();
    for (const auto& lib : libraries) {
      w.key(lib.id).beginObject();
      w.key("name").string(lib.name).key("url").string(lib.url);
      w.key("description").string(lib.description);
      w.key("versions").beginObject();
      FieldSelection all;
      all.all = true;
      for (const auto& v : lib.versions) {
        w.key(v.id);
        writeLibraryVersion(w, v, all);
      }
      w.endObject().endObject();
    }
    w.endObject();
  }
  w.endObject();
  return out;
}

}  // namespace cex

#include <sys/stat.h>

#include <cstdio>

#include "asm/asm_parser.h"
#include "base/files.h"
#include "base/json_writer.h"
#include "base/strings.h"
#include "cmd/commands.h"

namespace cex {

namespace {

bool parseDialect(std::string_view name, std::string_view text, AsmDialect* dialect) {
  if (name.empty()) {
    // Microsoft's listings say so in their header; everything else reads as GNU as.
    *dialect =
        text.find("Microsoft") != std::string_view::npos ? AsmDialect::Msvc : AsmDialect::Gnu;
    return true;
  }
  static constexpr std::pair<std::string_view, AsmDialect> kDialects[] = {
      {"gnu", AsmDialect::Gnu},   {"msvc", AsmDialect::Msvc}, {"ptx", AsmDialect::Ptx},
      {"sass", AsmDialect::Sass}, {"ca65", AsmDialect::Ca65}, {"cc65", AsmDialect::Cc65},
  };
  for (const auto& [known, value] : kDialects) {
    if (known == name) {
      *dialect = value;
      return true;
    }
  }
  return false;
}

// The filters named in LIST are on, every other one off.
bool parseFilterList(std::string_view list, AsmFilters* filters) {
  *filters = AsmFilters{};
  filters->labels = filters->directives = filters->comment_only = filters->demangle = false;
  for (std::string_view name : split(list, ',')) {
    name = trim(name);
    if (name == "labels") {
      filters->labels = true;
    } else if (name == "directives") {
      filters->directives = true;
    } else if (name == "commentOnly") {
      filters->comment_only = true;
    } else if (name == "libraryCode") {
      filters->library_code = true;
    } else if (name == "trim") {
      filters->trim = true;
    } else if (name == "dontMaskFilenames") {
      filters->dont_mask_filenames = true;
    } else if (name == "demangle") {
      filters->demangle = true;
    } else if (!name.empty()) {
      std::fprintf(stderr, "cex parse-asm: unknown filter %.*s\n", static_cast<int>(name.size()),
                   name.data());
      return false;
    }
  }
  return true;
}

// A listing over the cap is not parsed: the result is the placeholder line the API gives.
ParsedAsm oversized(uint64_t size, uint64_t cap) {
  ParsedAsm parsed;
  AsmLine line;
  line.text = "<No output: generated assembly was too large (" + std::to_string(size) + " > " +
              std::to_string(cap) + " bytes)>";
  parsed.lines.push_back(std::move(line));
  return parsed;
}

}  // namespace

int runParseAsmCommand(const ParseAsmOptions& options) {
  AsmParseOptions parse;
  if (!parseFilterList(options.filters, &parse.filters)) {
    return 2;
  }
  parse.filters.binary = options.binary;

  struct stat st {};

  if (::stat(options.file.c_str(), &st) != 0) {
    std::fprintf(stderr, "cex parse-asm: cannot read %s\n", options.file.c_str());
    return 2;
  }
  ParsedAsm parsed;
  if (static_cast<uint64_t>(st.st_size) > options.max_size) {
    parsed = oversized(static_cast<uint64_t>(st.st_size), options.max_size);
  } else {
    auto listing = readFile(options.file, options.max_size);
    if (!listing.ok()) {
      std::fprintf(stderr, "cex parse-asm: %s\n", listing.status().message().c_str());
      return 2;
    }
    if (!parseDialect(options.dialect, *listing, &parse.dialect)) {
      std::fprintf(stderr, "cex parse-asm: unknown dialect %s\n", options.dialect.c_str());
      return 2;
    }
    parsed = options.binary ? parseObjdump(*listing, parse) : parseAsmText(*listing, parse);
    if (parse.filters.demangle) {
      demangleAsm(&parsed);
    }
  }
  std::string out;
  JsonWriter json(&out);
  json.beginObject();
  writeAsmResultMembers(json, parsed);
  json.endObject();
  out.push_back('\n');
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace cex

// libFuzzer target for the listing and objdump parsers, demangling and JSON output.
// The first input byte picks filters, the parser and the dialect; the rest is the listing.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "asm/asm_parser.h"
#include "base/json_writer.h"

namespace {

cex::AsmFilters filtersFrom(uint8_t bits) {
  cex::AsmFilters f;
  f.labels = bits & 1;
  f.directives = bits & 2;
  f.comment_only = bits & 4;
  f.library_code = bits & 8;
  f.trim = bits & 16;
  f.dont_mask_filenames = bits & 32;
  f.demangle = bits & 64;
  return f;
}

cex::AsmDialect dialectFrom(uint8_t selector) {
  switch (selector % 8) {
    case 1:
      return cex::AsmDialect::Msvc;
    case 2:
      return cex::AsmDialect::Ptx;
    case 3:
      return cex::AsmDialect::Sass;
    case 4:
      return cex::AsmDialect::Ca65;
    case 5:
      return cex::AsmDialect::Cc65;
    default:
      return cex::AsmDialect::Gnu;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  cex::AsmParseOptions options;
  options.filters = filtersFrom(data[0]);
  options.dialect = dialectFrom(data[1]);
  options.max_lines_of_asm = 200;
  bool binary = data[0] & 128;
  std::string_view listing(reinterpret_cast<const char*>(data) + 2, size - 2);

  cex::ParsedAsm parsed =
      binary ? cex::parseObjdump(listing, options) : cex::parseAsmText(listing, options);
  if (options.filters.demangle) {
    cex::demangleAsm(&parsed);
  }
  std::string json;
  cex::JsonWriter writer(&json);
  writer.beginObject();
  cex::writeAsmResultMembers(writer, parsed);
  writer.endObject();
  return 0;
}

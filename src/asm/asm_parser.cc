#include "asm/asm_parser.h"

#include <chrono>

#include "asm/dialect_parsers.h"
#include "asm/objdump_parser.h"
#include "asm/text_parser.h"

namespace cex {

namespace {

// Runs `parse` and records how long it took, in whole milliseconds.
template <typename Fn>
ParsedAsm timed(Fn&& parse) {
  auto start = std::chrono::steady_clock::now();
  ParsedAsm parsed = parse();
  auto elapsed = std::chrono::steady_clock::now() - start;
  parsed.parsing_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  return parsed;
}

ParsedAsm parseGnuText(std::string_view listing, const AsmFilters& filters) {
  return TextAsmParser(listing, filters).parse();
}

}  // namespace

ParsedAsm parseAsmText(std::string_view listing, const AsmParseOptions& options) {
  if ((options.filters.binary || options.filters.binary_object) &&
      options.dialect != AsmDialect::Ptx) {
    return parseObjdump(listing, options);
  }
  return timed([&] {
    switch (options.dialect) {
      case AsmDialect::Msvc:
        return parseMsvcListing(listing, options.filters);
      case AsmDialect::Ptx:
        return parsePtxListing(listing, options.filters);
      default:
        return parseGnuText(listing, options.filters);
    }
  });
}

ParsedAsm parseObjdump(std::string_view disassembly, const AsmParseOptions& options) {
  return timed([&] {
    switch (options.dialect) {
      case AsmDialect::Sass:
        return parseDisassembly(disassembly, options, sassFormat());
      case AsmDialect::Msvc:
        return parseMsvcRaw(disassembly);
      case AsmDialect::Ptx:
        return parsePtxListing(disassembly, options.filters);
      case AsmDialect::Ca65:
        return parseCa65Listing(disassembly);
      case AsmDialect::Cc65:
        return parseCc65Disassembly(disassembly, options.filters);
      default:
        return parseDisassembly(disassembly, options, objdumpFormat());
    }
  });
}

}  // namespace cex

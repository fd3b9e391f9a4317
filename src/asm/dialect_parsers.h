#pragma once

#include <string_view>

#include "asm/asm_result.h"

namespace cex {

// Parsers for listings that are not GNU-as style. Each produces the result shape the API's
// clients know for that compiler family (MSVC lines, for instance, carry no labels).

// cl.exe /FA listing: functions are regrouped with the user's own file first.
ParsedAsm parseMsvcListing(std::string_view listing, const AsmFilters& filters);

// MSVC in binary mode: the lines are passed through unparsed.
ParsedAsm parseMsvcRaw(std::string_view listing);

// NVIDIA PTX: re-indents by brace depth and maps .loc lines to source.
ParsedAsm parsePtxListing(std::string_view listing, const AsmFilters& filters);

// ca65 assembler listing (binary mode): "ADDR: BYTES  source" lines.
ParsedAsm parseCa65Listing(std::string_view listing);

// cc65's da65 disassembly (binary mode): labels as "Lxxxx" addresses.
ParsedAsm parseCc65Disassembly(std::string_view listing, const AsmFilters& filters);

}  // namespace cex

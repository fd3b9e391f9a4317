#pragma once

#include <string>
#include <string_view>

#include "asm/asm_result.h"

namespace cex {

class JsonWriter;

// Settings that come from the compiler's configuration rather than the request.
struct AsmParseOptions {
  AsmFilters filters;
  // Regex (PCRE2 syntax) of function names hidden in binary mode; empty = the built-in
  // default (runtime helpers such as _start, __libc_csu_*, .plt stubs).
  std::string binary_hide_func_re;
  // Binary mode stops after this many lines with a "[truncated; too many lines]" line.
  int max_lines_of_asm = 5000;
};

// Filters a compiler's `-S` listing (GNU as syntax, AT&T or Intel) into API lines, mapping
// every instruction to its source line through .file/.loc.
ParsedAsm parseAsmText(std::string_view listing, const AsmParseOptions& options);

// Parses `objdump -d -l --insn-width=16` output (binary and binaryObject modes).
ParsedAsm parseObjdump(std::string_view disassembly, const AsmParseOptions& options);

// Demangles C++ symbols in place: line texts, label references and label definitions.
void demangleAsm(ParsedAsm* parsed);

// Writes the `asm` array value.
void writeAsmLines(JsonWriter& json, const ParsedAsm& parsed);

// Writes the `labelDefinitions` object value.
void writeLabelDefinitions(JsonWriter& json, const ParsedAsm& parsed);

}  // namespace cex

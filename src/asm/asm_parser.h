#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "asm/asm_result.h"

namespace cex {

class JsonWriter;

// Which flavour of listing the parser expects. Most compilers print GNU-as style text; the
// others need parsers of their own.
// TODO(asm): IAR EWARM/EWAVR listings get no parser of their own yet and are read as Gnu;
// the golden corpus has no case for them to check one against.
enum class AsmDialect {
  Gnu,   // gcc, clang and GNU-style cross compilers; objdump output in binary mode
  Msvc,  // cl.exe /FA listings
  Ptx,   // NVIDIA PTX
  Sass,  // NVIDIA nvdisasm output (binary mode)
  Ca65,  // ca65 6502 listings (binary mode)
  Cc65,  // cc65/od65 6502 disassembly (binary mode)
};

// Settings that come from the compiler's configuration rather than the request.
struct AsmParseOptions {
  AsmFilters filters;
  // Regex (PCRE2 syntax) of function names hidden in binary mode; empty = the built-in
  // default (runtime helpers such as _start, __libc_csu_*, .plt stubs).
  std::string binary_hide_func_re;
  // Binary mode stops after this many lines with a "[truncated; too many lines]" line.
  int max_lines_of_asm = 5000;
  AsmDialect dialect = AsmDialect::Gnu;
};

// Filters a compiler's `-S` listing (GNU as syntax, AT&T or Intel) into API lines, mapping
// every instruction to its source line through .file/.loc. With filters.binary or
// binary_object set it hands over to parseObjdump. The result owns all its strings. Names
// stay mangled: call demangleAsm afterwards when filters.demangle is set.
ParsedAsm parseAsmText(std::string_view listing, const AsmParseOptions& options);

// Parses `objdump -d -l --insn-width=16` output (binary and binaryObject modes). With
// options.dialect Sass/Ca65/Cc65 it reads those tools' disassembly formats instead. An empty
// binary_hide_func_re hides the usual runtime helpers; an invalid one hides nothing.
ParsedAsm parseObjdump(std::string_view disassembly, const AsmParseOptions& options);

// Readable names an external demangler gave for mangled symbols (symbol -> output line).
using DemangledNames = std::unordered_map<std::string, std::string>;

// Every mangled symbol demangleAsm may look up in `parsed`, sorted and unique: what to feed an
// external demangler (c++filt, llvm-cxxfilt), one per line.
std::vector<std::string> mangledSymbols(const ParsedAsm& parsed);

// Demangles C++ symbols in place: line texts, label references and label definitions.
// Each maximal symbol is demangled as a whole (so "_Z1fv.part.0" becomes
// "f() [clone .part.0]", never "f().part.0"); "@PLT"-style suffixes stay after the readable
// name; constructor and destructor variants get a note such as " [base object constructor]".
// With `external`, names come from that table (a symbol missing from it, or mapped to itself,
// stays as it is) instead of the C++ runtime.
void demangleAsm(ParsedAsm* parsed, const DemangledNames* external = nullptr);

// Writes the `asm` array value.
void writeAsmLines(JsonWriter& json, const ParsedAsm& parsed);

// Writes the `labelDefinitions` object value.
void writeLabelDefinitions(JsonWriter& json, const ParsedAsm& parsed);

// Writes the members "asm", "labelDefinitions" (when the dialect has them), "languageId"
// (when set), "parsingTime" and "filteredCount" into the object currently open in `json`.
void writeAsmResultMembers(JsonWriter& json, const ParsedAsm& parsed);

}  // namespace cex

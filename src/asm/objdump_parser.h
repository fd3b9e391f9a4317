#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asm/asm_parser.h"

namespace cex {

// One disassembled instruction as the line formats of the binary parsers describe it.
struct DisassemblyLine {
  uint64_t address = 0;
  std::vector<std::string_view> opcodes;
  std::string_view disassembly;
};

// The line formats of one disassembler. Each reader returns nullopt when the line is not of
// its kind.
struct DisassemblyFormat {
  // "/path/file.c:12": a source location; returns (path, line).
  std::optional<std::pair<std::string_view, int>> (*source_line)(std::string_view line);
  // "0000000000401126 <main>:": a function (or label) start; returns the name.
  std::optional<std::string_view> (*function_start)(std::string_view line);
  std::optional<DisassemblyLine> (*instruction)(std::string_view line);
};

// objdump -d -l output.
const DisassemblyFormat& objdumpFormat();

// nvdisasm (SASS) output.
const DisassemblyFormat& sassFormat();

// Parses a disassembly in the given format (see parseObjdump).
ParsedAsm parseDisassembly(std::string_view text, const AsmParseOptions& options,
                           const DisassemblyFormat& format);

}  // namespace cex

#include "asm/objdump_parser.h"

// pcre2.h needs the code unit width before it is included.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <algorithm>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include <pcre2.h>

#include "asm/asm_classify.h"
#include "asm/asm_text.h"
#include "asm/line_reader.h"
#include "asm/source_map.h"

namespace cex {

namespace {

constexpr std::string_view kDefaultHideFuncRe =
    "^(__.*|_(init|start|fini)|(de)?register_tm_clones|call_gmon_start|frame_dummy|\\.plt.*|"
    "_dl_relocate_static_pie)$";

// Reads hex digits (lower case only when `lower_only`) at `*pos`; false when there are none.
bool readHex(std::string_view s, size_t* pos, uint64_t* value, bool lower_only) {
  size_t i = *pos;
  uint64_t v = 0;
  while (i < s.size()) {
    char c = s[i];
    int digit = isDigitChar(c)                          ? c - '0'
                : (c >= 'a' && c <= 'f')                ? c - 'a' + 10
                : (!lower_only && c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                        : -1;
    if (digit < 0) {
      break;
    }
    v = v * 16 + static_cast<uint64_t>(digit);
    ++i;
  }
  if (i == *pos) {
    return false;
  }
  *value = v;
  *pos = i;
  return true;
}

int parseLineNumber(std::string_view digits) {
  size_t pos = 0;
  int64_t value = 0;
  return readDecimal(digits, &pos, &value) ? clampToInt(value) : 0;
}

// "/path/file.c:12..."
std::optional<std::pair<std::string_view, int>> objdumpSourceLine(std::string_view line) {
  if (line.size() < 2 || line[0] != '/') {
    return std::nullopt;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon < 2) {
    return std::nullopt;
  }
  size_t end = colon + 1;
  while (end < line.size() && isDigitChar(line[end])) {
    ++end;
  }
  if (end == colon + 1) {
    return std::nullopt;
  }
  return std::make_pair(line.substr(0, colon),
                        parseLineNumber(line.substr(colon + 1, end - colon - 1)));
}

// "0000000000401126 <main>:"
std::optional<std::string_view> objdumpFunctionStart(std::string_view line) {
  size_t pos = 0;
  uint64_t address = 0;
  if (!readHex(line, &pos, &address, true)) {
    return std::nullopt;
  }
  size_t open = skipBlanks(line, pos);
  if (open == pos || open >= line.size() || line[open] != '<' || line.size() < open + 4 ||
      line.substr(line.size() - 2) != ">:") {
    return std::nullopt;
  }
  return line.substr(open + 1, line.size() - 2 - open - 1);
}

// "  401126:\t55                   \tpush   rbp"
std::optional<DisassemblyLine> objdumpInstruction(std::string_view line) {
  DisassemblyLine insn;
  size_t pos = skipBlanks(line, 0);
  if (!readHex(line, &pos, &insn.address, true) || pos >= line.size() || line[pos] != ':') {
    return std::nullopt;
  }
  pos = skipBlanks(line, pos + 1);
  size_t bytes_start = pos;
  while (pos + 1 < line.size() && isHexLower(line[pos]) && isHexLower(line[pos + 1])) {
    pos += 2;
    if (pos < line.size() && line[pos] == ' ') {
      ++pos;
    }
  }
  if (pos == bytes_start) {
    return std::nullopt;
  }
  std::string_view bytes = line.substr(bytes_start, pos - bytes_start);
  for (size_t i = 0; i < bytes.size();) {
    size_t space = bytes.find(' ', i);
    size_t end = space == std::string_view::npos ? bytes.size() : space;
    if (end > i) {
      insn.opcodes.push_back(bytes.substr(i, end - i));
    }
    i = end + 1;
  }
  insn.disassembly = line.substr(skipBlanks(line, pos));
  return insn;
}

// "        //## File "/path/example.cu", line 3"
std::optional<std::pair<std::string_view, int>> sassSourceLine(std::string_view line) {
  static constexpr std::string_view kPrefix = "//## File \"";
  size_t pos = skipBlanks(line, 0);
  if (line.compare(pos, kPrefix.size(), kPrefix) != 0) {
    return std::nullopt;
  }
  size_t path_start = pos + kPrefix.size();
  size_t close = line.find('"', path_start);
  static constexpr std::string_view kLine = ", line ";
  if (close == std::string_view::npos || close == path_start ||
      line.compare(close + 1, kLine.size(), kLine) != 0) {
    return std::nullopt;
  }
  size_t digits = close + 1 + kLine.size();
  size_t end = digits;
  while (end < line.size() && isDigitChar(line[end])) {
    ++end;
  }
  if (end == digits || end != line.size()) {
    return std::nullopt;
  }
  return std::make_pair(line.substr(path_start, close - path_start),
                        parseLineNumber(line.substr(digits, end - digits)));
}

// "_Z6squarePii:" (but not ".text.<name>:")
std::optional<std::string_view> sassFunctionStart(std::string_view line) {
  if (line.size() < 3 || line.back() != ':' || isBlankChar(line[0]) ||
      line.compare(0, 6, ".text.") == 0) {
    return std::nullopt;
  }
  std::string_view name = line.substr(0, line.size() - 1);
  if (name.find(':') != std::string_view::npos) {
    return std::nullopt;
  }
  return name;
}

// "        /*0008*/                   MOV R1, c[0x0][0x44];   /* 0x2800400110005de4 */"
std::optional<DisassemblyLine> sassInstruction(std::string_view line) {
  size_t pos = skipBlanks(line, 0);
  if (line.compare(pos, 2, "/*") != 0) {
    return std::nullopt;
  }
  size_t addr_end = line.find('*', pos + 2);
  if (addr_end == std::string_view::npos || addr_end == pos + 2 || addr_end + 1 >= line.size() ||
      line[addr_end + 1] != '/') {
    return std::nullopt;
  }
  DisassemblyLine insn;
  size_t addr_pos = skipBlanks(line, pos + 2);
  readHex(line, &addr_pos, &insn.address, false);
  pos = skipBlanks(line, addr_end + 2);
  if (pos < line.size() && line[pos] == '{') {
    pos = skipBlanks(line, pos + 1);
  }
  size_t end = line.find_first_of(";}", pos);
  if (end == std::string_view::npos || end == pos) {
    return std::nullopt;
  }
  insn.disassembly = line.substr(pos, end - pos);
  if (line[end] == '}') {
    return insn;
  }
  // "; /* 0x<hex> */"
  size_t enc = skipBlanks(line, end + 1);
  if (line.compare(enc, 5, "/* 0x") != 0) {
    return std::nullopt;
  }
  size_t hex_start = enc + 5;
  size_t hex_end = hex_start;
  while (hex_end < line.size() && isHexLower(line[hex_end])) {
    ++hex_end;
  }
  if (hex_end == hex_start || line.compare(hex_end, 3, " */") != 0) {
    return std::nullopt;
  }
  insn.opcodes.push_back(line.substr(hex_start, hex_end - hex_start));
  return insn;
}

// "  40100c: R_X86_64_PLT32\tputs-0x4" (objdump -r).
struct Relocation {
  uint64_t address = 0;
  std::string_view name;
  std::string_view data;
};

std::optional<Relocation> readRelocation(std::string_view line) {
  Relocation reloc;
  size_t pos = skipBlanks(line, 0);
  if (!readHex(line, &pos, &reloc.address, true) || pos >= line.size() || line[pos] != ':') {
    return std::nullopt;
  }
  pos = skipBlanks(line, pos + 1);
  if (line.compare(pos, 2, "R_") != 0) {
    return std::nullopt;
  }
  size_t end = pos + 2;
  while (end < line.size() &&
         (isDigitChar(line[end]) || (line[end] >= 'A' && line[end] <= 'Z') || line[end] == '_')) {
    ++end;
  }
  reloc.name = line.substr(pos, end - pos);
  reloc.data = line.substr(skipBlanks(line, end));
  return reloc;
}

// "sym" or "sym+0x10" (the text between '<' and the final '>'): the symbol, or nullopt.
std::optional<std::string_view> targetSymbol(std::string_view inner) {
  size_t plus = inner.find('+');
  std::string_view name = inner.substr(0, plus);
  if (name.empty() || name.find('>') != std::string_view::npos) {
    return std::nullopt;
  }
  if (plus != std::string_view::npos) {
    std::string_view offset = inner.substr(plus + 1);
    if (offset.size() < 3 || offset.compare(0, 2, "0x") != 0 ||
        offset.find_first_not_of("0123456789abcdef", 2) != std::string_view::npos) {
      return std::nullopt;
    }
  }
  return name;
}

// Whether "<blank><hex address><blanks>" ends just before `open`.
bool addressBefore(std::string_view line, size_t open) {
  size_t i = open;
  while (i > 0 && isBlankChar(line[i - 1])) {
    --i;
  }
  if (i == open) {
    return false;
  }
  size_t hex_end = i;
  while (i > 0 && isHexLower(line[i - 1])) {
    --i;
  }
  return i < hex_end && i > 0 && isBlankChar(line[i - 1]);
}

// The symbol of a trailing "ADDR <sym>" or "ADDR <sym+0x10>" jump or call target.
std::optional<std::string_view> destinationSymbol(std::string_view line) {
  if (line.empty() || line.back() != '>') {
    return std::nullopt;
  }
  for (size_t open = line.find('<'); open != std::string_view::npos;
       open = line.find('<', open + 1)) {
    if (!addressBefore(line, open)) {
      continue;
    }
    if (auto name = targetSymbol(line.substr(open + 1, line.size() - open - 2))) {
      return name;
    }
  }
  return std::nullopt;
}

// Function names hidden in binary mode (runtime support code), matched with PCRE2.
class HiddenFunctions {
 public:
  explicit HiddenFunctions(std::string_view pattern) {
    if (pattern.empty()) {
      pattern = kDefaultHideFuncRe;
    }
    int error = 0;
    PCRE2_SIZE offset = 0;
    code_.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                              PCRE2_UTF, &error, &offset, nullptr));
    if (code_) {
      data_.reset(pcre2_match_data_create_from_pattern(code_.get(), nullptr));
    }
  }

  bool hides(std::string_view name) const {
    if (!code_) {
      return false;
    }
    int rc = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(name.data()), name.size(), 0,
                         PCRE2_NO_UTF_CHECK, data_.get(), nullptr);
    return rc >= 0;
  }

 private:
  struct CodeFree {
    void operator()(pcre2_code* c) const { pcre2_code_free(c); }
  };

  struct DataFree {
    void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
  };

  std::unique_ptr<pcre2_code, CodeFree> code_;
  std::unique_ptr<pcre2_match_data, DataFree> data_;
};

// Binary mode state; one instance per disassembly.
class BinaryParser {
 public:
  BinaryParser(const AsmParseOptions& options, const DisassemblyFormat& format)
      : options_(options), format_(format), hidden_(options.binary_hide_func_re) {}

  ParsedAsm parse(std::string_view text);

 private:
  void processLine(std::string_view line);
  bool startsFunction(std::string_view line);
  bool skipLibraryCode();
  void addInstruction(const DisassemblyLine& insn, std::string_view line);
  void setSource(std::string_view path, int line);
  void addRelocation(const Relocation& reloc);

  const AsmParseOptions& options_;
  const DisassemblyFormat& format_;
  HiddenFunctions hidden_;
  ParsedAsm result_;
  std::optional<AsmSource> source_;
  std::string function_;
  bool in_function_ = false;
  bool function_visible_ = false;
  bool may_remove_previous_label_ = true;
  // Function name -> slot in result_.label_definitions.
  std::unordered_map<std::string, size_t> label_slots_;
};

ParsedAsm BinaryParser::parse(std::string_view text) {
  LineReader reader(text);
  std::string_view line;
  int64_t line_count = 0;
  while (reader.next(&line)) {
    ++line_count;
    processLine(line);
  }
  // References survive only to functions that were shown.
  std::unordered_set<std::string_view> shown;
  for (const auto& [name, index] : result_.label_definitions) {
    shown.insert(name);
  }
  for (AsmLine& out : result_.lines) {
    std::erase_if(out.labels, [&](const AsmLabelRef& ref) {
      return !shown.contains(ref.target ? *ref.target : ref.name);
    });
  }
  result_.filtered_count = line_count - static_cast<int64_t>(result_.lines.size());
  return std::move(result_);
}

void BinaryParser::processLine(std::string_view line) {
  auto max_lines = static_cast<size_t>(std::max(options_.max_lines_of_asm, 0));
  if (result_.lines.size() >= max_lines) {
    if (result_.lines.size() == max_lines) {
      result_.lines.emplace_back().text = "[truncated; too many lines]";
    }
    return;
  }
  if (auto location = format_.source_line(line)) {
    setSource(location->first, location->second);
    return;
  }
  if (startsFunction(line) || !in_function_ || !function_visible_) {
    return;
  }
  if (line.size() == function_.size() + 3 && line.compare(0, function_.size(), function_) == 0 &&
      line.substr(function_.size()) == "():") {
    return;
  }
  if (skipLibraryCode()) {
    return;
  }
  if (auto insn = format_.instruction(line)) {
    addInstruction(*insn, line);
  }
  if (auto reloc = readRelocation(line)) {
    addRelocation(*reloc);
  }
}

void BinaryParser::setSource(std::string_view path, int line) {
  // Every location objdump prints counts as the program's own source.
  AsmSource source;
  source.line = line;
  source.mainsource = true;
  if (options_.filters.dont_mask_filenames) {
    source.file = std::string(maskRootDir(path));
  }
  source_ = std::move(source);
}

void BinaryParser::addRelocation(const Relocation& reloc) {
  // The reference leaves "source" and "labels" out of relocation lines; cex writes them
  // (null and empty) so that every line of a binary listing has the same keys.
  AsmLine& out = result_.lines.emplace_back();
  out.text = "   " + std::string(reloc.name) + " " + std::string(reloc.data);
  out.address = reloc.address;
}

bool BinaryParser::startsFunction(std::string_view line) {
  auto name = format_.function_start(line);
  if (!name) {
    return false;
  }
  function_ = std::string(*name);
  in_function_ = true;
  function_visible_ = !hidden_.hides(function_);
  if (function_visible_) {
    result_.lines.emplace_back().text = function_ + ":";
    int index = static_cast<int>(result_.lines.size());
    auto [slot, inserted] = label_slots_.try_emplace(function_, result_.label_definitions.size());
    if (inserted) {
      result_.label_definitions.emplace_back(function_, index);
    } else {
      result_.label_definitions[slot->second].second = index;
    }
  }
  return true;
}

bool BinaryParser::skipLibraryCode() {
  if (!options_.filters.library_code || source_) {
    may_remove_previous_label_ = true;
    return false;
  }
  // Code without a location in the program's sources: hide it, and the label before it.
  // The label stays in labelDefinitions, as the reference leaves it.
  if (may_remove_previous_label_ && !result_.lines.empty()) {
    const std::string& last = result_.lines.back().text;
    if (matchLabelDef(last)) {
      result_.lines.pop_back();
    }
    may_remove_previous_label_ = false;
  }
  return true;
}

void BinaryParser::addInstruction(const DisassemblyLine& insn, std::string_view line) {
  AsmLine& out = result_.lines.emplace_back();
  out.text = " ";
  if (options_.filters.trim) {
    appendSquashedWhitespace(insn.disassembly, &out.text);
  } else {
    out.text.append(insn.disassembly);
  }
  out.address = insn.address;
  out.opcodes.emplace();
  for (std::string_view byte : insn.opcodes) {
    out.opcodes->emplace_back(byte);
  }
  out.source = source_;
  if (auto symbol = destinationSymbol(line)) {
    size_t at = out.text.find(*symbol);
    AsmLabelRef& ref = out.labels.emplace_back();
    ref.name = std::string(*symbol);
    ref.start_col =
        at == std::string::npos
            ? 0
            : static_cast<int>(utf16Length(std::string_view(out.text).substr(0, at))) + 1;
    ref.end_col = ref.start_col + static_cast<int>(utf16Length(*symbol));
  }
}

}  // namespace

const DisassemblyFormat& objdumpFormat() {
  static const DisassemblyFormat kFormat{objdumpSourceLine, objdumpFunctionStart,
                                         objdumpInstruction};
  return kFormat;
}

const DisassemblyFormat& sassFormat() {
  static const DisassemblyFormat kFormat{sassSourceLine, sassFunctionStart, sassInstruction};
  return kFormat;
}

ParsedAsm parseDisassembly(std::string_view text, const AsmParseOptions& options,
                           const DisassemblyFormat& format) {
  // A lone line starting with '<' is an error message from the tool chain; pass it on.
  LineReader reader(text);
  std::string_view first;
  if (reader.next(&first) && reader.position() >= text.size() && !first.empty() &&
      first[0] == '<') {
    ParsedAsm error;
    AsmLine& line = error.lines.emplace_back();
    line.text = std::string(first);
    line.has_labels_key = false;
    error.has_label_definitions = false;
    return error;
  }
  return BinaryParser(options, format).parse(text);
}

}  // namespace cex

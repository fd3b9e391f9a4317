#include <algorithm>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "asm/asm_classify.h"
#include "asm/asm_text.h"
#include "asm/dialect_parsers.h"
#include "asm/line_reader.h"
#include "asm/source_map.h"

namespace cex {

namespace {

// Symbol characters of MASM listings: mangled C++ names use ?, @, $, < and >.
bool isMasmStart(char c) {
  return isAsciiAlpha(c) || c == '_' || c == '$' || c == '?' || c == '@';
}

bool isMasmChar(char c) {
  return isMasmStart(c) || isDigitChar(c) || c == '<' || c == '>';
}

size_t masmSymbolEnd(std::string_view s, size_t pos) {
  if (pos >= s.size() || !isMasmStart(s[pos])) {
    return std::string_view::npos;
  }
  ++pos;
  while (pos < s.size() && isMasmChar(s[pos])) {
    ++pos;
  }
  return pos;
}

// "|name|" or "name" at the start of the line; returns (name with bars, end) or npos.
size_t barredSymbolEnd(std::string_view line) {
  size_t pos = !line.empty() && line[0] == '|' ? 1 : 0;
  size_t end = masmSymbolEnd(line, pos);
  if (end != std::string_view::npos && end < line.size() && line[end] == '|') {
    ++end;
  }
  return end;
}

// "D[C](B|D|Q|W)" followed by a blank, at `pos`.
bool isDataKeywordAt(std::string_view s, size_t pos) {
  if (pos >= s.size() || s[pos] != 'D') {
    return false;
  }
  ++pos;
  if (pos < s.size() && s[pos] == 'C') {
    ++pos;
  }
  return pos + 1 < s.size() && std::string_view("BDQW").find(s[pos]) != std::string_view::npos &&
         isBlankChar(s[pos + 1]);
}

// A data definition; `label` is set when the line starts with the data's own label.
bool isMasmData(std::string_view line, std::string_view* label) {
  size_t end = barredSymbolEnd(line);
  if (end != std::string_view::npos && end < line.size() && isBlankChar(line[end]) &&
      isDataKeywordAt(line, end + 1)) {
    *label = line.substr(0, end);
    return true;
  }
  *label = {};
  for (size_t i = 0; i < line.size(); ++i) {
    if (!isBlankChar(line[i])) {
      continue;
    }
    size_t j = skipBlanks(line, i);
    if (isDataKeywordAt(line, j) || hasPrefixAt(line, j, "ORG")) {
      return true;
    }
  }
  return false;
}

bool isMiscDirective(std::string_view line) {
  static constexpr std::string_view kWords[] = {
      "include", "INCLUDELIB", "TITLE", ".", "THUMB", "ARM64", "TTL", "DD", "voltbl", "_volmd"};
  size_t i = skipBlanks(line, 0);
  for (std::string_view word : kWords) {
    if (hasPrefixAt(line, i, word)) {
      return true;
    }
  }
  return line.substr(i) == "END";
}

// End of "$letters" at `pos`, or `pos` when there is none.
size_t dollarSuffixEnd(std::string_view line, size_t pos) {
  if (pos >= line.size() || line[pos] != '$') {
    return pos;
  }
  size_t end = pos + 1;
  while (end < line.size() && isAsciiAlpha(line[end])) {
    ++end;
  }
  return end > pos + 1 ? end : pos;
}

// End of a segment name at the start of the line (CONST, _BSS, _TEXT, CRT[$x], [prx]data[$x],
// text[$x]; `dotted` also allows a leading dot before the data and text forms), or npos.
size_t segmentNameEnd(std::string_view line, bool dotted) {
  for (std::string_view fixed : {"CONST", "_BSS", "_TEXT"}) {
    if (hasPrefixAt(line, 0, fixed)) {
      return fixed.size();
    }
  }
  if (hasPrefixAt(line, 0, "CRT")) {
    return dollarSuffixEnd(line, 3);
  }
  size_t i = dotted && hasPrefixAt(line, 0, ".") ? 1 : 0;
  if (hasPrefixAt(line, i, "text")) {
    return dollarSuffixEnd(line, i + 4);
  }
  if (i < line.size() && (line[i] == 'p' || line[i] == 'r' || line[i] == 'x')) {
    ++i;
  }
  return hasPrefixAt(line, i, "data") ? dollarSuffixEnd(line, i + 4) : std::string_view::npos;
}

bool isSegmentLine(std::string_view line, std::string_view keyword, bool dotted) {
  size_t end = segmentNameEnd(line, dotted);
  if (end == std::string_view::npos) {
    return false;
  }
  size_t k = skipBlanks(line, end);
  return k > end && hasPrefixAt(line, k, keyword);
}

bool beginsSegment(std::string_view line) {
  return isSegmentLine(line, "SEGMENT", true) || line.find("AREA") != std::string_view::npos;
}

bool endsSegment(std::string_view line) {
  return isSegmentLine(line, "ENDS", false);
}

bool isMasmGlobal(std::string_view line) {
  size_t i = skipBlanks(line, 0);
  for (std::string_view word : {"PUBLIC", "EXTRN", "EXPORT"}) {
    if (hasPrefixAt(line, i, word)) {
      size_t after = i + word.size();
      return after < line.size() && isBlankChar(line[after]);
    }
  }
  return false;
}

// "name PROC": the function's name.
std::optional<std::string_view> masmProcName(std::string_view line) {
  size_t end = barredSymbolEnd(line);
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  size_t k = skipBlanks(line, end);
  if (k == end || !hasPrefixAt(line, k, "PROC")) {
    return std::nullopt;
  }
  size_t start = line[0] == '|' ? 1 : 0;
  size_t name_end = masmSymbolEnd(line, start);
  return line.substr(start, name_end - start);
}

bool isEndProc(std::string_view line) {
  size_t end = masmSymbolEnd(line, 0);
  size_t i = end == std::string_view::npos ? 0 : end;
  size_t k = skipBlanks(line, i);
  return k > i && hasPrefixAt(line, k, "ENDP");
}

bool isLocalLabelDef(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && (isAsciiAlpha(line[i]) || line[i] == '_' || line[i] == '$')) {
    ++i;
  }
  return i > 0 && hasPrefixAt(line, i, " =");
}

bool masmHasOpcode(std::string_view line) {
  line = line.substr(0, line.find(';'));
  if (line.empty() || isLocalLabelDef(line) || isMasmGlobal(line)) {
    return false;
  }
  std::string_view label;
  if (isMasmData(line, &label) || beginsSegment(line) || endsSegment(line) || masmProcName(line) ||
      isEndProc(line) || isMiscDirective(line)) {
    return false;
  }
  return hasOpcode(line, false);
}

// One function of the listing, from its "; Function compile flags" comment on.
struct MasmFunction {
  std::vector<AsmLine> lines;
  std::string name;
  bool has_name = false;
  std::optional<int> initial_line;
  // Unset until a "; File" comment is seen; then no name inside means the user's file.
  std::optional<AsmFileName> file;
};

// Orders functions the way the reference does: the user's file first, then other files by
// name, functions without a file last; within a file by first line, then by name.
bool masmFunctionBefore(const MasmFunction& a, const MasmFunction& b) {
  auto rank = [](const MasmFunction& f) {
    return !f.file ? 2 : (*f.file ? 1 : 0);
  };
  if (rank(a) != rank(b)) {
    return rank(a) < rank(b);
  }
  if (rank(a) == 1 && **a.file != **b.file) {
    return **a.file < **b.file;
  }
  if (a.initial_line != b.initial_line) {
    // One without a first line compares equal to anything, as the reference's NaN does.
    return a.initial_line && b.initial_line && *a.initial_line < *b.initial_line;
  }
  return a.name < b.name;
}

// The cl.exe listing parser.
class MasmParser {
 public:
  explicit MasmParser(const AsmFilters& filters) : filters_(filters) {}

  ParsedAsm parse(std::string_view listing);

 private:
  void processLine(std::string_view line);
  void trackLocation(std::string_view line);
  bool skips(std::string_view line) const;
  void addLine(std::string_view line);
  void noteDataUses(std::string_view line);

  std::vector<AsmLine>& currentLines() { return function_ ? function_->lines : prefix_; }

  ParsedAsm assemble();
  void pushLine(AsmLine line, ParsedAsm* out, bool* last_blank) const;

  const AsmFilters& filters_;
  std::vector<AsmLine> prefix_;
  std::vector<MasmFunction> functions_;
  MasmFunction* function_ = nullptr;
  std::optional<AsmLine> postfix_;
  bool seen_end_ = false;
  AsmFileName current_file_;
  int current_line_ = 0;
  std::unordered_set<std::string> data_labels_;
  std::unordered_set<std::string> data_labels_used_;
  std::string scratch_;
};

ParsedAsm MasmParser::parse(std::string_view listing) {
  // Functions are collected first and pointers into the vector must stay valid.
  size_t functions = 0;
  for (size_t pos = listing.find("; Function compile flags: "); pos != std::string_view::npos;
       pos = listing.find("; Function compile flags: ", pos + 1)) {
    ++functions;
  }
  functions_.reserve(functions);
  LineReader reader(listing);
  std::string_view line;
  while (reader.next(&line)) {
    processLine(line);
  }
  return assemble();
}

void MasmParser::processLine(std::string_view line) {
  std::string_view trimmed = trimBlanks(line);
  if (trimmed == "END") {
    seen_end_ = true;
    if (!filters_.directives) {
      postfix_.emplace().text = std::string(line);
    }
    return;
  }
  if (trimmed.empty()) {
    if (!seen_end_) {
      currentLines().emplace_back();
    }
    return;
  }
  trackLocation(line);
  if (hasPrefixAt(line, 0, "; Function compile flags: ")) {
    function_ = &functions_.emplace_back();
  }
  if (auto name = masmProcName(line); name && function_) {
    // Prefer the demangled name the compiler puts in the trailing comment.
    size_t comment = line.find("; ");
    bool commented = comment != std::string_view::npos && comment + 2 < line.size();
    function_->name = std::string(commented ? line.substr(comment + 2) : *name);
    function_->has_name = true;
  }
  if (skips(line)) {
    return;
  }
  std::string_view label;
  if (isMasmData(line, &label) && !label.empty()) {
    data_labels_.emplace(label);
  }
  addLine(line);
}

void MasmParser::trackLocation(std::string_view line) {
  if (hasPrefixAt(line, 0, "; File ") && line.size() > 7) {
    std::string_view file = line.substr(7);
    current_file_ = isMainSourcePath(file) ? AsmFileName() : AsmFileName(file);
    if (function_ && !function_->file) {
      function_->file = current_file_;
    }
    return;
  }
  size_t digits = 7;
  int64_t value = 0;
  if (hasPrefixAt(line, 0, "; Line ") && readDecimal(line, &digits, &value)) {
    int number = clampToInt(value);
    if (function_ && !function_->initial_line) {
      function_->initial_line = number;
    }
    current_line_ = number;
  }
}

bool MasmParser::skips(std::string_view line) const {
  if (filters_.comment_only && !line.empty() && line[0] == ';') {
    return true;
  }
  if (filters_.directives &&
      (endsSegment(line) || isMasmGlobal(line) || isMiscDirective(line) || beginsSegment(line))) {
    return true;
  }
  if (filters_.library_code && function_ && function_->has_name &&
      trimBlanks(function_->name).substr(0, 5) == "std::") {
    return true;
  }
  // Run-time type information of the standard library (".. `RTTI Complete Object Locator' DD").
  size_t std_mark = line.find("@std@@");
  return (filters_.directives || filters_.library_code) && std_mark != std::string_view::npos &&
         line.find(" DD ", std_mark) != std::string_view::npos;
}

void MasmParser::addLine(std::string_view line) {
  scratch_.clear();
  appendExpandedTabs(line, &scratch_);
  AsmLine& out = currentLines().emplace_back();
  if (filters_.trim) {
    appendSquashedWhitespace(scratch_, &out.text);
  } else {
    out.text = scratch_;
  }
  out.has_labels_key = false;
  if (masmHasOpcode(scratch_) && (current_file_ || current_line_ != 0)) {
    AsmSource& source = out.source.emplace();
    source.file = current_file_;
    source.line = current_line_;
  }
  noteDataUses(scratch_);
}

void MasmParser::noteDataUses(std::string_view line) {
  // Every symbol after the first that names data defined earlier marks that data as used.
  bool first = true;
  for (size_t i = 0; i < line.size();) {
    size_t end = masmSymbolEnd(line, i);
    if (end == std::string_view::npos) {
      ++i;
      continue;
    }
    std::string_view token = line.substr(i, end - i);
    if (!first && data_labels_.contains(std::string(token))) {
      data_labels_used_.emplace(token);
    }
    first = false;
    i = end;
  }
}

void MasmParser::pushLine(AsmLine line, ParsedAsm* out, bool* last_blank) const {
  if (isBlankLine(line.text)) {
    if (!*last_blank) {
      AsmLine& blank = out->lines.emplace_back();
      blank.has_labels_key = false;
      *last_blank = true;
    }
    return;
  }
  out->lines.push_back(std::move(line));
  *last_blank = false;
}

ParsedAsm MasmParser::assemble() {
  ParsedAsm out;
  out.has_label_definitions = false;
  bool last_blank = true;
  bool used = false;
  for (AsmLine& line : prefix_) {
    std::string_view label;
    // With the labels filter, data nobody refers to is dropped with its continuation lines.
    if (filters_.labels && isMasmData(line.text, &label)) {
      if (!label.empty()) {
        used = data_labels_used_.contains(std::string(label));
      }
      if (!used) {
        continue;
      }
    }
    pushLine(std::move(line), &out, &last_blank);
  }
  std::stable_sort(functions_.begin(), functions_.end(), masmFunctionBefore);
  for (MasmFunction& function : functions_) {
    if (filters_.library_code && (!function.file || *function.file)) {
      continue;
    }
    pushLine(AsmLine{}, &out, &last_blank);
    for (AsmLine& line : function.lines) {
      pushLine(std::move(line), &out, &last_blank);
    }
  }
  if (postfix_) {
    pushLine(std::move(*postfix_), &out, &last_blank);
  }
  for (AsmLine& line : out.lines) {
    line.has_labels_key = false;
  }
  return out;
}

}  // namespace

ParsedAsm parseMsvcListing(std::string_view listing, const AsmFilters& filters) {
  return MasmParser(filters).parse(listing);
}

ParsedAsm parseMsvcRaw(std::string_view listing) {
  ParsedAsm out;
  out.has_label_definitions = false;
  // Split on every '\n', keeping '\r' and the empty piece after a final newline.
  size_t start = 0;
  while (true) {
    size_t nl = listing.find('\n', start);
    AsmLine& raw = out.lines.emplace_back();
    raw.text = std::string(listing.substr(start, nl == std::string_view::npos ? nl : nl - start));
    raw.has_labels_key = false;
    if (nl == std::string_view::npos) {
      break;
    }
    start = nl + 1;
  }
  return out;
}

}  // namespace cex

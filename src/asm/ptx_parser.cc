#include <algorithm>
#include <string>
#include <unordered_map>

#include "asm/asm_classify.h"
#include "asm/asm_text.h"
#include "asm/dialect_parsers.h"
#include "asm/line_reader.h"
#include "asm/source_map.h"

namespace cex {

namespace {

// The line, after leading blanks, starts with `prefix`.
bool leads(std::string_view line, std::string_view prefix) {
  return hasPrefixAt(line, skipBlanks(line, 0), prefix);
}

// After leading blanks: `word`, one or more blanks, then `next`.
bool leadsWithPair(std::string_view line, std::string_view word, std::string_view next) {
  size_t i = skipBlanks(line, 0);
  if (!hasPrefixAt(line, i, word)) {
    return false;
  }
  size_t j = skipBlanks(line, i + word.size());
  return j > i + word.size() && hasPrefixAt(line, j, next);
}

bool isPtxIdentifier(std::string_view s) {
  if (s.empty() || !(isAsciiAlpha(s[0]) || s[0] == '_')) {
    return false;
  }
  return std::all_of(s.begin() + 1, s.end(), isWordChar);
}

// "$L__BB0_3:" or "name:" (labels are never indented).
bool isPtxLabelLine(std::string_view line) {
  size_t i = skipBlanks(line, 0);
  if (i < line.size() && line[i] == '$') {
    ++i;
  }
  size_t colon = line.find(':', i);
  return colon != std::string_view::npos && isPtxIdentifier(line.substr(i, colon - i));
}

// ".global .align N .<type>": data the module defines, kept with directives filtered.
bool isPtxDataDeclaration(std::string_view line) {
  if (!leadsWithPair(line, ".global", ".align")) {
    return false;
  }
  size_t i = line.find(".align") + 6;
  size_t digits = skipBlanks(line, i);
  size_t end = digits;
  while (end < line.size() && isDigitChar(line[end])) {
    ++end;
  }
  size_t type = skipBlanks(line, end);
  if (end == digits || digits == i || type == end || !hasPrefixAt(line, type, ".")) {
    return false;
  }
  static constexpr std::string_view kTypes[] = {"b8",  "b16", "b32", "b64", "u8",
                                                "u16", "u32", "u64", "s8",  "s16",
                                                "s32", "s64", "f16", "f32", "f64"};
  return std::any_of(std::begin(kTypes), std::end(kTypes),
                     [&](std::string_view t) { return hasPrefixAt(line, type + 1, t); });
}

// Leading blanks kept, the rest collapsed: tabs of the indent become two spaces each.
std::string trimPtxLine(std::string_view line) {
  if (isBlankLine(line)) {
    return {};
  }
  size_t tabs = 0;
  while (tabs < line.size() && line[tabs] == '\t') {
    ++tabs;
  }
  std::string out(tabs * 2, ' ');
  std::string_view rest = line.substr(tabs);
  for (size_t i = 0; i < rest.size();) {
    if (isBlankChar(rest[i])) {
      out.push_back(' ');
      i = skipBlanks(rest, i);
    } else {
      out.push_back(rest[i++]);
    }
  }
  return out;
}

// The PTX listing parser.
class PtxParser {
 public:
  explicit PtxParser(const AsmFilters& filters) : filters_(filters) {}

  ParsedAsm parse(std::string_view listing);

 private:
  void addIfFile(std::string_view line);
  void readLoc(std::string_view line);
  void processLine(std::string_view line);
  void trackStructure(std::string_view line);
  bool skipsDirective(std::string_view line) const;
  std::string layout(std::string_view line);
  std::string callLayout(std::string_view line) const;

  const AsmFilters& filters_;
  ParsedAsm result_;
  std::unordered_map<int64_t, std::string> files_;
  std::optional<AsmSource> source_;
  bool in_extern_ = false;
  bool extern_closed_ = false;
  int function_depth_ = 0;
  int brace_depth_ = 0;
  bool in_call_ = false;
  std::string call_indent_;
};

ParsedAsm PtxParser::parse(std::string_view listing) {
  LineReader reader(listing);
  std::string_view line;
  int64_t count = 0;
  // .file directives first: a .loc may name a file declared later.
  while (reader.next(&line)) {
    ++count;
    addIfFile(line);
  }
  LineReader second(listing);
  while (second.next(&line)) {
    processLine(line);
  }
  result_.language_id = "ptx";
  result_.filtered_count = count - static_cast<int64_t>(result_.lines.size());
  return std::move(result_);
}

// ".file N "name"": only the first string counts here.
void PtxParser::addIfFile(std::string_view line) {
  size_t i = skipBlanks(line, 0);
  if (!hasPrefixAt(line, i, ".file")) {
    return;
  }
  size_t pos = skipBlanks(line, i + 5);
  int64_t number = 0;
  if (pos == i + 5 || !readDecimal(line, &pos, &number)) {
    return;
  }
  size_t quote = skipBlanks(line, pos);
  if (quote == pos || quote >= line.size() || line[quote] != '"') {
    return;
  }
  size_t close = line.find('"', quote + 1);
  if (close != std::string_view::npos && close > quote + 1) {
    files_[number] = std::string(line.substr(quote + 1, close - quote - 1));
  }
}

// ".loc FILE LINE COLUMN" of a known file sets the source; column 0 is reported too.
void PtxParser::readLoc(std::string_view line) {
  size_t pos = skipBlanks(line, 0) + 4;
  int64_t values[3] = {};
  for (int64_t& value : values) {
    size_t digits = skipBlanks(line, pos);
    if (digits == pos) {
      return;
    }
    pos = digits;
    if (!readDecimal(line, &pos, &value)) {
      return;
    }
  }
  auto file = files_.find(values[0]);
  if (file == files_.end()) {
    return;
  }
  AsmSource& source = source_.emplace();
  source.file = std::string(maskRootDir(file->second));
  source.line = clampToInt(values[1]);
  source.column = clampToInt(values[2]);
  source.keep_zero_column = true;
  source.mainsource = true;
}

void PtxParser::processLine(std::string_view line) {
  if (leads(line, ".loc")) {
    readLoc(line);
  }
  trackStructure(line);

  // External function declarations are library code, up to the ';' after their ')'.
  if (filters_.library_code && in_extern_) {
    if (extern_closed_ && trimBlanks(line) == ";") {
      in_extern_ = false;
      extern_closed_ = false;
    }
    return;
  }
  if (filters_.comment_only) {
    if (leads(line, "//") || isBlankLine(line)) {
      return;
    }
    size_t comment = line.find("//");
    if (comment != std::string_view::npos && comment > 0) {
      line = line.substr(0, comment);
      while (!line.empty() && isBlankChar(line.back())) {
        line.remove_suffix(1);
      }
    }
  }
  if (filters_.directives && skipsDirective(line)) {
    return;
  }
  AsmLine& out = result_.lines.emplace_back();
  out.text = layout(line);
  if (filters_.trim) {
    out.text = trimPtxLine(out.text);
  }
  // Predicated instructions ("@%p1 bra ...") count as code too.
  if (source_ && hasOpcode(line, true)) {
    out.source = source_;
  }
}

void PtxParser::trackStructure(std::string_view line) {
  if (leadsWithPair(line, ".extern", ".func")) {
    in_extern_ = true;
    extern_closed_ = false;
  } else if (in_extern_ && trimBlanks(line) == ")") {
    extern_closed_ = true;
  }
  if (leads(line, "{")) {
    ++function_depth_;
  } else if (leads(line, "}")) {
    --function_depth_;
  }
  std::string_view trimmed = trimBlanks(line);
  if (leads(line, "call.")) {
    in_call_ = true;
    call_indent_ = std::string(line.substr(0, skipBlanks(line, 0))) + "\t";
  } else if (in_call_ && trimmed.size() >= 2 && trimmed.front() == ')' && trimmed.back() == ';' &&
             trimBlanks(trimmed.substr(1, trimmed.size() - 2)).empty()) {
    in_call_ = false;
    call_indent_.clear();
  }
}

bool PtxParser::skipsDirective(std::string_view line) const {
  if (!leads(line, ".") || leadsWithPair(line, ".extern", ".func") || leads(line, ".visible") ||
      isPtxDataDeclaration(line)) {
    return false;
  }
  // Parameters of a function being defined are noise; those of a declaration are its shape.
  return !leads(line, ".param") || function_depth_ > 0;
}

std::string PtxParser::layout(std::string_view line) {
  std::string text;
  std::string_view trimmed = trimBlanks(line);
  bool closes = leads(line, "}");
  bool call_end = trimmed.size() >= 2 && trimmed.front() == ')' && trimmed.back() == ';' &&
                  trimBlanks(trimmed.substr(1, trimmed.size() - 2)).empty();
  if (isPtxLabelLine(line)) {
    text = std::string(trimmed);
  } else {
    int indent = closes ? std::max(0, brace_depth_ - 1) : brace_depth_;
    if (indent > 0) {
      text = std::string(static_cast<size_t>(indent), '\t') + std::string(trimmed);
    } else if (in_call_ && !call_end) {
      text = callLayout(line);
    } else {
      text = std::string(line);
    }
  }
  if (leads(line, "{")) {
    ++brace_depth_;
  } else if (closes) {
    --brace_depth_;
  }
  return text;
}

std::string PtxParser::callLayout(std::string_view line) const {
  std::string_view trimmed = trimBlanks(line);
  if (trimmed.empty()) {
    return std::string(line);
  }
  std::string_view indent = line.substr(0, skipBlanks(line, 0));
  std::string_view name = trimmed.back() == ',' ? trimmed.substr(0, trimmed.size() - 1) : trimmed;
  std::string_view base = call_indent_;
  if (trimmed == ")" || trimmed == ");") {
    base = base.substr(0, base.empty() ? 0 : base.size() - 1);
  } else if (!(isPtxIdentifier(trimBlanks(name)) || trimmed == "(")) {
    return std::string(line);
  }
  std::string out(indent);
  out.append(base.substr(std::min(indent.size(), base.size())));
  out.append(trimmed);
  return out;
}

}  // namespace

ParsedAsm parsePtxListing(std::string_view listing, const AsmFilters& filters) {
  return PtxParser(filters).parse(listing);
}

}  // namespace cex

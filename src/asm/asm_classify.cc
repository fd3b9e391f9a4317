#include "asm/asm_classify.h"

#include <array>

namespace cex {

namespace {

// Characters allowed in a label definition's name: [\w$.@].
bool isLabelDefChar(char c) {
  return isSymbolChar(c) || c == '@';
}

bool iequalsAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    if (x != b[i]) {
      return false;
    }
  }
  return true;
}

// A label name at `pos` followed by ':', plain or double-quoted.
std::optional<LabelDef> matchLabelAt(std::string_view line, size_t pos) {
  size_t name_start = pos;
  bool quoted = pos < line.size() && line[pos] == '"';
  size_t end = quoted ? pos + 1 : pos;
  while (end < line.size() && isLabelDefChar(line[end])) {
    ++end;
  }
  if (end == (quoted ? pos + 1 : pos)) {
    return std::nullopt;
  }
  if (quoted) {
    if (end >= line.size() || line[end] != '"') {
      return std::nullopt;
    }
    ++end;
  }
  if (end >= line.size() || line[end] != ':') {
    return std::nullopt;
  }
  return LabelDef{line.substr(name_start, end - name_start), end + 1};
}

// A symbol at `pos`, plain ([.A-Z_a-z][\w$.]*) or in double quotes; returns its end or npos.
size_t symbolEnd(std::string_view line, size_t pos, bool dollar_start) {
  if (pos >= line.size()) {
    return std::string_view::npos;
  }
  bool quoted = line[pos] == '"';
  size_t first = quoted ? pos + 1 : pos;
  if (first >= line.size() ||
      !(isSymbolStart(line[first]) || (dollar_start && line[first] == '$'))) {
    return std::string_view::npos;
  }
  size_t end = skipSymbolChars(line, first + 1);
  if (!quoted) {
    return end;
  }
  return end < line.size() && line[end] == '"' ? end + 1 : std::string_view::npos;
}

// After optional blanks, the directive `name` (without its dot); returns the offset after it.
size_t afterDirective(std::string_view line, std::string_view name) {
  size_t i = skipBlanks(line, 0);
  if (i < line.size() && line[i] == '.' && hasPrefixAt(line, i + 1, name)) {
    return i + 1 + name.size();
  }
  return std::string_view::npos;
}

bool matchesTypeFunction(std::string_view line, size_t after_type) {
  static constexpr std::string_view kFunction = "function";
  if (line.size() < kFunction.size() + 1 ||
      line.substr(line.size() - kFunction.size()) != kFunction) {
    return false;
  }
  size_t marker = line.size() - kFunction.size() - 1;
  if (marker < after_type || (line[marker] != '#' && line[marker] != '%' && line[marker] != '@')) {
    return false;
  }
  size_t comma = marker;
  while (comma > after_type && isBlankChar(line[comma - 1])) {
    --comma;
  }
  return comma > after_type && line[comma - 1] == ',';
}

bool matchesProcName(std::string_view line, size_t after_proc) {
  size_t i = skipBlanks(line, after_proc);
  if (i == after_proc || i >= line.size() || !isSymbolStart(line[i])) {
    return false;
  }
  size_t end = skipSymbolChars(line, i + 1);
  return end < line.size() && line[end] == ':';
}

// The rest of a CUDA definition after ".entry"/".func": blanks, an optional "(...)" return
// list, a name and a '(' that ends the line.
bool matchesCudaTail(std::string_view line, size_t pos) {
  size_t i = skipBlanks(line, pos);
  if (i == pos || i >= line.size()) {
    return false;
  }
  if (line[i] == '(') {
    size_t close = line.find(')', i);
    if (close == std::string_view::npos) {
      return false;
    }
    i = skipBlanks(line, close + 1);
  }
  if (i >= line.size() || !(isSymbolStart(line[i]) || line[i] == '$')) {
    return false;
  }
  size_t end = skipSymbolChars(line, i + 1);
  return end + 1 == line.size() && line[end] == '(';
}

bool matchesCommentBody(std::string_view rest) {
  char c = rest[0];
  if (c == '#' || c == '@' || hasPrefixAt(rest, 0, "//")) {
    return true;
  }
  if (rest.size() >= 4 && hasPrefixAt(rest, 0, "/*") && rest.substr(rest.size() - 2) == "*/") {
    return true;
  }
  if (c != ';') {
    return false;
  }
  // ";" alone (or with blanks), ";x...", or ";;" followed by something that is not '#'.
  if (isBlankLine(rest.substr(1)) || rest[1] != ';') {
    return true;
  }
  size_t i = skipBlanks(rest, 2);
  return i < rest.size() && rest[i] != '#';
}

}  // namespace

namespace classify_detail {

std::optional<LabelDef> matchLabelDefSlow(std::string_view line) {
  // ".proc name:" (the first character of "proc"'s prefix is not checked).
  if (line.size() > 5 && (line[1] | 0x20) == 'p' && iequalsAscii(line.substr(1, 4), "proc") &&
      isBlankChar(line[5])) {
    if (auto def = matchLabelAt(line, skipBlanks(line, 5))) {
      return def;
    }
  }
  return matchLabelAt(line, 0);
}

}  // namespace classify_detail

std::optional<Assignment> matchAssignment(std::string_view line) {
  if (findByte(line, 0, '=') == std::string_view::npos) {
    return std::nullopt;
  }
  size_t i = skipBlanks(line, 0);
  if (i >= line.size() || !(isSymbolStart(line[i]) || line[i] == '$')) {
    return std::nullopt;
  }
  size_t name_end = skipSymbolChars(line, i + 1);
  size_t eq = skipBlanks(line, name_end);
  if (eq >= line.size() || line[eq] != '=') {
    return std::nullopt;
  }
  size_t value = skipBlanks(line, eq + 1);
  return Assignment{line.substr(i, name_end - i), line.substr(value)};
}

std::optional<std::string_view> matchSetDef(std::string_view line) {
  size_t i = afterDirective(line, "set");
  if (i == std::string_view::npos || i >= line.size() || !isBlankChar(line[i])) {
    return std::nullopt;
  }
  size_t name_start = skipBlanks(line, i);
  size_t name_end = symbolEnd(line, name_start, false);
  if (name_end == std::string_view::npos) {
    return std::nullopt;
  }
  size_t comma = skipBlanks(line, name_end);
  if (comma >= line.size() || line[comma] != ',') {
    return std::nullopt;
  }
  size_t other = skipBlanks(line, comma + 1);
  size_t other_end = symbolEnd(line, other, false);
  // ".set x, ." is an alias, not a second name.
  if (other_end == std::string_view::npos || line.substr(other, other_end - other) == ".") {
    return std::nullopt;
  }
  if (skipBlanks(line, other_end) != line.size()) {
    return std::nullopt;
  }
  return line.substr(name_start, name_end - name_start);
}

std::optional<std::string_view> matchAlias(std::string_view line) {
  size_t i = afterDirective(line, "set");
  if (i == std::string_view::npos) {
    return std::nullopt;
  }
  size_t name_start = skipBlanks(line, i);
  size_t name_end = symbolEnd(line, name_start, false);
  if (name_end == std::string_view::npos) {
    return std::nullopt;
  }
  // The reference keeps the blanks before the comma as part of the name.
  size_t comma = skipBlanks(line, name_end);
  if (comma >= line.size() || line[comma] != ',') {
    return std::nullopt;
  }
  size_t dot = skipBlanks(line, comma + 1);
  if (dot >= line.size() || line[dot] != '.') {
    return std::nullopt;
  }
  size_t rest = skipBlanks(line, dot + 1);
  if (rest < line.size() && line[rest] == '+') {
    rest = skipBlanks(line, rest + 1);
    if (rest >= line.size() || line[rest] != '0') {
      return std::nullopt;
    }
    ++rest;
  }
  if (rest != line.size()) {
    return std::nullopt;
  }
  return line.substr(name_start, comma - name_start);
}

std::optional<std::string_view> matchGlobalOrWeak(std::string_view line) {
  static constexpr std::array<std::string_view, 6> kKeywords = {"global", "globl",   "GLB",
                                                                "export", "weakext", "weak"};
  size_t i = skipBlanks(line, 0);
  if (i + 1 >= line.size() || line[i] != '.') {
    return std::nullopt;
  }
  char c = line[i + 1];
  if (c != 'g' && c != 'G' && c != 'e' && c != 'w') {
    return std::nullopt;
  }
  for (std::string_view keyword : kKeywords) {
    if (!hasPrefixAt(line, i + 1, keyword)) {
      continue;
    }
    size_t name_start = skipBlanks(line, i + 1 + keyword.size());
    size_t name_end = symbolEnd(line, name_start, false);
    if (name_end != std::string_view::npos) {
      return line.substr(name_start, name_end - name_start);
    }
  }
  return std::nullopt;
}

bool definesFunction(std::string_view line) {
  size_t after_type = afterDirective(line, "type");
  if (after_type != std::string_view::npos && matchesTypeFunction(line, after_type)) {
    return true;
  }
  size_t after_proc = afterDirective(line, "proc");
  return after_proc != std::string_view::npos && matchesProcName(line, after_proc);
}

namespace classify_detail {

std::optional<CudaBegin> matchCudaBeginSlow(std::string_view line) {
  for (size_t dot = line.find('.'); dot != std::string_view::npos; dot = line.find('.', dot + 1)) {
    for (std::string_view keyword : {std::string_view("entry"), std::string_view("func")}) {
      if (hasPrefixAt(line, dot + 1, keyword) && matchesCudaTail(line, dot + 1 + keyword.size())) {
        return CudaBegin{line.substr(dot + 1, keyword.size()), dot};
      }
    }
  }
  return std::nullopt;
}

}  // namespace classify_detail

bool isCudaEnd(std::string_view line) {
  return trimBlanks(line) == ")";
}

bool isDirective(std::string_view line) {
  size_t i = skipBlanks(line, 0);
  return i < line.size() && line[i] == '.';
}

bool isDataDefinition(std::string_view line) {
  size_t i = skipBlanks(line, 0);
  if (i + 1 >= line.size() || line[i] != '.') {
    return false;
  }
  // The prefixes may run past the name ("string" matches ".string16"), never past the line.
  return isDataDirectiveName(line.substr(i + 1));
}

bool isDataDirectiveName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  // Dispatch on the first letter; the names are matched as prefixes.
  switch (name[0]) {
    case '1':
    case '2':
    case '4':
    case '8':
      return hasPrefixAt(name, 1, "byte");
    case 'a':
      return hasPrefixAt(name, 0, "ascii") || hasPrefixAt(name, 0, "asciz");
    case 'b':
      return hasPrefixAt(name, 0, "byte") || hasPrefixAt(name, 0, "base64");
    case 'd':
      return hasPrefixAt(name, 0, "dc") || hasPrefixAt(name, 0, "ds") ||
             hasPrefixAt(name, 0, "double") || hasPrefixAt(name, 0, "dword");
    case 'f':
      return hasPrefixAt(name, 0, "fill") || hasPrefixAt(name, 0, "float");
    case 'h':
      return hasPrefixAt(name, 0, "half") || hasPrefixAt(name, 0, "hword");
    case 'i':
      return hasPrefixAt(name, 0, "int");
    case 'l':
      return hasPrefixAt(name, 0, "long");
    case 'o':
      return hasPrefixAt(name, 0, "octa");
    case 'q':
      return hasPrefixAt(name, 0, "quad");
    case 's':
      return hasPrefixAt(name, 0, "string") || hasPrefixAt(name, 0, "short") ||
             hasPrefixAt(name, 0, "single") || hasPrefixAt(name, 0, "skip") ||
             hasPrefixAt(name, 0, "space");
    case 'v':
      return hasPrefixAt(name, 0, "value");
    case 'w':
      return hasPrefixAt(name, 0, "word");
    case 'x':
      return hasPrefixAt(name, 0, "xword");
    case 'z':
      return hasPrefixAt(name, 0, "zero");
    default:
      return false;
  }
}

bool hasInstDirective(std::string_view line) {
  return line.find(".inst") != std::string_view::npos;
}

bool hasOpcode(std::string_view line, bool in_nvcc_code) {
  if (auto label = matchLabelDef(line)) {
    line = line.substr(label->end);
  }
  size_t first = skipBlanks(line, 0);
  if (first < line.size() && line[first] == '.') {
    // A directive: only ".inst" emits an instruction.
    return hasInstDirective(beforeComment(line));
  }
  line = beforeComment(line);
  if (hasInstDirective(line)) {
    return true;
  }
  if (matchAssignment(line) || matchSetDef(line)) {
    return false;
  }
  size_t i = skipBlanks(line, 0);
  if (i >= line.size()) {
    return false;
  }
  if (in_nvcc_code) {
    return isAsciiAlpha(line[i]) || line[i] == '@' || line[i] == '|';
  }
  // LLVM-style "%name = opcode".
  if (line[i] == '%' && i + 1 < line.size() && (isSymbolStart(line[i + 1]) || line[i + 1] == '$')) {
    size_t eq = skipBlanks(line, skipSymbolChars(line, i + 2));
    if (eq < line.size() && line[eq] == '=') {
      size_t op = skipBlanks(line, eq + 1);
      return op < line.size() && isAsciiAlpha(line[op]);
    }
  }
  return isAsciiAlpha(line[i]);
}

bool isCommentOnly(std::string_view line) {
  size_t i = skipBlanks(line, 0);
  return i < line.size() && matchesCommentBody(line.substr(i));
}

bool isCommentOnlyNvcc(std::string_view line) {
  size_t i = skipBlanks(line, 0);
  if (i >= line.size()) {
    return false;
  }
  std::string_view rest = line.substr(i);
  if (rest[0] == '#' || rest[0] == ';' || hasPrefixAt(rest, 0, "//")) {
    return true;
  }
  return rest.size() >= 4 && hasPrefixAt(rest, 0, "/*") && rest.substr(rest.size() - 2) == "*/";
}

AppBlockMark appBlockMark(std::string_view line) {
  std::string_view t = trimBlanks(line);
  if (t.empty() || t[0] != '#') {
    return AppBlockMark::None;
  }
  if (hasPrefixAt(t, 0, "#APP") || hasPrefixAt(t, 0, "# Begin ASM")) {
    return AppBlockMark::Begin;
  }
  if (hasPrefixAt(t, 0, "#NO_APP") || hasPrefixAt(t, 0, "# End ASM")) {
    return AppBlockMark::End;
  }
  return AppBlockMark::None;
}

namespace {

// Records what the keyword at `at` (just after a dot) marks.
void markBlockKeyword(std::string_view line, size_t at, BlockMarks* marks) {
  switch (line[at]) {
    case 'c':
      marks->start_proc |= hasPrefixAt(line, at, "cfi_startproc");
      marks->end_proc |= hasPrefixAt(line, at, "cfi_endproc");
      break;
    case 't':
      marks->section |= hasPrefixAt(line, at, "text");
      break;
    case 'd':
      marks->section |= hasPrefixAt(line, at, "data");
      break;
    case 's':
      marks->section |= hasPrefixAt(line, at, "section");
      break;
    case 'i':
      marks->inst |= hasPrefixAt(line, at, "inst");
      break;
    default:
      break;
  }
}

// Records what the keyword after the '.' at `dot` marks. Most dots start other names, so the
// letter after the dot is looked up in a bit set of the keywords' first letters before
// anything is called.
inline void markKeywordAfterDot(std::string_view line, size_t dot, BlockMarks* marks) {
  constexpr uint32_t kFirstLetters = 1u << ('c' - 'a') | 1u << ('d' - 'a') | 1u << ('i' - 'a') |
                                     1u << ('s' - 'a') | 1u << ('t' - 'a');
  unsigned letter = dot + 1 < line.size() ? static_cast<unsigned char>(line[dot + 1]) - 'a' : 26;
  if (letter < 26 && ((kFirstLetters >> letter) & 1) != 0) {
    markBlockKeyword(line, dot + 1, marks);
  }
}

}  // namespace

BlockMarks blockMarks(std::string_view line, size_t readable) {
  BlockMarks marks;
  size_t pos = 0;
  // Whole chunks while they are readable, masked to the line; each dot in turn.
  for (; pos < line.size() && pos + 16 <= readable; pos += 16) {
    uint32_t in_line = pos + 16 <= line.size() ? 0xFFFF : (1u << (line.size() - pos)) - 1;
    marks.equals |= (matchMask16(line.data() + pos, '=') & in_line) != 0;
    for (uint32_t dots = matchMask16(line.data() + pos, '.') & in_line; dots != 0;
         dots &= dots - 1) {
      markKeywordAfterDot(line, pos + static_cast<size_t>(__builtin_ctz(dots)), &marks);
    }
  }
  // The last bytes of a text, one at a time.
  for (; pos < line.size(); ++pos) {
    marks.equals |= line[pos] == '=';
    if (line[pos] == '.') {
      markKeywordAfterDot(line, pos, &marks);
    }
  }
  return marks;
}

std::string_view fixLabelIndentation(std::string_view line) {
  size_t i = skipBlanks(line, 0);
  if (i == 0) {
    return line;
  }
  size_t end = symbolEnd(line, i, true);
  if (end == std::string_view::npos || end >= line.size() || line[end] != ':') {
    return line;
  }
  return line.substr(i);
}

bool isDollarLabelLine(std::string_view line) {
  if (line.size() < 3 || line[0] != '$') {
    return false;
  }
  size_t end = skipSymbolChars(line, 1);
  return end > 1 && end < line.size() && line[end] == ':';
}

// Where the operand symbol at `i` ends (an optional '"' on either side included), or npos.
// "$.LC0" is an immediate of .LC0, so a '$' before a '.' starts nothing.
size_t operandSymbolEnd(std::string_view code, size_t i) {
  size_t first = code[i] == '"' ? i + 1 : i;
  if (first >= code.size()) {
    return std::string_view::npos;
  }
  char c = code[first];
  bool dollar_dot = c == '$' && first + 1 < code.size() && code[first + 1] == '.';
  if (!(isSymbolStart(c) || c == '@' || (c == '$' && !(dollar_dot && first == i)))) {
    return std::string_view::npos;
  }
  size_t end = skipSymbolChars(code, first + 1);
  return end < code.size() && code[end] == '"' ? end + 1 : end;
}

void collectOperandRefs(std::string_view text, std::vector<OperandRef>* refs) {
  refs->clear();
  std::string_view code = beforeComment(text);
  size_t i = skipBlanks(code, 0);
  while (i < code.size() && isAsciiAlpha(code[i])) {
    ++i;
  }
  while (i < code.size()) {
    size_t end = operandSymbolEnd(code, i);
    if (end == std::string_view::npos) {
      ++i;
      continue;
    }
    size_t full_end = end;
    while (full_end + 1 < code.size() && code[full_end] == '@' && isWordChar(code[full_end + 1])) {
      full_end += 2;
      while (full_end < code.size() && isWordChar(code[full_end])) {
        ++full_end;
      }
    }
    refs->push_back(OperandRef{i, code.substr(i, full_end - i), code.substr(i, end - i)});
    i = full_end;
  }
}

}  // namespace cex

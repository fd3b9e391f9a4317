#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>

#include "asm/asm_text.h"
#include "asm/dialect_parsers.h"
#include "asm/line_reader.h"

namespace cex {

namespace {

bool isHexDigit(char c) {
  return isDigitChar(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// ca65 shows not-yet-relocated bytes as "rr" and reserved ones as "xx".
bool isListingByte(char c) {
  return isHexDigit(c) || c == 'r' || c == 'x';
}

// One "AAAAAAr D  BB BB  source" line of a ca65 listing.
struct Ca65Line {
  std::string_view address;  // without the relocation mark
  std::string_view bytes;    // trimmed; may be empty
  std::string_view source;
};

std::optional<Ca65Line> readCa65Line(std::string_view line) {
  Ca65Line out;
  if (line.size() < 6 || !std::all_of(line.begin(), line.begin() + 6, isHexDigit)) {
    return std::nullopt;
  }
  out.address = line.substr(0, 6);
  size_t i = line.size() > 6 && line[6] == 'r' ? 7 : 6;
  size_t depth = skipBlanks(line, i);
  size_t depth_end = depth;
  while (depth_end < line.size() && isDigitChar(line[depth_end])) {
    ++depth_end;
  }
  if (depth == i || depth_end == depth || depth_end + 2 > line.size() ||
      !isBlankChar(line[depth_end]) || !isBlankChar(line[depth_end + 1])) {
    return std::nullopt;
  }
  // Bytes: pairs each followed by one blank.
  size_t pos = depth_end + 2;
  size_t bytes_start = pos;
  while (pos + 2 < line.size() && isListingByte(line[pos]) && isListingByte(line[pos + 1]) &&
         isBlankChar(line[pos + 2])) {
    pos += 3;
  }
  out.bytes = trimBlanks(line.substr(bytes_start, pos - bytes_start));
  out.source = line.substr(skipBlanks(line, pos));
  return out;
}

std::string padRightTo(std::string_view s, size_t width) {
  std::string out(s);
  if (out.size() < width) {
    out.append(width - out.size(), ' ');
  }
  return out;
}

bool isUpperHex(char c) {
  return isDigitChar(c) || (c >= 'A' && c <= 'F');
}

// "Lxxxx" (four upper-case hex digits) at `i`.
bool isCc65LabelAt(std::string_view text, size_t i) {
  return i + 5 <= text.size() && text[i] == 'L' &&
         std::all_of(text.begin() + i + 1, text.begin() + i + 5, isUpperHex);
}

// The first "Lxxxx" at or after `from` for which `also(end)` holds; npos when none.
template <typename Pred>
size_t findCc65Label(std::string_view text, Pred also, size_t from = 0) {
  for (size_t i = text.find('L', from); i != std::string_view::npos; i = text.find('L', i + 1)) {
    if (isCc65LabelAt(text, i) && also(i + 5)) {
      return i;
    }
  }
  return std::string_view::npos;
}

size_t findCc65Label(std::string_view text) {
  return findCc65Label(text, [](size_t) { return true; });
}

// The first "Lxxxx" of `asm_text` as a label reference, columns shifted by `offset`.
void addCc65LabelRef(std::string_view asm_text, int offset, AsmLine* out) {
  size_t at = findCc65Label(asm_text);
  if (at == std::string_view::npos) {
    out->has_labels_key = false;
    return;
  }
  AsmLabelRef& ref = out->labels.emplace_back();
  ref.name = std::string(asm_text.substr(at, 5));
  ref.start_col = static_cast<int>(at) + offset;
  ref.end_col = ref.start_col + 5;
}

AsmLine textOnly(std::string text) {
  AsmLine line;
  line.text = std::move(text);
  line.has_source_key = false;
  line.has_labels_key = false;
  return line;
}

// The da65 line kinds, tried in order.
class Cc65Parser {
 public:
  explicit Cc65Parser(const AsmFilters& filters) : filters_(filters) {}

  ParsedAsm parse(std::string_view listing);

 private:
  bool labelAssignment(std::string_view line);
  bool labelWithCode(std::string_view line);
  bool codeOnly(std::string_view line);
  void define(std::string_view label);

  const AsmFilters& filters_;
  ParsedAsm result_;
  // Label -> slot in result_.label_definitions.
  std::unordered_map<std::string, size_t> slots_;
};

ParsedAsm Cc65Parser::parse(std::string_view listing) {
  LineReader reader(listing);
  std::string_view line;
  while (reader.next(&line)) {
    if (line.size() >= 2 && line[0] == ';' && isBlankChar(line[1])) {
      if (!filters_.comment_only) {
        result_.lines.push_back(textOnly(std::string(line)));
      }
      continue;
    }
    if (!labelAssignment(line) && !labelWithCode(line)) {
      codeOnly(line);
    }
  }
  return std::move(result_);
}

void Cc65Parser::define(std::string_view label) {
  // The reference records the index one past the label's line.
  int index = static_cast<int>(result_.lines.size()) + 1;
  auto [slot, inserted] = slots_.try_emplace(std::string(label), result_.label_definitions.size());
  if (inserted) {
    result_.label_definitions.emplace_back(std::string(label), index);
  } else {
    result_.label_definitions[slot->second].second = index;
  }
}

// "L0034           := $0034"
bool Cc65Parser::labelAssignment(std::string_view line) {
  auto value_at = [&](size_t end) {
    size_t op = skipBlanks(line, end);
    return line.compare(op, 2, ":=") == 0 && op + 8 <= line.size() && isBlankChar(line[op + 2]) &&
                   line[op + 3] == '$' &&
                   std::all_of(line.begin() + op + 4, line.begin() + op + 8, isUpperHex)
               ? op + 3
               : std::string_view::npos;
  };
  size_t at =
      findCc65Label(line, [&](size_t end) { return value_at(end) != std::string_view::npos; });
  if (at == std::string_view::npos) {
    return false;
  }
  std::string_view value = line.substr(value_at(at + 5), 5);
  std::string_view label = line.substr(at, 5);
  result_.lines.push_back(textOnly(std::string(label) + " := " + std::string(value)));
  define(label);
  return true;
}

// "L8000:  lda     #$00"
bool Cc65Parser::labelWithCode(std::string_view line) {
  size_t at =
      findCc65Label(line, [&](size_t end) { return end < line.size() && line[end] == ':'; });
  if (at == std::string_view::npos) {
    return false;
  }
  std::string_view label = line.substr(at, 5);
  std::string_view code = line.substr(skipBlanks(line, at + 6));
  if (filters_.directives && !code.empty() && code[0] == '.') {
    return true;
  }
  AsmLine& def = result_.lines.emplace_back(textOnly(std::string(label) + ":"));
  unsigned value = 0;
  for (char c : label.substr(1)) {
    value = value * 16 + static_cast<unsigned>(isDigitChar(c) ? c - '0' : c - 'A' + 10);
  }
  def.address = value;
  define(label);
  AsmLine& out = result_.lines.emplace_back(textOnly("  " + std::string(code)));
  out.has_labels_key = true;
  addCc65LabelRef(code, 3, &out);
  return true;
}

// Eight blanks of indent, then code or a directive.
bool Cc65Parser::codeOnly(std::string_view line) {
  if (line.size() < 9 || skipBlanks(line, 0) < 8) {
    return false;
  }
  std::string_view code = line.substr(8);
  size_t word_end = 0;
  while (word_end < code.size() && (isAsciiAlpha(code[word_end]) || code[word_end] == '.')) {
    ++word_end;
  }
  if (word_end == 0) {
    return false;
  }
  if (filters_.directives && code[0] == '.') {
    return true;
  }
  AsmLine& out = result_.lines.emplace_back(textOnly("  " + std::string(code)));
  out.has_labels_key = true;
  addCc65LabelRef(code, 3, &out);
  return true;
}

}  // namespace

ParsedAsm parseCa65Listing(std::string_view listing) {
  ParsedAsm result;
  result.has_label_definitions = false;
  LineReader reader(listing);
  std::string_view line;
  while (reader.next(&line)) {
    auto entry = readCa65Line(line);
    if (!entry || (entry->bytes.empty() && entry->source.empty())) {
      continue;
    }
    std::string text = entry->bytes.empty()
                           ? std::string(21, ' ') + std::string(entry->source)
                           : std::string(entry->address) + ": " + padRightTo(entry->bytes, 12) +
                                 " " + std::string(entry->source);
    result.lines.push_back(textOnly(std::move(text)));
  }
  return result;
}

ParsedAsm parseCc65Disassembly(std::string_view listing, const AsmFilters& filters) {
  return Cc65Parser(filters).parse(listing);
}

}  // namespace cex

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "asm/asm_parser.h"
#include "asm/asm_text.h"

namespace cex {

namespace {

// Notes the reference demangler adds to constructor and destructor variants, which the
// demangled text alone does not tell apart.
std::string_view variantNote(std::string_view symbol) {
  static constexpr std::pair<std::string_view, std::string_view> kDestructors[] = {
      {"D0Ev", " [deleting destructor]"},
      {"D1Ev", " [complete object destructor]"},
      {"D2Ev", " [base object destructor]"}};
  for (const auto& [suffix, note] : kDestructors) {
    if (symbol.size() >= suffix.size() && symbol.substr(symbol.size() - suffix.size()) == suffix) {
      return note;
    }
  }
  // "C1E", "C2E", "C3E" followed only by symbol characters up to the end.
  static constexpr std::string_view kConstructors[] = {" [complete object constructor]",
                                                       " [base object constructor]",
                                                       " [complete object allocating constructor]"};
  for (size_t at = symbol.find('C'); at != std::string_view::npos; at = symbol.find('C', at + 1)) {
    if (at + 2 < symbol.size() && symbol[at + 1] >= '1' && symbol[at + 1] <= '3' &&
        symbol[at + 2] == 'E' &&
        symbol.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$",
                                 at + 3) == std::string_view::npos) {
      return kConstructors[symbol[at + 1] - '1'];
    }
  }
  return {};
}

// Demangles Itanium C++ symbols with the C++ runtime, or with answers an external demangler
// gave, and remembers the answers.
class Demangler {
 public:
  explicit Demangler(const DemangledNames* external) : external_(external) {}

  // The readable form of `symbol`, or nullptr when it is not a mangled name.
  const std::string* demangle(std::string_view symbol) {
    auto [it, inserted] = cache_.try_emplace(std::string(symbol));
    if (inserted) {
      it->second = compute(symbol);
    }
    return it->second ? &*it->second : nullptr;
  }

 private:
  std::optional<std::string> compute(std::string_view symbol) const {
    // Mach-O symbols carry an extra leading underscore.
    std::string name(symbol.substr(0, 3) == "__Z" ? symbol.substr(1) : symbol);
    if (external_ != nullptr) {
      auto it = external_->find(std::string(symbol));
      if (it == external_->end() || it->second == symbol) {
        return std::nullopt;  // The demangler left it as it was: not a mangled name.
      }
      return it->second + std::string(variantNote(name));
    }
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> out(
        abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status), &std::free);
    if (status != 0 || !out) {
      return std::nullopt;
    }
    return std::string(out.get()) + std::string(variantNote(name));
  }

  const DemangledNames* external_;
  std::unordered_map<std::string, std::optional<std::string>> cache_;
};

bool isMangledStart(std::string_view token) {
  return token.substr(0, 2) == "_Z" || token.substr(0, 3) == "__Z";
}

// One replaced symbol of a line: bytes [start, end) of the old text became `replacement`.
struct Edit {
  size_t start = 0;
  size_t end = 0;
  const std::string* replacement = nullptr;
};

// The longest mangled prefix of `token` (the whole token, or the token cut before one of
// its dots) and its readable form.
std::optional<std::pair<size_t, const std::string*>> demangleToken(std::string_view token,
                                                                   Demangler* demangler) {
  size_t length = token.size();
  while (true) {
    if (const std::string* readable = demangler->demangle(token.substr(0, length))) {
      return std::make_pair(length, readable);
    }
    size_t dot = token.rfind('.', length - 1);
    if (dot == std::string_view::npos || dot < 3) {
      return std::nullopt;
    }
    length = dot;
  }
}

// Finds the mangled symbols of `text`; symbols are maximal runs of [\w$.].
std::vector<Edit> findEdits(std::string_view text, Demangler* demangler) {
  std::vector<Edit> edits;
  size_t i = 0;
  while (i < text.size()) {
    if (!isSymbolChar(text[i])) {
      ++i;
      continue;
    }
    size_t end = skipSymbolChars(text, i);
    std::string_view token = text.substr(i, end - i);
    if (isMangledStart(token)) {
      if (auto found = demangleToken(token, demangler)) {
        edits.push_back(Edit{i, i + found->first, found->second});
      }
    }
    i = end;
  }
  return edits;
}

// Byte offset of the 1-based UTF-16 column `col` in `text`.
size_t byteOffsetOfColumn(std::string_view text, int col) {
  size_t units = 0;
  size_t i = 0;
  while (i < text.size() && units + 1 < static_cast<size_t>(col)) {
    auto c = static_cast<unsigned char>(text[i]);
    ++i;
    if (c < 0x80 || c >= 0xC0) {
      units += c >= 0xF0 ? 2 : 1;
    }
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) {
      ++i;
    }
  }
  return i;
}

// Moves one label reference to the new text: its name is demangled the way the text was.
void remapLabel(std::string_view old_text, std::string_view new_text,
                const std::vector<Edit>& edits, AsmLabelRef* label) {
  size_t old_start = byteOffsetOfColumn(old_text, label->start_col);
  size_t new_start = old_start;
  for (const Edit& edit : edits) {
    if (edit.end <= old_start) {
      new_start = new_start + edit.replacement->size() - (edit.end - edit.start);
    } else if (edit.start == old_start) {
      // The label is this symbol (plus any @suffix after it).
      std::string_view target = label->target ? *label->target : label->name;
      std::string suffix = label->name.substr(std::min(label->name.size(), edit.end - edit.start));
      if (target.size() == edit.end - edit.start) {
        label->target.reset();
        if (label->name.size() != target.size()) {
          label->target = *edit.replacement;
        }
        label->name = *edit.replacement + suffix;
      }
    }
  }
  label->start_col = static_cast<int>(utf16Length(new_text.substr(0, new_start))) + 1;
  label->end_col = label->start_col + static_cast<int>(utf16Length(label->name));
}

void demangleLine(AsmLine* line, Demangler* demangler) {
  if (line->text.find("_Z") == std::string::npos) {
    return;
  }
  std::vector<Edit> edits = findEdits(line->text, demangler);
  if (edits.empty()) {
    return;
  }
  std::string rebuilt;
  size_t copied = 0;
  for (const Edit& edit : edits) {
    rebuilt.append(line->text, copied, edit.start - copied);
    rebuilt.append(*edit.replacement);
    copied = edit.end;
  }
  rebuilt.append(line->text, copied);
  for (AsmLabelRef& label : line->labels) {
    remapLabel(line->text, rebuilt, edits, &label);
  }
  line->text = std::move(rebuilt);
}

}  // namespace

namespace {

// A mangled token and every shorter form demangleToken may try (cut before a dot).
void addCandidates(std::string_view token, std::vector<std::string>* out) {
  size_t length = token.size();
  while (true) {
    out->emplace_back(token.substr(0, length));
    size_t dot = token.rfind('.', length - 1);
    if (dot == std::string_view::npos || dot < 3) {
      return;
    }
    length = dot;
  }
}

void addTokensOf(std::string_view text, std::vector<std::string>* out) {
  size_t i = 0;
  while (i < text.size()) {
    if (!isSymbolChar(text[i])) {
      ++i;
      continue;
    }
    size_t end = skipSymbolChars(text, i);
    std::string_view token = text.substr(i, end - i);
    if (isMangledStart(token)) {
      addCandidates(token, out);
    }
    i = end;
  }
}

}  // namespace

std::vector<std::string> mangledSymbols(const ParsedAsm& parsed) {
  std::vector<std::string> symbols;
  for (const AsmLine& line : parsed.lines) {
    if (line.text.find("_Z") != std::string::npos) {
      addTokensOf(line.text, &symbols);
    }
  }
  for (const auto& [name, index] : parsed.label_definitions) {
    addTokensOf(name, &symbols);
  }
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
  return symbols;
}

void demangleAsm(ParsedAsm* parsed, const DemangledNames* external) {
  Demangler demangler(external);
  for (AsmLine& line : parsed->lines) {
    demangleLine(&line, &demangler);
  }
  for (auto& [name, index] : parsed->label_definitions) {
    if (!isMangledStart(name)) {
      continue;
    }
    if (auto found = demangleToken(name, &demangler)) {
      name = *found->second + name.substr(found->first);
    }
  }
}

}  // namespace cex

#include "compile/diagnostics.h"

#include <cctype>
#include <optional>

#include "base/strings.h"

namespace cex {

namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool isWordOrDot(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

// Reads a run of digits at `i`; returns false if there is none.
bool readNumber(std::string_view s, size_t* i, int* value) {
  size_t start = *i;
  int v = 0;
  while (*i < s.size() && isDigit(s[*i])) {
    v = v * 10 + (s[*i] - '0');
    if (v > 100000000) {
      v = 100000000;  // Absurd positions are clamped rather than overflowing.
    }
    ++*i;
  }
  *value = v;
  return *i > start;
}

// Reads the optional column part after the line number: an optional ':' and ',', then digits,
// then an optional ':'. Leaves `i` untouched when no digits follow.
int readColumn(std::string_view s, size_t* i) {
  size_t j = *i;
  if (j < s.size() && s[j] == ':') {
    ++j;
  }
  if (j < s.size() && s[j] == ',') {
    ++j;
  }
  int column = 0;
  if (!readNumber(s, &j, &column)) {
    return 0;
  }
  if (j < s.size() && s[j] == ':') {
    ++j;
  }
  *i = j;
  return column;
}

int severityOf(std::string_view message) {
  if (message.starts_with("warning")) {
    return 2;
  }
  if (message.starts_with("note")) {
    return 1;
  }
  return 3;
}

// Matches "<file>(:|()<line>[[:][,]<col>[:]][):]* <message>" after leading blanks, where
// <file> is "<source>" or a name of word characters and dots.
std::optional<LineTag> matchPosition(std::string_view plain, const OutputMasking& masking) {
  size_t i = 0;
  while (i < plain.size() && isSpace(plain[i])) {
    ++i;
  }
  LineTag tag;
  if (plain.substr(i).starts_with("<source>")) {
    i += 8;
    tag.file = masking.input_filename;
  } else {
    size_t start = i;
    while (i < plain.size() && isWordOrDot(plain[i])) {
      ++i;
    }
    tag.file = std::string(plain.substr(start, i - start));
  }
  if (i >= plain.size() || (plain[i] != ':' && plain[i] != '(')) {
    return std::nullopt;
  }
  ++i;
  if (!readNumber(plain, &i, &tag.line)) {
    return std::nullopt;
  }
  tag.column = readColumn(plain, &i);
  while (i < plain.size() && (plain[i] == ')' || plain[i] == ':')) {
    ++i;
  }
  tag.text = std::string(trim(plain.substr(i)));
  tag.severity = severityOf(tag.text);
  return tag;
}

template <typename F>
void forEachLine(std::string_view text, F&& f) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    f(line);
    start = end + 1;
  }
}

}  // namespace

std::string stripAnsi(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
      // CSI: parameters and intermediates, then one final byte in @..~.
      size_t j = i + 2;
      while (j < text.size() && (text[j] < 0x40 || text[j] > 0x7e)) {
        ++j;
      }
      i = j + 1;
      continue;
    }
    out.push_back(text[i++]);
  }
  return out;
}

std::string maskOutputLine(std::string_view line, const OutputMasking& masking) {
  std::string out(line);
  if (!masking.input_path.empty() && out.find(masking.input_path) != std::string::npos) {
    out = replaceAll(out, masking.input_path, "<source>");
  }
  if (!masking.dir.empty() && out.find(masking.dir) != std::string::npos) {
    out = replaceAll(out, masking.dir + "/", "");
    out = replaceAll(out, masking.dir, ".");
  }
  return out;
}

std::vector<ResultLine> parseCompilerOutput(std::string_view output, const OutputMasking& masking) {
  std::vector<ResultLine> lines;
  forEachLine(output, [&](std::string_view raw) {
    ResultLine line;
    line.text = maskOutputLine(raw, masking);
    line.tag = matchPosition(stripAnsi(line.text), masking);
    lines.push_back(std::move(line));
  });
  return lines;
}

std::vector<ResultLine> splitOutputLines(std::string_view output) {
  std::vector<ResultLine> lines;
  forEachLine(output, [&](std::string_view raw) { lines.push_back({std::string(raw), {}}); });
  return lines;
}

}  // namespace cex

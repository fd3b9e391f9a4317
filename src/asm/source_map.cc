#include "asm/source_map.h"

#include "asm/asm_text.h"

namespace cex {

namespace {

constexpr std::string_view kCeTempDir = "/tmp/compiler-explorer-compiler";

// Skips one or more blanks; false when there are none.
bool readBlanks(std::string_view s, size_t* pos) {
  size_t i = skipBlanks(s, *pos);
  if (i == *pos) {
    return false;
  }
  *pos = i;
  return true;
}

bool readLiteral(std::string_view s, size_t* pos, std::string_view literal) {
  if (!hasPrefixAt(s, *pos, literal)) {
    return false;
  }
  *pos += literal.size();
  return true;
}

// A non-empty double-quoted string without escapes; returns its contents.
bool readQuoted(std::string_view s, size_t* pos, std::string_view* contents) {
  if (*pos >= s.size() || s[*pos] != '"') {
    return false;
  }
  size_t close = s.find('"', *pos + 1);
  if (close == std::string_view::npos || close == *pos + 1) {
    return false;
  }
  *contents = s.substr(*pos + 1, close - *pos - 1);
  *pos = close + 1;
  return true;
}

// Leading integer of `s` the way parseInt reads it (sign, digits); nullopt when none.
std::optional<int64_t> leadingInteger(std::string_view s) {
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    negative = s[i] == '-';
    ++i;
  }
  int64_t value = 0;
  if (!readDecimal(s, &i, &value)) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

SourceDirective setTo(AsmSource source) {
  SourceDirective d;
  d.effect = SourceEffect::Set;
  d.source = std::move(source);
  return d;
}

// What makeSource builds for the file's masked name, sharing the name.
AsmSource sourceIn(const SourceFileTable::File& file, int line, bool dont_mask) {
  AsmSource source;
  source.line = line;
  if (dont_mask) {
    source.file = file.masked;
    source.mainsource = file.main;
  } else if (!file.main) {
    source.file = file.masked;
  }
  return source;
}

SourceDirective fileSource(const SourceFileTable& files, int64_t file, int64_t line,
                           std::optional<int64_t> column, bool dont_mask) {
  const SourceFileTable::File* known = files.find(file);
  if (known == nullptr) {
    return {};
  }
  AsmSource source = sourceIn(*known, clampToInt(line), dont_mask);
  if (column && *column != 0) {
    source.column = clampToInt(*column);
  }
  return setTo(std::move(source));
}

// .loc FILE LINE REST: REST must be present; its leading number is the column.
SourceDirective parseLoc(std::string_view line, size_t pos, const SourceFileTable& files,
                         bool dont_mask) {
  int64_t file = 0;
  int64_t number = 0;
  if (!readBlanks(line, &pos) || !readDecimal(line, &pos, &file) || !readBlanks(line, &pos) ||
      !readDecimal(line, &pos, &number) || !readBlanks(line, &pos)) {
    return {};
  }
  return fileSource(files, file, number, leadingInteger(line.substr(pos)), dont_mask);
}

// .cv_loc FUNCTION FILE LINE COLUMN.
SourceDirective parseCvLoc(std::string_view line, size_t pos, const SourceFileTable& files,
                           bool dont_mask) {
  int64_t values[4] = {};
  for (int64_t& value : values) {
    if (!readBlanks(line, &pos) || !readDecimal(line, &pos, &value)) {
      return {};
    }
  }
  // An unknown file gives no name, though with dont_mask it is still marked as not the main
  // one, like an empty path.
  const SourceFileTable::File* known = files.find(values[1]);
  AsmSource source = known != nullptr ? sourceIn(*known, clampToInt(values[2]), dont_mask)
                                      : makeSource({}, clampToInt(values[2]), dont_mask);
  if (known == nullptr) {
    source.file.reset();
  }
  if (values[3] != 0) {
    source.column = clampToInt(values[3]);
  }
  return setTo(std::move(source));
}

SourceDirective parseD2Line(std::string_view line, size_t pos) {
  int64_t number = 0;
  if (!readBlanks(line, &pos) || !readDecimal(line, &pos, &number)) {
    return {};
  }
  AsmSource source;
  source.line = clampToInt(number);
  return setTo(std::move(source));
}

// ca65: .dbg line, "file", LINE
SourceDirective parseDbgLine(std::string_view line, size_t pos, bool dont_mask) {
  std::string_view file;
  int64_t number = 0;
  if (!readBlanks(line, &pos) || !readLiteral(line, &pos, "line,")) {
    return {};
  }
  pos = skipBlanks(line, pos);
  if (!readQuoted(line, &pos, &file) || !readLiteral(line, &pos, ",")) {
    return {};
  }
  pos = skipBlanks(line, pos);
  if (!readDecimal(line, &pos, &number)) {
    return {};
  }
  return setTo(makeSource(maskRootDir(file), clampToInt(number), dont_mask));
}

// .stabn TYPE,0,LINE,...: N_SLINE (68) sets a line of the main file; N_SO (100) and N_SOL
// (132) start another file, so the current source is dropped.
SourceDirective parseStabn(std::string_view line, size_t pos) {
  int64_t type = 0;
  int64_t number = 0;
  if (!readBlanks(line, &pos) || !readDecimal(line, &pos, &type) ||
      !readLiteral(line, &pos, ",0,") || !readDecimal(line, &pos, &number) ||
      !readLiteral(line, &pos, ",")) {
    return {};
  }
  SourceDirective d;
  if (type == 68) {
    d.effect = SourceEffect::Set;
    d.source.line = clampToInt(number);
  } else if (type == 100 || type == 132) {
    d.effect = SourceEffect::Clear;
    d.resets_prev_label = true;
  }
  return d;
}

}  // namespace

void SourceFileTable::addIfFileDirective(std::string_view line) {
  size_t pos = skipBlanks(line, 0);
  if (!readLiteral(line, &pos, ".")) {
    return;
  }
  bool cv = readLiteral(line, &pos, "cv_");
  int64_t number = 0;
  std::string_view name;
  if (!readLiteral(line, &pos, "file") || !readBlanks(line, &pos) ||
      !readDecimal(line, &pos, &number) || !readBlanks(line, &pos) ||
      !readQuoted(line, &pos, &name)) {
    return;
  }
  // Clang's '.file N "dir" "name"' form; .cv_file's second string is a checksum.
  std::string_view file_name;
  size_t second = pos;
  bool has_second = readBlanks(line, &second) && readQuoted(line, &second, &file_name);
  std::string path;
  if (has_second && !cv && line.find(".cv_file") == std::string_view::npos) {
    path = file_name[0] == '/' ? std::string(file_name)
                               : std::string(name) + "/" + std::string(file_name);
  } else {
    path = std::string(name);
  }
  std::string_view masked = maskRootDir(path);
  File& file = files_[number];
  file.masked = masked.empty() ? AsmFileName() : AsmFileName(masked);
  file.main = isMainSourcePath(masked);
}

const SourceFileTable::File* SourceFileTable::find(int64_t number) const {
  auto it = files_.find(number);
  return it == files_.end() || !it->second.masked ? nullptr : &it->second;
}

std::string_view maskRootDir(std::string_view path) {
  if (hasPrefixAt(path, 0, kCeTempDir)) {
    size_t i = kCeTempDir.size();
    while (i < path.size() && (isWordChar(path[i]) || path[i] == '-' || path[i] == '.')) {
      ++i;
    }
    if (i < path.size() && path[i] == '/') {
      return path.substr(i + 1);
    }
  }
  if (hasPrefixAt(path, 0, "/app/")) {
    return path.substr(5);
  }
  return path;
}

bool isMainSourcePath(std::string_view path) {
  if (path == "-" || path.find("<stdin>") != std::string_view::npos ||
      path.find("<source>") != std::string_view::npos) {
    return true;
  }
  size_t slash = path.rfind('/');
  std::string_view tail = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t example = tail.find("example.");
  return example != std::string_view::npos && example + 8 < tail.size();
}

AsmSource makeSource(std::string_view path, int line, bool dont_mask_filenames) {
  AsmSource source;
  source.line = line;
  bool main = isMainSourcePath(path);
  if (dont_mask_filenames) {
    source.file = path;
    source.mainsource = main;
  } else if (!main) {
    source.file = path;
  }
  return source;
}

SourceDirective parseSourceDirective(std::string_view line, const SourceFileTable& files,
                                     bool dont_mask_filenames) {
  size_t pos = skipBlanks(line, 0);
  if (pos + 1 >= line.size() || line[pos] != '.') {
    return {};
  }
  ++pos;
  switch (line[pos]) {
    case 'l':
      return readLiteral(line, &pos, "loc") ? parseLoc(line, pos, files, dont_mask_filenames)
                                            : SourceDirective{};
    case 'c':
      return readLiteral(line, &pos, "cv_loc") ? parseCvLoc(line, pos, files, dont_mask_filenames)
                                               : SourceDirective{};
    case 'd':
      if (readLiteral(line, &pos, "d2line")) {
        return parseD2Line(line, pos);
      }
      return readLiteral(line, &pos, "dbg") ? parseDbgLine(line, pos, dont_mask_filenames)
                                            : SourceDirective{};
    case 's':
      return readLiteral(line, &pos, "stabn") ? parseStabn(line, pos) : SourceDirective{};
    default:
      return {};
  }
}

}  // namespace cex

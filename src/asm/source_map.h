#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "asm/asm_result.h"

namespace cex {

// Source file names by number, from ".file N "name"", ".file N "dir" "name"" and
// ".cv_file N "name" ..." directives. Later directives for a number replace earlier ones.
class SourceFileTable {
 public:
  // A file as sources name it, worked out once per directive rather than once per line.
  struct File {
    AsmFileName masked;  // the name with compiler temp-dir prefixes removed (never empty)
    bool main = false;   // the user's own source (see isMainSourcePath)
  };

  // Records the file if `line` is such a directive.
  void addIfFileDirective(std::string_view line);

  // The file numbered `number`; nullptr when unknown or its masked name is empty.
  const File* find(int64_t number) const;

 private:
  std::unordered_map<int64_t, File> files_;
};

// Strips the compiler's temp-dir prefix and a leading "/app/" from a path.
std::string_view maskRootDir(std::string_view path);

// Whether a (masked) path names the user's own source: "<stdin>", "-", "example.*",
// "<source>".
bool isMainSourcePath(std::string_view path);

// What a source-location directive does to the current source.
enum class SourceEffect {
  None,   // not a source directive (or one naming an unknown file): keep the current source
  Set,    // the current source becomes `source`
  Clear,  // no current source from here on
};

struct SourceDirective {
  SourceEffect effect = SourceEffect::None;
  AsmSource source;
  // Stabs N_SO/N_SOL also forget the previous label.
  bool resets_prev_label = false;
};

// Whether a directive name (see LineHead) is one parseSourceDirective reads.
inline bool isSourceDirectiveName(std::string_view name) {
  switch (name.size()) {
    case 3:
      return name == "loc" || name == "dbg";
    case 5:
      return name == "stabn";
    case 6:
      return name == "cv_loc" || name == "d2line";
    default:
      return false;
  }
}

// Reads .loc, .d2line, .cv_loc, ca65 ".dbg line" and .stabn directives. With
// `dont_mask_filenames` sources carry the real path and a mainsource flag; otherwise the main
// file is reported as file null.
SourceDirective parseSourceDirective(std::string_view line, const SourceFileTable& files,
                                     bool dont_mask_filenames);

// Builds the source for `path` (already masked) the way .loc sources are built.
AsmSource makeSource(std::string_view path, int line, bool dont_mask_filenames);

}  // namespace cex

#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "compilers/naming.h"

namespace cex {

// Size and modification time of a file (symbolic links followed): a probe stays valid while
// they do not change.
struct FileStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;

  bool operator==(const FileStamp&) const = default;
};

FileStamp stampFromStat(const struct stat& st);
Result<FileStamp> stampFile(const std::string& path);

// What running a compiler told us about it. Stored in the probe cache, so every field is
// plain data.
struct ProbeResult {
  std::string version;              // first line of the version output
  std::string full_version;         // the whole version output, trimmed
  std::string target;               // target triple
  bool accepts_masm_intel = false;  // gcc family: -masm=intel was accepted
  // rustc reached through a rustup proxy: the toolchain's own binary, which runs without
  // rustup's environment. Empty when the probed executable is the compiler itself.
  std::string resolved_exe;
  FileStamp resolved_stamp;  // of resolved_exe, to notice a toolchain update
};

// Runs the probes for one compiler executable: version, target triple and, for gcc-style
// drivers, whether Intel syntax is accepted. `lang` selects the `-x` language of that last
// check. Each process gets `timeout_ms`; any failure or timeout fails the whole probe.
Result<ProbeResult> probeCompiler(const std::string& exe, CompilerKind kind, std::string_view lang,
                                  int timeout_ms);

}  // namespace cex

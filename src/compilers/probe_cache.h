#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "compilers/compiler_probe.h"

namespace cex {

// How probing one executable ended: a result, or the reason it failed. Only failures that a
// second run would repeat (bad exit status, no version number) are worth storing; timeouts
// are not.
struct ProbeOutcome {
  std::optional<ProbeResult> result;
  std::string error;  // set when result is empty
};

// The on-disk memory of compiler probes, `<cache_dir>/compiler-probes.json`, keyed by
// executable path and valid while the file's size and mtime stay the same. With every
// compiler found here, start-up runs no compiler at all. Not thread-safe: look up before
// probing in parallel and store afterwards.
class ProbeCache {
 public:
  // A cache that stores nothing (no cache dir configured).
  ProbeCache() = default;

  // Reads the cache file of `cache_dir`. A missing file gives an empty cache; an unreadable
  // or corrupt one too, with a warning appended to `warnings`.
  static ProbeCache load(const std::string& cache_dir, std::vector<std::string>* warnings);

  // The stored outcome for `exe`, or nullptr when there is none or the executable (or the
  // toolchain binary a rustup proxy resolved to) has changed since.
  const ProbeOutcome* find(const std::string& exe, const FileStamp& stamp) const;
  void store(const std::string& exe, const FileStamp& stamp, ProbeOutcome outcome);

  // Writes the file atomically if anything was stored, leaving out entries whose executable
  // has changed or gone. Creates the cache dir when needed.
  Status save();

  const std::string& path() const { return path_; }

 private:
  struct Entry {
    FileStamp stamp;
    ProbeOutcome outcome;
  };

  std::string serialize() const;
  // Fills entries_ from the file's text; false when it is not a cache file we understand.
  bool parse(const std::string& text);

  std::string path_;  // empty: caching disabled
  std::map<std::string, Entry> entries_;
  bool dirty_ = false;
};

}  // namespace cex

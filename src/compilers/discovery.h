#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "compilers/registry.h"

namespace cex {

class Properties;

struct DiscoveryOptions {
  // Directories searched for gcc/g++/clang/clang++/gfortran/rustc (versioned names too).
  // Empty means $PATH plus /usr/bin.
  std::vector<std::string> search_dirs;
  // Where the probe cache lives (<cache_dir>/compiler-probes.json); empty = no cache.
  std::string cache_dir;
  // Compiler Explorer configuration directory (<lang>.*.properties); empty = none.
  std::string config_dir;
  // Environment names for the .properties hierarchy, least specific first after
  // "defaults" (Compiler Explorer's default for self-hosting is "dev"), "local" last.
  std::string env = "dev";
  // Skip looking for compilers on PATH (configured compilers only).
  bool discover = true;
  // Parallel probes.
  int parallelism = 8;
  // Each probe process gets this long before it is killed and the compiler dropped.
  int probe_timeout_ms = 10000;
};

// What start-up found: the registry plus counters for the log line and tests.
struct DiscoveryReport {
  CompilerRegistry registry;
  int probes_run = 0;     // compilers probed by running them
  int probes_cached = 0;  // compilers whose probe came from the cache
  std::vector<std::string> warnings;
};

// Finds compilers on the machine and in the configuration, probes them (in parallel, through
// the on-disk cache keyed by path, size and mtime) and builds the registry. Configured
// compilers override discovered ones with the same id, and a discovered compiler that runs
// the same executable for the same language as a configured one is dropped. Compilers that
// fail their probe, configured compilers without an executable and id clashes are left out
// with a warning (logged and listed in the report); this does not fail for any of them.
Result<DiscoveryReport> discoverCompilers(const DiscoveryOptions& options);

}  // namespace cex

#pragma once

#include <memory>
#include <string>

#include "api/api_handler.h"
#include "base/properties.h"
#include "base/status.h"
#include "compile/compile_service.h"
#include "compilers/discovery.h"

namespace cex {

// Command-line settings shared by the roles that compile.
struct InstanceOptions {
  std::string config_dir;  // Compiler Explorer .properties; empty = none
  std::string cache_dir;   // probe cache; empty = $XDG_CACHE_HOME/cex or ~/.cache/cex
  std::string tmp_dir;     // root of per-compile directories; empty = $TMPDIR or /tmp
  std::string env = "dev";
  int slots = 0;  // concurrent compiles; 0 = maxConcurrentCompiles or the core count
  bool discover = true;
  // How compilers and programs are isolated: "bwrap" (the sandbox) or "none" (development
  // only: no isolation at all).
  std::string sandbox = "bwrap";
};

// One compile-capable instance: its compilers, settings and compile service.
struct Instance {
  DiscoveryReport discovery;
  Properties properties;  // compiler-explorer.* settings
  ApiSettings api;
  std::unique_ptr<CompileService> service;
};

// Discovers compilers, reads settings and starts the compile service.
Result<std::unique_ptr<Instance>> buildInstance(const InstanceOptions& options);

}  // namespace cex

#pragma once

#include <spdlog/spdlog.h>

namespace cex {

// Sets up the process-wide logger: one line per event on stderr, "<time> <level> <message>".
// Messages start with their subject and carry key=value fields, e.g.
//   spdlog::info("serve listening host={} port={} compilers={}", host, port, n);
void initLogging(bool debug);

}  // namespace cex

#include "base/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace cex {

void initLogging(bool debug) {
  auto logger = spdlog::stderr_color_mt("cex");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(debug ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace cex

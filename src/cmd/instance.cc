#include "cmd/instance.h"

#include <unistd.h>

#include <cstdlib>
#include <thread>

#include <spdlog/spdlog.h>

#include "base/files.h"

namespace cex {

namespace {

std::string envOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): start-up only
  return value != nullptr && *value != '\0' ? value : fallback;
}

std::string defaultCacheDir() {
  std::string xdg = envOr("XDG_CACHE_HOME", "");
  if (!xdg.empty()) {
    return xdg + "/cex";
  }
  return envOr("HOME", "/tmp") + "/.cache/cex";
}

Result<Properties> loadGlobalProperties(const InstanceOptions& options) {
  if (options.config_dir.empty()) {
    return Properties();
  }
  return loadPropertiesHierarchy(options.config_dir, "compiler-explorer", options.env);
}

CompileSettings compileSettings(const Properties& p, const InstanceOptions& options) {
  CompileSettings s;
  s.temp_root = options.tmp_dir.empty() ? envOr("TMPDIR", "/tmp") : options.tmp_dir;
  s.compile_timeout = std::chrono::milliseconds(p.getInt("compileTimeoutMs", 20000));
  s.exec_timeout = std::chrono::milliseconds(p.getInt("binaryExecTimeoutMs", 10000));
  s.max_exec_output = static_cast<size_t>(p.getInt("max-executable-output-size", 32768));
  s.max_asm_size = static_cast<uint64_t>(p.getInt("max-asm-size", 64ll * 1024 * 1024));
  s.cache_bytes = static_cast<size_t>(p.getInt("cacheMiB", 256)) * 1024 * 1024;
  s.stale_after = std::chrono::milliseconds(p.getInt("compilationStaleAfterMs", 60000));
  s.options_allowed_re = p.getString("optionsAllowedRe", "");
  s.options_forbidden_re = p.getString("optionsForbiddenRe", "");
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  s.slots = options.slots > 0 ? options.slots
                              : static_cast<int>(p.getInt("maxConcurrentCompiles", cores));
  return s;
}

ApiSettings apiSettings(const Properties& p) {
  ApiSettings a;
  a.text_banner = p.getString("textBanner", a.text_banner);
  a.api_max_age_secs = static_cast<int>(p.getInt("apiMaxAgeSecs", 600));
  a.health_min_free_mib = static_cast<uint64_t>(p.getInt("healthCheckMinFreeSpaceMiB", 100));
  a.health_file_path = p.getString("healthCheckFilePath", "");
  a.version = std::string("cex ") + CEX_GIT_HASH;
  return a;
}

}  // namespace

Result<std::unique_ptr<Instance>> buildInstance(const InstanceOptions& options) {
  auto instance = std::make_unique<Instance>();
  auto properties = loadGlobalProperties(options);
  if (!properties.ok()) {
    return properties.status();
  }
  instance->properties = std::move(properties).value();

  DiscoveryOptions discovery;
  discovery.cache_dir = options.cache_dir.empty() ? defaultCacheDir() : options.cache_dir;
  discovery.config_dir = options.config_dir;
  discovery.env = options.env;
  discovery.discover = options.discover;
  if (Status s = makeDirectories(discovery.cache_dir); !s.isOk()) {
    spdlog::warn("cache dir unusable path={} error=\"{}\"", discovery.cache_dir, s.message());
  }
  auto report = discoverCompilers(discovery);
  if (!report.ok()) {
    return report.status();
  }
  instance->discovery = std::move(report).value();

  CompileSettings settings = compileSettings(instance->properties, options);
  if (Status s = makeDirectories(settings.temp_root); !s.isOk()) {
    return s;
  }
  auto service =
      CompileService::create(settings, makeDirectRunner(), &instance->discovery.registry);
  if (!service.ok()) {
    return service.status();
  }
  instance->service = std::move(service).value();
  instance->api = apiSettings(instance->properties);
  return instance;
}

}  // namespace cex

#include "cmd/instance.h"

#include <unistd.h>

#include <cstdlib>
#include <future>
#include <thread>

#include <spdlog/spdlog.h>

#include "base/files.h"
#include "sandbox/sandbox.h"

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

// Sandbox limits from `sandbox.<profile>.<limit>` settings, Compiler Explorer's production
// values otherwise.
void readLimits(const Properties& p, const std::string& profile, SandboxLimits* limits) {
  std::string prefix = "sandbox." + profile + ".";
  auto mib = [&](const char* key, uint64_t* field) {
    *field = static_cast<uint64_t>(p.getInt(prefix + key, static_cast<int64_t>(*field >> 20)))
             << 20;
  };
  mib("memoryMiB", &limits->memory_bytes);
  mib("fileSizeMiB", &limits->file_size_bytes);
  mib("tmpMiB", &limits->tmp_bytes);
  limits->max_processes = p.getInt(prefix + "maxProcesses", limits->max_processes);
  limits->cpu_millis_per_second =
      p.getInt(prefix + "cpuMillisPerSecond", limits->cpu_millis_per_second);
  limits->open_files = static_cast<uint64_t>(
      p.getInt(prefix + "openFiles", static_cast<int64_t>(limits->open_files)));
}

SandboxConfig sandboxConfig(const Properties& p) {
  SandboxConfig config;
  readLimits(p, "compiler", &config.compiler);
  readLimits(p, "program", &config.user_program);
  std::string cgroups = p.getString("sandbox.cgroups", "auto");
  config.cgroups = cgroups == "required" ? CgroupPolicy::Required
                   : cgroups == "off"    ? CgroupPolicy::Off
                                         : CgroupPolicy::Auto;
  config.readonly_paths = p.getList("sandbox.readonlyPaths");
  config.bwrap_path = p.getString("sandbox.bwrap", config.bwrap_path);
  return config;
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

  CompileSettings settings = compileSettings(instance->properties, options);
  if (Status s = makeDirectories(settings.temp_root); !s.isOk()) {
    return s;
  }
  // The sandbox checks itself by running a trial process: that overlaps with discovery.
  auto pending_runner = std::async(std::launch::async, [&options, &instance] {
    return makeProcessRunner(options.sandbox, sandboxConfig(instance->properties));
  });

  DiscoveryOptions discovery;
  discovery.cache_dir = options.cache_dir.empty() ? defaultCacheDir() : options.cache_dir;
  discovery.config_dir = options.config_dir;
  discovery.env = options.env;
  discovery.discover = options.discover;
  if (Status s = makeDirectories(discovery.cache_dir); !s.isOk()) {
    spdlog::warn("cache dir unusable path={} error=\"{}\"", discovery.cache_dir, s.message());
  }
  auto report = discoverCompilers(discovery);
  auto runner = pending_runner.get();
  if (!report.ok()) {
    return report.status();
  }
  instance->discovery = std::move(report).value();
  if (!runner.ok()) {
    return Status::unavailable("sandbox " + options.sandbox +
                               " cannot run here: " + runner.status().message() +
                               " (--sandbox none runs without isolation, for development)");
  }
  spdlog::info("sandbox ready mode={} detail=\"{}\"", (*runner)->name(), (*runner)->describe());
  auto service =
      CompileService::create(settings, std::move(runner).value(), &instance->discovery.registry);
  if (!service.ok()) {
    return service.status();
  }
  instance->service = std::move(service).value();
  instance->api = apiSettings(instance->properties);
  return instance;
}

}  // namespace cex

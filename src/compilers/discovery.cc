#include "compilers/discovery.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <system_error>
#include <thread>

#include <spdlog/spdlog.h>

#include "compilers/compiler_config.h"
#include "compilers/path_scan.h"
#include "compilers/probe_cache.h"

namespace cex {

namespace {

void addWarning(DiscoveryReport* report, std::string message) {
  spdlog::warn("discovery problem=\"{}\"", message);
  report->warnings.push_back(std::move(message));
}

// One executable to probe. Discovered and configured compilers that name the same path
// share a job.
struct ProbeJob {
  std::string exe;
  CompilerKind kind = CompilerKind::Gcc;
  std::string lang;
  FileStamp stamp;
  std::optional<ProbeOutcome> outcome;  // filled from the cache or by running
  bool timed_out = false;               // such failures are not cached
};

// The jobs of a discovery run, by executable path.
class ProbePlan {
 public:
  // Adds a job for `exe` unless there is one; returns its index.
  size_t add(const std::string& exe, CompilerKind kind, std::string_view lang,
             const FileStamp& stamp) {
    auto [it, inserted] = index_.emplace(exe, jobs_.size());
    if (inserted) {
      jobs_.push_back(ProbeJob{exe, kind, std::string(lang), stamp, std::nullopt, false});
    }
    return it->second;
  }

  std::vector<ProbeJob>& jobs() { return jobs_; }

  const ProbeJob& job(size_t i) const { return jobs_[i]; }

 private:
  std::vector<ProbeJob> jobs_;
  std::map<std::string, size_t> index_;
};

void runJob(ProbeJob* job, int timeout_ms) {
  Result<ProbeResult> probe = probeCompiler(job->exe, job->kind, job->lang, timeout_ms);
  ProbeOutcome outcome;
  if (probe.ok()) {
    outcome.result = std::move(probe).value();
  } else {
    outcome.error = probe.status().message();
    job->timed_out = probe.status().code() == StatusCode::Timeout;
  }
  job->outcome = std::move(outcome);
}

// Runs the jobs the cache cannot answer on `parallelism` threads, then records them.
void runProbes(ProbePlan* plan, ProbeCache* cache, const DiscoveryOptions& options,
               DiscoveryReport* report) {
  std::vector<ProbeJob*> pending;
  for (ProbeJob& job : plan->jobs()) {
    if (const ProbeOutcome* cached = cache->find(job.exe, job.stamp)) {
      job.outcome = *cached;
      ++report->probes_cached;
    } else {
      pending.push_back(&job);
    }
  }
  report->probes_run = static_cast<int>(pending.size());

  // Each worker takes the next job; jobs are independent, so no lock is needed.
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < pending.size(); i = next++) {
      runJob(pending[i], options.probe_timeout_ms);
    }
  };
  // This thread is one of the workers, so probing finishes even if no thread can start.
  size_t helpers = std::min<size_t>(std::max(options.parallelism, 1), pending.size());
  std::vector<std::thread> pool;
  try {
    for (size_t t = 1; t < helpers; ++t) {
      pool.emplace_back(worker);
    }
  } catch (const std::system_error& e) {
    spdlog::warn("discovery probe threads started={} error=\"{}\"", pool.size(), e.what());
  }
  worker();
  for (std::thread& t : pool) {
    t.join();
  }

  for (ProbeJob* job : pending) {
    if (!job->timed_out) {
      cache->store(job->exe, job->stamp, *job->outcome);
    }
  }
  Status saved = cache->save();
  if (!saved.isOk()) {
    addWarning(report, "probe cache not written: " + saved.message());
  }
}

// The result of a job, or nullptr after warning that the compiler is dropped.
const ProbeResult* probeOf(const ProbeJob& job, std::string_view id_or_exe,
                           DiscoveryReport* report) {
  if (!job.outcome->result) {
    addWarning(report,
               fmt::format("compiler {} dropped, probe failed: {}", id_or_exe, job.outcome->error));
    return nullptr;
  }
  return &*job.outcome->result;
}

// Flags selecting Intel syntax for a driver on an instruction set; empty when unsupported.
std::vector<std::string> intelAsmFlags(CompilerKind kind, const ProbeResult& probe,
                                       std::string_view instruction_set) {
  bool x86 = instruction_set == "amd64" || instruction_set == "x86";
  switch (kind) {
    case CompilerKind::Gcc:
    case CompilerKind::Gfortran:
      return probe.accepts_masm_intel ? std::vector<std::string>{"-masm=intel"}
                                      : std::vector<std::string>{};
    case CompilerKind::Clang:
      return x86 ? std::vector<std::string>{"-mllvm", "--x86-asm-syntax=intel"}
                 : std::vector<std::string>{};
    case CompilerKind::Rustc:
      break;
  }
  return x86 ? std::vector<std::string>{"-Cllvm-args=--x86-asm-syntax=intel"}
             : std::vector<std::string>{};
}

// Copies what the probe learnt into `info`; the instruction set must be set already.
void applyProbe(CompilerKind kind, const ProbeResult& probe, const FileStamp& stamp,
                CompilerInfo* info) {
  info->version = probe.version;
  info->full_version = probe.full_version;
  info->target = probe.target;
  info->family = familyOf(kind);
  info->supports_verbose_asm = kind != CompilerKind::Rustc;
  info->exe_size = stamp.size;
  info->exe_mtime_ns = stamp.mtime_ns;
  // Run the toolchain binary itself, not the rustup proxy in front of it.
  if (!probe.resolved_exe.empty()) {
    info->exe = probe.resolved_exe;
    info->exe_size = probe.resolved_stamp.size;
    info->exe_mtime_ns = probe.resolved_stamp.mtime_ns;
  }
  std::optional<VersionNumber> v = parseVersionNumber(probe.version);
  info->is_nightly = info->is_nightly || (v && v->suffix.find("nightly") != std::string::npos);
}

CompilerInfo discoveredInfo(const Candidate& c, const ProbeResult& probe) {
  CompilerInfo info;
  info.exe = c.exe;
  info.lang = c.driver.lang;
  info.instruction_set = instructionSetForTarget(probe.target);
  // The probe only succeeds with a version number, so this always has a value.
  VersionNumber version = parseVersionNumber(probe.version).value_or(VersionNumber{});
  CompilerNaming naming = nameCompiler(c.driver.kind, info.lang, version, info.instruction_set);
  info.id = naming.id;
  info.name = naming.name;
  info.semver = naming.semver;
  info.base_name = naming.base_name;
  info.compiler_type = compilerTypeOf(c.driver.kind);
  applyProbe(c.driver.kind, probe, c.stamp, &info);
  info.intel_asm = intelAsmFlags(c.driver.kind, probe, info.instruction_set);
  info.supports_intel = !info.intel_asm.empty();
  return info;
}

// A configured compiler completed from its probe; configured values win.
CompilerInfo configuredInfo(const ConfiguredCompiler& c, const ProbeResult& probe,
                            const FileStamp& stamp) {
  CompilerInfo info = c.info;
  info.instruction_set = c.instruction_set.value_or(instructionSetForTarget(probe.target));
  VersionNumber version = parseVersionNumber(probe.version).value_or(VersionNumber{});
  CompilerNaming naming = nameCompiler(c.kind, info.lang, version, info.instruction_set);
  info.semver = c.semver.value_or(naming.semver);
  info.base_name = c.base_name.value_or(naming.base_name);
  if (c.name) {
    info.name = *c.name;
  } else {
    info.name = info.is_semver ? info.base_name + " " + info.semver : info.id;
  }
  info.compiler_type = c.compiler_type.value_or(compilerTypeOf(c.kind));
  applyProbe(c.kind, probe, stamp, &info);
  info.intel_asm = c.intel_asm.value_or(intelAsmFlags(c.kind, probe, info.instruction_set));
  info.supports_intel = !info.intel_asm.empty();
  return info;
}

// A configured compiler that passed the exe check, with the job probing it.
struct PlannedConfigured {
  const ConfiguredCompiler* compiler;
  size_t job;
  FileIdentity identity;
};

// A discovered compiler with the job probing it.
struct PlannedCandidate {
  const Candidate* candidate;
  size_t job;
};

std::vector<PlannedConfigured> planConfigured(const CompilerConfig& config, ProbePlan* plan,
                                              DiscoveryReport* report) {
  std::vector<PlannedConfigured> planned;
  for (const auto& [lang, lang_config] : config.languages) {
    for (const ConfiguredCompiler& c : lang_config.compilers) {
      FileIdentity identity;
      FileStamp stamp;
      Status s = identifyExecutable(c.info.exe, &identity, &stamp);
      if (!s.isOk()) {
        addWarning(report, fmt::format("compiler {} skipped: {}", c.info.id, s.message()));
        continue;
      }
      planned.push_back({&c, plan->add(c.info.exe, c.kind, lang, stamp), identity});
    }
  }
  return planned;
}

// Plans the discovered compilers that the configuration does not already run.
std::vector<PlannedCandidate> planDiscovered(const std::vector<Candidate>& candidates,
                                             const std::vector<PlannedConfigured>& configured,
                                             ProbePlan* plan) {
  std::set<std::pair<FileIdentity, std::string>> taken;
  for (const PlannedConfigured& c : configured) {
    taken.emplace(c.identity, c.compiler->info.lang);
  }
  std::vector<PlannedCandidate> planned;
  for (const Candidate& c : candidates) {
    if (taken.count({c.identity, c.driver.lang}) != 0) {
      spdlog::debug("discovery skipped exe={} lang={} reason=configured", c.exe, c.driver.lang);
      continue;
    }
    planned.push_back({&c, plan->add(c.exe, c.driver.kind, c.driver.lang, c.stamp)});
  }
  return planned;
}

// The final list: configured compilers first (they own their ids), then discovered ones
// whose ids are still free. Within each, the first of a clashing id wins.
std::vector<CompilerInfo> assemble(const ProbePlan& plan,
                                   const std::vector<PlannedConfigured>& configured,
                                   const std::vector<PlannedCandidate>& discovered,
                                   DiscoveryReport* report) {
  std::vector<CompilerInfo> out;
  std::map<std::string, std::string> exe_by_id;
  for (const PlannedConfigured& c : configured) {
    const ProbeJob& job = plan.job(c.job);
    if (const ProbeResult* probe = probeOf(job, c.compiler->info.id, report)) {
      CompilerInfo info = configuredInfo(*c.compiler, *probe, job.stamp);
      if (!exe_by_id.emplace(info.id, info.exe).second) {
        addWarning(report,
                   fmt::format("compiler id {} configured twice; {} ignored", info.id, info.exe));
        continue;
      }
      out.push_back(std::move(info));
    }
  }
  std::set<std::string> configured_ids;
  for (const CompilerInfo& info : out) {
    configured_ids.insert(info.id);
  }

  for (const PlannedCandidate& c : discovered) {
    const ProbeJob& job = plan.job(c.job);
    if (const ProbeResult* probe = probeOf(job, c.candidate->exe, report)) {
      CompilerInfo info = discoveredInfo(*c.candidate, *probe);
      if (configured_ids.count(info.id) != 0) {
        spdlog::info("discovery overridden id={} exe={} by=configuration", info.id, info.exe);
        continue;
      }
      auto [it, inserted] = exe_by_id.emplace(info.id, info.exe);
      if (!inserted) {
        addWarning(report, fmt::format("compiler id {} clash: keeping {}, dropping {}", info.id,
                                       it->second, info.exe));
        continue;
      }
      out.push_back(std::move(info));
    }
  }
  return out;
}

// The configured default compilers that exist; a warning for each that does not.
std::map<std::string, std::string> defaultCompilers(const CompilerConfig& config,
                                                    const std::vector<CompilerInfo>& compilers,
                                                    DiscoveryReport* report) {
  std::map<std::string, std::string> defaults;
  for (const auto& entry : config.languages) {
    const std::string& lang = entry.first;
    const std::string& id = entry.second.default_compiler;
    if (id.empty()) {
      continue;
    }
    bool exists = std::any_of(compilers.begin(), compilers.end(),
                              [&](const CompilerInfo& c) { return c.id == id && c.lang == lang; });
    if (exists) {
      defaults[lang] = id;
    } else {
      addWarning(report,
                 fmt::format("defaultCompiler {} of {} is not one of its compilers", id, lang));
    }
  }
  return defaults;
}

std::map<std::string, std::vector<Library>> libraries(const CompilerConfig& config) {
  std::map<std::string, std::vector<Library>> libs;
  for (const auto& [lang, lang_config] : config.languages) {
    if (!lang_config.libraries.empty()) {
      libs[lang] = lang_config.libraries;
    }
  }
  return libs;
}

}  // namespace

Result<DiscoveryReport> discoverCompilers(const DiscoveryOptions& options) {
  auto started = std::chrono::steady_clock::now();
  DiscoveryReport report;
  std::vector<std::string> dirs =
      options.search_dirs.empty() ? defaultSearchDirs() : options.search_dirs;

  // The configuration first: its compilers decide which discovered ones are redundant.
  CompilerConfig config;
  if (!options.config_dir.empty()) {
    config = readCompilerConfig(options.config_dir, options.env, dirs);
    report.warnings = config.warnings;
  }
  std::vector<Candidate> candidates;
  if (options.discover) {
    candidates = scanForCompilers(dirs);
  }

  ProbePlan plan;
  std::vector<PlannedConfigured> configured = planConfigured(config, &plan, &report);
  std::vector<PlannedCandidate> discovered = planDiscovered(candidates, configured, &plan);
  ProbeCache cache = ProbeCache::load(options.cache_dir, &report.warnings);
  runProbes(&plan, &cache, options, &report);

  std::vector<CompilerInfo> compilers = assemble(plan, configured, discovered, &report);
  std::map<std::string, std::string> defaults = defaultCompilers(config, compilers, &report);
  size_t count = compilers.size();
  report.registry = CompilerRegistry(std::move(compilers), libraries(config), std::move(defaults));

  std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - started;
  spdlog::info("discovery done compilers={} probes_run={} probes_cached={} warnings={} ms={:.1f}",
               count, report.probes_run, report.probes_cached, report.warnings.size(),
               elapsed.count());
  return report;
}

}  // namespace cex

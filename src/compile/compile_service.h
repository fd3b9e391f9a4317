#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/hash.h"
#include "base/status.h"
#include "compile/compile_queue.h"
#include "compile/compile_request.h"
#include "compile/compile_result.h"
#include "compile/lru_cache.h"
#include "compile/option_policy.h"
#include "compilers/registry.h"
#include "sandbox/process.h"

namespace cex {

// Limits and policies of the compile pipeline; defaults follow Compiler Explorer's.
struct CompileSettings {
  std::string temp_root = "/tmp";
  std::chrono::milliseconds compile_timeout{20000};
  // Running users' programs: wall time, and the cap on each of stdout and stderr.
  bool execution_enabled = true;
  std::chrono::milliseconds exec_timeout{10000};
  size_t max_exec_output = 32 * 1024;
  size_t max_compiler_output = 1024 * 1024;  // per stream
  uint64_t max_asm_size = 64ull * 1024 * 1024;
  size_t cache_bytes = 256ull * 1024 * 1024;
  int slots = 2;
  // A job that waited longer than this for a slot is answered with an error instead.
  std::chrono::milliseconds stale_after{60000};
  std::string options_allowed_re;    // empty = everything
  std::string options_forbidden_re;  // empty = OptionPolicy::defaultForbiddenPattern()
  // Environment variables the compiler inherits from cex.
  std::vector<std::string> env_passthrough = {"PATH",        "HOME",       "LD_LIBRARY_PATH",
                                              "RUSTUP_HOME", "CARGO_HOME", "RUSTUP_TOOLCHAIN"};
};

// How a compile request ended: a result (success or compiler error) or a refusal before the
// compiler ran (bad options, internal trouble), which the API renders differently.
struct CompileOutcome {
  std::shared_ptr<const CompileResult> result;  // null for a refusal or an executor request
  // The program's run, alone, for an executor request (compilerOptions.executorRequest).
  std::shared_ptr<const ExecutionResult> execution;
  std::string refusal;  // "Bad options: ..." and similar
};

// Runs compiles: option policy, result cache, a private directory per request, the
// compiler under limits, asm parsing and demangling. Thread-safe.
class CompileService {
 public:
  static Result<std::unique_ptr<CompileService>> create(const CompileSettings& settings,
                                                        std::unique_ptr<ProcessRunner> runner,
                                                        const CompilerRegistry* registry);

  using Callback = std::function<void(CompileOutcome)>;

  // Answers from the cache or the option policy at once (on the caller's thread), or queues
  // the compile and answers from a compile slot. `done` is called exactly once.
  void submit(const CompilerInfo& compiler, CompileRequest request, Callback done);

  // Compiles on the caller's thread, with the same cache and policy (for `cex compile`).
  CompileOutcome compileNow(const CompilerInfo& compiler, CompileRequest request);

  // Runs `probe` on a compile slot ahead of queued compiles (used by /healthcheck so a
  // saturated instance answers late).
  void submitHealthProbe(std::function<void()> probe);

  const CompileSettings& settings() const { return settings_; }

  const CompilerRegistry& registry() const { return *registry_; }

  CacheStats cacheStats() const { return cache_.stats(); }

  CacheStats executionCacheStats() const { return exec_cache_.stats(); }

  const ProcessRunner& runner() const { return *runner_; }

  size_t queueWaiting() const { return queue_->waiting(); }

  int queueBusy() const { return queue_->busy(); }

 private:
  CompileService(const CompileSettings& settings, std::unique_ptr<ProcessRunner> runner,
                 const CompilerRegistry* registry, OptionPolicy policy);

  // Policy, filter adjustment and cache lookup; fills `key`. Returns an outcome when no
  // compile is needed.
  std::optional<CompileOutcome> prepare(const CompilerInfo& compiler, CompileRequest* request,
                                        Hash128* key);
  CompileOutcome compileAndStore(const CompilerInfo& compiler, const CompileRequest& request,
                                 const Hash128& key);
  // Runs what a request needs on a compile slot: the compile (unless `cached` has it or the
  // request is executor-only) and the program when asked.
  CompileOutcome work(const CompilerInfo& compiler, const CompileRequest& request,
                      const Hash128& key, std::optional<CompileOutcome> cached);
  std::shared_ptr<const ExecutionResult> execute(const CompilerInfo& compiler,
                                                 const CompileRequest& request, const Hash128& key,
                                                 std::string* refusal);

  CompileSettings settings_;
  std::unique_ptr<ProcessRunner> runner_;
  const CompilerRegistry* registry_;
  OptionPolicy policy_;
  ByteLruCache<CompileResult> cache_;
  ByteLruCache<ExecutionResult> exec_cache_;
  std::unique_ptr<CompileQueue> queue_;  // last: its workers use the members above
};

}  // namespace cex

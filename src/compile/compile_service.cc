#include "compile/compile_service.h"

#include <spdlog/spdlog.h>

#include "base/strings.h"
#include "compile/compile_job.h"
#include "compile/compiler_command.h"
#include "compile/execution_job.h"
#include "compile/popular_arguments.h"

namespace cex {

namespace {

using Clock = std::chrono::steady_clock;

// Everything that can change a compile's result goes into its key.
Hash128 cacheKey(const CompilerInfo& compiler, const CompileRequest& request,
                 const CompileFilters& filters) {
  Hasher h;
  h.add("cex-compile-v1");
  h.add(compiler.id).add(compiler.exe).add(compiler.version);
  h.add(static_cast<int64_t>(compiler.exe_size)).add(compiler.exe_mtime_ns);
  h.add(join(compiler.options, "\x1f"));
  h.add(request.source);
  h.add(static_cast<int64_t>(request.files.size()));
  for (const auto& file : request.files) {
    h.add(file.filename).add(file.contents);
  }
  h.add(join(request.user_arguments, "\x1f"));
  int64_t bits = 0;
  for (bool b :
       {filters.binary, filters.binary_object, filters.execute, filters.demangle, filters.intel,
        filters.comment_only, filters.directives, filters.labels, filters.opt_output,
        filters.library_code, filters.trim, filters.debug_calls, filters.dont_mask_filenames}) {
    bits = bits * 2 + (b ? 1 : 0);
  }
  h.add(bits);
  h.add(request.compiler_options_json);
  for (const auto& tool : request.tools) {
    h.add(tool.id).add(join(tool.args, "\x1f")).add(tool.stdin_data);
  }
  for (const auto& lib : request.libraries) {
    h.add(lib.id).add(lib.version);
  }
  return h.digest();
}

// A rough count of the bytes a cached result holds, for the cache's budget.
size_t approximateSize(const CompileResult& r) {
  size_t bytes = sizeof(CompileResult);
  for (const auto& line : r.parsed.lines) {
    bytes += sizeof(AsmLine) + line.text.size() + line.labels.size() * sizeof(AsmLabelRef);
    for (const auto& label : line.labels) {
      bytes += label.name.size();
    }
    if (line.source && line.source->file) {
      bytes += line.source->file->size();
    }
  }
  for (const auto& [name, index] : r.parsed.label_definitions) {
    bytes += name.size() + 16;
  }
  for (const auto* lines : {&r.stdout_lines, &r.stderr_lines}) {
    for (const auto& line : *lines) {
      bytes += sizeof(ResultLine) + line.text.size() * 2;
    }
  }
  return bytes;
}

CompileOutcome refuse(std::string message) {
  CompileOutcome out;
  out.refusal = std::move(message);
  return out;
}

}  // namespace

Result<std::unique_ptr<CompileService>> CompileService::create(
    const CompileSettings& settings, std::unique_ptr<ProcessRunner> runner,
    const CompilerRegistry* registry) {
  auto policy = OptionPolicy::create(settings.options_allowed_re, settings.options_forbidden_re);
  if (!policy.ok()) {
    return policy.status();
  }
  return std::unique_ptr<CompileService>(
      new CompileService(settings, std::move(runner), registry, std::move(policy).value()));
}

CompileService::CompileService(const CompileSettings& settings,
                               std::unique_ptr<ProcessRunner> runner,
                               const CompilerRegistry* registry, OptionPolicy policy)
    : settings_(settings),
      runner_(std::move(runner)),
      registry_(registry),
      policy_(std::move(policy)),
      cache_(settings.cache_bytes),
      exec_cache_(settings.cache_bytes / 4),
      queue_(std::make_unique<CompileQueue>(settings.slots)) {}

std::optional<CompileOutcome> CompileService::prepare(const CompilerInfo& compiler,
                                                      CompileRequest* request, Hash128* key) {
  std::vector<std::string> bad = policy_.badOptions(request->user_arguments);
  if (!bad.empty()) {
    return refuse("Bad options: " + join(bad, ", "));
  }
  request->filters =
      adjustFilters(compiler, request->filters, request->user_arguments, !request->files.empty());
  *key = cacheKey(compiler, *request, request->filters);
  if (request->bypass_cache == 1) {
    return std::nullopt;
  }
  Clock::time_point start = Clock::now();
  std::shared_ptr<const CompileResult> hit = cache_.get(*key);
  if (!hit) {
    return std::nullopt;
  }
  auto copy = std::make_shared<CompileResult>(*hit);
  copy->retrieved_from_cache = true;
  copy->retrieved_from_cache_time =
      std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  CompileOutcome out;
  out.result = std::move(copy);
  return out;
}

CompileOutcome CompileService::compileAndStore(const CompilerInfo& compiler,
                                               const CompileRequest& request, const Hash128& key) {
  Clock::time_point start = Clock::now();
  auto result = runCompileJob(compiler, request, settings_, *runner_, *registry_);
  spdlog::debug("compile done compiler_id={} job_ms={:.2f} compiler_ms={}", compiler.id,
                std::chrono::duration<double, std::milli>(Clock::now() - start).count(),
                result.ok() ? result->exec_time_ms : -1);
  if (!result.ok()) {
    spdlog::error("compile failed compiler_id={} error=\"{}\"", compiler.id,
                  result.status().message());
    return refuse("Internal error: " + result.status().message());
  }
  if (!request.skip_pop_args) {
    result->include_popular_arguments = true;
    result->popular_arguments = popularArguments(compiler, request.user_arguments);
  }
  auto shared = std::make_shared<const CompileResult>(std::move(result).value());
  if (shared->ok_to_cache) {
    cache_.put(key, shared, approximateSize(*shared));
  }
  CompileOutcome out;
  out.result = std::move(shared);
  return out;
}

void CompileService::submit(const CompilerInfo& compiler, CompileRequest request, Callback done) {
  Hash128 key;
  std::optional<CompileOutcome> early = prepare(compiler, &request, &key);
  bool wants_run = request.executor_request || request.filters.execute;
  if (early && (!early->refusal.empty() || !wants_run)) {
    done(std::move(*early));
    return;
  }
  Clock::time_point queued = Clock::now();
  auto job = [this, &compiler, request = std::move(request), key, queued, early = std::move(early),
              done = std::move(done)]() {
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - queued);
    if (waited > settings_.stale_after) {
      done(
          refuse(fmt::format("Internal error: compilation was in the queue too long "
                             "({:.1f}s > {:.1f}s)",
                             waited.count() / 1000.0, settings_.stale_after.count() / 1000.0)));
      return;
    }
    done(work(compiler, request, key, early));
  };
  queue_->submit(CompileQueue::Priority::Normal, std::move(job));
}

CompileOutcome CompileService::compileNow(const CompilerInfo& compiler, CompileRequest request) {
  Hash128 key;
  std::optional<CompileOutcome> early = prepare(compiler, &request, &key);
  if (early && !early->refusal.empty()) {
    return std::move(*early);
  }
  return work(compiler, request, key, std::move(early));
}

CompileOutcome CompileService::work(const CompilerInfo& compiler, const CompileRequest& request,
                                    const Hash128& key, std::optional<CompileOutcome> cached) {
  CompileOutcome out;
  if (!request.executor_request) {
    out = cached ? std::move(*cached) : compileAndStore(compiler, request, key);
    if (!out.result) {
      return out;
    }
  }
  // A program runs only when its compile succeeded, whether fresh or from the cache.
  bool run = request.executor_request || (request.filters.execute && out.result->code == 0);
  if (!run) {
    return out;
  }
  std::string refusal;
  std::shared_ptr<const ExecutionResult> execution = execute(compiler, request, key, &refusal);
  if (!execution) {
    return refuse(std::move(refusal));
  }
  if (request.executor_request) {
    out.execution = std::move(execution);
    return out;
  }
  auto with_run = std::make_shared<CompileResult>(*out.result);
  with_run->exec_result = std::move(execution);
  out.result = std::move(with_run);
  return out;
}

std::shared_ptr<const ExecutionResult> CompileService::execute(const CompilerInfo& compiler,
                                                               const CompileRequest& request,
                                                               const Hash128& key,
                                                               std::string* refusal) {
  Hasher h;
  h.add(key.toHex()).add(join(request.execute_parameters.args, "\x1f"));
  h.add(request.execute_parameters.stdin_data);
  for (const auto& [name, value] : request.execute_parameters.env) {
    h.add(name).add(value);
  }
  Hash128 exec_key = h.digest();
  // Any bypass level skips execution results, both ways.
  bool use_cache = request.bypass_cache == 0;
  if (use_cache) {
    if (auto hit = exec_cache_.get(exec_key)) {
      return hit;
    }
  }
  auto result = runExecutionJob(compiler, request, settings_, *runner_, *registry_);
  if (!result.ok()) {
    spdlog::error("execution failed compiler_id={} error=\"{}\"", compiler.id,
                  result.status().message());
    *refusal = "Internal error: " + result.status().message();
    return nullptr;
  }
  auto shared = std::make_shared<const ExecutionResult>(std::move(result).value());
  if (use_cache && shared->ok_to_cache) {
    size_t bytes = sizeof(ExecutionResult);
    for (const auto* lines : {&shared->stdout_lines, &shared->stderr_lines}) {
      for (const auto& line : *lines) {
        bytes += sizeof(ResultLine) + line.text.size();
      }
    }
    exec_cache_.put(exec_key, shared, bytes);
  }
  return shared;
}

void CompileService::submitHealthProbe(std::function<void()> probe) {
  queue_->submit(CompileQueue::Priority::High, std::move(probe));
}

}  // namespace cex

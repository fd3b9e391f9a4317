#include "compile/compile_job.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "asm/asm_parser.h"
#include "base/files.h"
#include "base/strings.h"
#include "compile/compile_service.h"
#include "compile/compiler_command.h"
#include "compile/diagnostics.h"
#include "compilers/languages.h"
#include "compilers/registry.h"

namespace cex {

namespace {

using Clock = std::chrono::steady_clock;

double millisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

AsmLine placeholderLine(std::string text) {
  AsmLine line;
  line.text = std::move(text);
  return line;
}

// A request the pipeline cannot compile as given: the message goes to asm and stderr.
CompileResult userError(const std::string& message, const std::string& input_filename) {
  CompileResult r;
  r.code = -1;
  r.input_filename = input_filename;
  r.parsed.lines.push_back(placeholderLine(message));
  r.stderr_lines.push_back({message, {}});
  return r;
}

// A file name from `files[]` must stay inside the compile's directory.
bool isSafeRelativePath(const std::string& name) {
  if (name.empty() || name[0] == '/' || name.find('\0') != std::string::npos) {
    return false;
  }
  for (std::string_view part : split(name, '/')) {
    if (part == ".." || part == ".") {
      return false;
    }
  }
  return name.back() != '/';
}

Status writeExtraFiles(const std::string& dir, const std::vector<SourceFile>& files) {
  for (const auto& file : files) {
    std::string path = dir + "/" + file.filename;
    size_t slash = path.find_last_of('/');
    if (slash > dir.size()) {
      Status s = makeDirectories(path.substr(0, slash));
      if (!s.isOk()) {
        return s;
      }
    }
    Status s = writeFile(path, file.contents);
    if (!s.isOk()) {
      return s;
    }
  }
  return Status::ok();
}

bool mentionsMain(std::string_view source) {
  size_t pos = 0;
  while ((pos = source.find("main", pos)) != std::string_view::npos) {
    auto word = [&](size_t i) {
      char c = source[i];
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    };
    bool starts = pos == 0 || !word(pos - 1);
    bool ends = pos + 4 >= source.size() || !word(pos + 4);
    if (starts && ends) {
      return true;
    }
    pos += 4;
  }
  return false;
}

// Linking needs an entry point; C and C++ sources without one get a trivial main.
std::string sourceToWrite(const CompilerInfo& compiler, const CompileRequest& request,
                          const CompileFilters& filters) {
  bool c_family = compiler.lang == "c" || compiler.lang == "c++";
  if (filters.binary && c_family && !mentionsMain(request.source)) {
    return request.source + "\n\nint main(void) { return 0; }\n";
  }
  return request.source;
}

}  // namespace

std::vector<std::string> compilerEnvironment(const CompileSettings& settings,
                                             const std::string& dir) {
  std::vector<std::string> env;
  for (const auto& name : settings.env_passthrough) {
    if (const char* value = std::getenv(name.c_str())) {  // NOLINT(concurrency-mt-unsafe)
      env.push_back(name + "=" + value);
    }
  }
  // Temporary files of the compiler go to the private directory and vanish with it.
  env.push_back("TMPDIR=" + dir);
  return env;
}

namespace {

std::string parentDir(std::string path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? std::string() : path.substr(0, slash);
}

// What a sandboxed run needs to see of a program cex starts (compiler, demangler): the
// directory of the path as configured when it is outside /usr (it may be a symlink), and the
// installation of the real file when that is outside /usr too (two levels above it, which
// covers <prefix>/bin/<exe>).
void addProgramPaths(const std::string& exe, std::vector<std::string>* paths) {
  if (exe.empty() || exe[0] != '/') {
    return;  // Found on PATH, which only names system directories.
  }
  if (!exe.starts_with("/usr/")) {
    paths->push_back(parentDir(exe));
  }
  char real[PATH_MAX];
  if (::realpath(exe.c_str(), real) == nullptr || std::string_view(real).starts_with("/usr/")) {
    return;
  }
  std::string tree = parentDir(parentDir(real));
  if (!tree.empty()) {
    paths->push_back(tree);
  }
}

const LibraryVersion* findLibraryVersion(const CompilerInfo& compiler, const LibraryRequest& want,
                                         const CompilerRegistry& registry) {
  for (const auto& lib : registry.libraries(compiler.lang)) {
    if (lib.id != want.id) {
      continue;
    }
    for (const auto& version : lib.versions) {
      if (version.id == want.version || std::find(version.alias.begin(), version.alias.end(),
                                                  want.version) != version.alias.end()) {
        return &version;
      }
    }
  }
  return nullptr;
}

std::vector<std::string> libraryFlags(const CompilerInfo& compiler,
                                      const std::vector<LibraryRequest>& requested,
                                      const CompilerRegistry& registry) {
  std::vector<std::string> flags;
  for (const auto& want : requested) {
    // Unknown libraries and versions are ignored, as clients expect.
    if (const LibraryVersion* version = findLibraryVersion(compiler, want, registry)) {
      for (const auto& path : version->path) {
        flags.push_back("-isystem" + path);
      }
      flags.insert(flags.end(), version->options.begin(), version->options.end());
    }
  }
  return flags;
}

std::vector<std::string> readablePathsFor(const CompilerInfo& compiler,
                                          const std::vector<LibraryRequest>& libraries,
                                          const CompilerRegistry& registry) {
  std::vector<std::string> paths;
  addProgramPaths(compiler.exe, &paths);
  addProgramPaths(compiler.demangler, &paths);
  for (const auto& want : libraries) {
    if (const LibraryVersion* version = findLibraryVersion(compiler, want, registry)) {
      paths.insert(paths.end(), version->path.begin(), version->path.end());
    }
  }
  return paths;
}

// The compiler's output streams as result lines, with the markers users see for a run that
// was cut short.
void collectCompilerOutput(ProcessResult& run, const OutputMasking& masking, CompileResult* r) {
  if (run.truncated) {
    run.stderr_data += "\n[Truncated]";
  }
  if (run.timed_out) {
    run.stderr_data += "\nKilled - processing time exceeded\n";
  }
  Clock::time_point start = Clock::now();
  r->stdout_lines = parseCompilerOutput(run.stdout_data, masking);
  r->stderr_lines = parseCompilerOutput(run.stderr_data, masking);
  r->process_execution_result_time = millisSince(start);
}

AsmParseOptions parseOptions(const CompilerInfo& compiler, const CompileFilters& filters) {
  AsmParseOptions options;
  options.filters = filters.toAsmFilters();
  options.max_lines_of_asm = compiler.max_lines_of_asm;
  options.binary_hide_func_re = compiler.binary_hide_func_re;
  return options;
}

}  // namespace

std::string inputFilenameFor(const std::string& lang) {
  const Language* language = findBuiltinLanguage(lang);
  if (language == nullptr || language->extensions.empty()) {
    return "example.txt";
  }
  return "example" + language->extensions.front();
}

CompileJob::CompileJob(const CompilerInfo& compiler, const CompileRequest& request,
                       const CompileSettings& settings, ProcessRunner& runner,
                       const CompilerRegistry& registry, Purpose purpose)
    : compiler_(compiler),
      request_(request),
      settings_(settings),
      runner_(runner),
      registry_(registry),
      purpose_(purpose) {}

Result<CompileResult> CompileJob::run() {
  filters_ =
      adjustFilters(compiler_, request_.filters, request_.user_arguments, !request_.files.empty());
  if (purpose_ == Purpose::Executable) {
    filters_.binary = true;
    filters_.binary_object = false;
  }
  std::string input_filename = inputFilenameFor(compiler_.lang);
  if (request_.source.empty()) {
    return userError("<File " + input_filename + " has no content or file is missing>",
                     input_filename);
  }
  for (const auto& file : request_.files) {
    if (!isSafeRelativePath(file.filename)) {
      return userError("<Invalid filename>", input_filename);
    }
  }
  result_.input_filename = input_filename;
  result_.instruction_set = compiler_.instruction_set;

  Status s = prepareDirectory();
  if (s.isOk()) {
    s = runCompiler();
  }
  if (!s.isOk()) {
    return s;
  }
  if (purpose_ == Purpose::Asm) {
    produceAsm();
  }
  return std::move(result_);
}

Status CompileJob::prepareDirectory() {
  auto dir = TempDir::create(settings_.temp_root, "cex-compile-");
  if (!dir.ok()) {
    return dir.status();
  }
  dir_.emplace(std::move(dir).value());
  paths_.dir = dir_->path();
  paths_.input = paths_.dir + "/" + result_.input_filename;
  paths_.output = paths_.dir + "/output.s";
  masking_ = {paths_.dir, paths_.input, result_.input_filename};
  readable_paths_ = readablePathsFor(compiler_, request_.libraries, registry_);

  Status s = writeExtraFiles(paths_.dir, request_.files);
  if (!s.isOk()) {
    return s;
  }
  return writeFile(paths_.input, sourceToWrite(compiler_, request_, filters_));
}

ProcessSpec CompileJob::processSpec() const {
  ProcessSpec spec;
  spec.cwd = paths_.dir;
  spec.env = compilerEnvironment(settings_, paths_.dir);
  spec.timeout = settings_.compile_timeout;
  spec.profile = SandboxProfile::Compiler;
  spec.writable_paths = {paths_.dir};
  spec.readonly_paths = readable_paths_;
  return spec;
}

Status CompileJob::runCompiler() {
  ProcessSpec spec = processSpec();
  spec.argv =
      compilerArgv(compiler_, filters_, libraryFlags(compiler_, request_.libraries, registry_),
                   request_.user_arguments, paths_);
  spec.max_stdout = settings_.max_compiler_output;
  spec.max_stderr = settings_.max_compiler_output;
  auto run = runner_.run(spec);
  if (!run.ok()) {
    return run.status();
  }

  result_.compilation_options = maskedArguments(spec.argv);
  result_.code = run->exit_code;
  result_.timed_out = run->timed_out;
  result_.truncated = run->truncated;
  result_.exec_time_ms = static_cast<int64_t>(run->wall_ms);
  result_.ok_to_cache = !run->timed_out && !run->truncated;
  collectCompilerOutput(*run, masking_, &result_);
  return Status::ok();
}

std::vector<std::string> CompileJob::maskedArguments(const std::vector<std::string>& argv) const {
  std::vector<std::string> masked;
  for (size_t i = 1; i < argv.size(); ++i) {
    masked.push_back(replaceAll(argv[i], paths_.dir + "/", ""));
  }
  return masked;
}

void CompileJob::produceAsm() {
  if (result_.code != 0 || result_.timed_out || result_.truncated) {
    result_.parsed.lines.push_back(placeholderLine("<Compilation failed>"));
    return;
  }
  if (request_.skip_asm) {
    return;
  }
  if (filters_.binary || filters_.binary_object) {
    produceBinaryAsm();
  } else {
    produceTextAsm();
  }
}

void CompileJob::produceTextAsm() {
  struct stat st {};

  if (::stat(paths_.output.c_str(), &st) != 0) {
    result_.parsed.lines.push_back(placeholderLine("<No output file output.s>"));
    return;
  }
  auto size = static_cast<uint64_t>(st.st_size);
  result_.asm_size = static_cast<int64_t>(size);
  if (size > settings_.max_asm_size) {
    result_.parsed.lines.push_back(
        placeholderLine("<No output: generated assembly was too large (" + std::to_string(size) +
                        " > " + std::to_string(settings_.max_asm_size) + " bytes)>"));
    return;
  }
  auto listing = readFile(paths_.output, settings_.max_asm_size);
  if (!listing.ok()) {
    result_.parsed.lines.push_back(placeholderLine("<No output file output.s>"));
    return;
  }
  result_.parsed = parseAsmText(*listing, parseOptions(compiler_, filters_));
  result_.has_parse_stats = true;
  finishAsm();
}

void CompileJob::produceBinaryAsm() {
  ProcessSpec spec = processSpec();
  spec.argv = objdumpArgv(compiler_, filters_, paths_.output);
  spec.max_stdout = settings_.max_asm_size;
  auto run = runner_.run(spec);
  if (!run.ok() || run->exit_code != 0) {
    int code = run.ok() ? run->exit_code : -1;
    result_.parsed.lines.push_back(
        placeholderLine("<No output: objdump returned " + std::to_string(code) + ">"));
    return;
  }
  result_.objdump_time_ms = static_cast<int64_t>(run->wall_ms);
  result_.parsed = parseObjdump(run->stdout_data, parseOptions(compiler_, filters_));
  result_.has_parse_stats = true;
  finishAsm();
}

void CompileJob::finishAsm() {
  // objdump demangles by itself (-C) in binary modes.
  bool binary = filters_.binary || filters_.binary_object;
  if (filters_.demangle && compiler_.supports_demangle && !binary) {
    demangle();
  }
  if (filters_.dont_mask_filenames) {
    maskSourceFiles();
  }
}

// In process, unless the compiler is configured with a demangler of its own (c++filt,
// llvm-cxxfilt, ...), which then gets every mangled symbol on stdin, one per line.
void CompileJob::demangle() {
  if (compiler_.demangler.empty()) {
    demangleAsm(&result_.parsed);
    return;
  }
  std::vector<std::string> symbols = mangledSymbols(result_.parsed);
  if (symbols.empty()) {
    return;
  }
  ProcessSpec spec = processSpec();
  spec.argv = {compiler_.demangler};
  spec.argv.insert(spec.argv.end(), compiler_.demangler_args.begin(),
                   compiler_.demangler_args.end());
  spec.max_stdout = settings_.max_asm_size;
  spec.stdin_data = join(symbols, "\n") + "\n";
  auto run = runner_.run(spec);
  std::vector<std::string_view> names;
  if (run.ok() && run->exit_code == 0) {
    names = split(run->stdout_data, '\n');
  }
  if (names.size() < symbols.size()) {
    spdlog::warn("demangler failed exe={} compiler_id={}; demangling in process",
                 compiler_.demangler, compiler_.id);
    demangleAsm(&result_.parsed);
    return;
  }
  DemangledNames table;
  for (size_t i = 0; i < symbols.size(); ++i) {
    table.emplace(symbols[i], std::string(names[i]));
  }
  demangleAsm(&result_.parsed, &table);
}

// Real file names are shown, but never the private directory they live in.
void CompileJob::maskSourceFiles() {
  std::string prefix = paths_.dir + "/";
  for (auto& line : result_.parsed.lines) {
    if (line.source && line.source->file && line.source->file->starts_with(prefix)) {
      line.source->file = line.source->file->substr(prefix.size());
    }
  }
}

Result<CompileResult> runCompileJob(const CompilerInfo& compiler, const CompileRequest& request,
                                    const CompileSettings& settings, ProcessRunner& runner,
                                    const CompilerRegistry& registry) {
  CompileJob job(compiler, request, settings, runner, registry);
  return job.run();
}

}  // namespace cex

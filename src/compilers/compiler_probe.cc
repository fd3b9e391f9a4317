#include "compilers/compiler_probe.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "base/strings.h"
#include "compilers/probe_process.h"

namespace cex {

namespace {

std::string firstLine(std::string_view text) {
  return std::string(trim(text.substr(0, text.find('\n'))));
}

// Runs one probe command and insists on exit status 0.
Result<ProcessOutput> runChecked(const std::vector<std::string>& argv, int timeout_ms) {
  Result<ProcessOutput> run = runProbeProcess(argv, timeout_ms);
  if (!run.ok()) {
    return run.status();
  }
  if (run->exit_code != 0) {
    std::string why = firstLine(run->err);
    return Status::unavailable(fmt::format("{} {}: exit code {} signal {}{}{}", argv[0], argv[1],
                                           run->exit_code, run->term_signal,
                                           why.empty() ? "" : ": ", why));
  }
  return run;
}

// Version output goes to stdout, except for the odd wrapper that writes it to stderr.
Status readVersion(const ProcessOutput& run, const std::string& exe, ProbeResult* result) {
  std::string_view text = trim(run.out).empty() ? run.err : run.out;
  result->full_version = std::string(trim(text));
  result->version = firstLine(result->full_version);
  if (!parseVersionNumber(result->version)) {
    return Status::unavailable(fmt::format("{}: no version number in '{}'", exe, result->version));
  }
  return Status::ok();
}

// The `-x` language for an empty gcc input of `lang`.
const char* gccInputLanguage(std::string_view lang) {
  if (lang == "c++") {
    return "c++";
  }
  return lang == "fortran" ? "f95" : "c";
}

Result<ProbeResult> probeGccOrClang(const std::string& exe, CompilerKind kind,
                                    std::string_view lang, int timeout_ms) {
  ProbeResult result;
  Result<ProcessOutput> version = runChecked({exe, "--version"}, timeout_ms);
  if (!version.ok()) {
    return version.status();
  }
  Status s = readVersion(*version, exe, &result);
  if (!s.isOk()) {
    return s;
  }

  Result<ProcessOutput> machine = runChecked({exe, "-dumpmachine"}, timeout_ms);
  if (!machine.ok()) {
    return machine.status();
  }
  result.target = firstLine(machine->out);

  // Clang's Intel syntax follows from the target; gcc has to be asked.
  if (kind == CompilerKind::Clang) {
    return result;
  }
  Result<ProcessOutput> intel = runProbeProcess(
      {exe, "-masm=intel", "-fsyntax-only", "-x", gccInputLanguage(lang), "/dev/null"}, timeout_ms);
  if (!intel.ok()) {
    return intel.status();
  }
  result.accepts_masm_intel = intel->exit_code == 0;
  return result;
}

// Finds the compiler binary a rustup proxy would run: <sysroot>/bin/rustc.
Status resolveRustc(const std::string& exe, int timeout_ms, ProbeResult* result) {
  Result<ProcessOutput> sysroot = runChecked({exe, "--print", "sysroot"}, timeout_ms);
  if (!sysroot.ok()) {
    return sysroot.status();
  }
  std::string candidate = firstLine(sysroot->out) + "/bin/rustc";
  char real_exe[PATH_MAX];
  char real_candidate[PATH_MAX];
  if (::realpath(exe.c_str(), real_exe) == nullptr ||
      ::realpath(candidate.c_str(), real_candidate) == nullptr ||
      std::string_view(real_exe) == std::string_view(real_candidate)) {
    return Status::ok();
  }
  Result<FileStamp> stamp = stampFile(candidate);
  if (stamp.ok()) {
    result->resolved_exe = candidate;
    result->resolved_stamp = *stamp;
  }
  return Status::ok();
}

Result<ProbeResult> probeRustc(const std::string& exe, int timeout_ms) {
  ProbeResult result;
  Result<ProcessOutput> verbose = runChecked({exe, "-vV"}, timeout_ms);
  if (!verbose.ok()) {
    return verbose.status();
  }
  Status s = readVersion(*verbose, exe, &result);
  if (!s.isOk()) {
    return s;
  }
  for (std::string_view line : split(verbose->out, '\n')) {
    if (line.starts_with("host:")) {
      result.target = std::string(trim(line.substr(5)));
    }
  }

  s = resolveRustc(exe, timeout_ms, &result);
  if (!s.isOk()) {
    return s;
  }
  return result;
}

}  // namespace

FileStamp stampFromStat(const struct stat& st) {
  FileStamp stamp;
  stamp.size = static_cast<uint64_t>(st.st_size);
  stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return stamp;
}

Result<FileStamp> stampFile(const std::string& path) {
  struct stat st {};

  if (::stat(path.c_str(), &st) != 0) {
    return Status::fromErrno("stat " + path, errno);
  }
  return stampFromStat(st);
}

Result<ProbeResult> probeCompiler(const std::string& exe, CompilerKind kind, std::string_view lang,
                                  int timeout_ms) {
  if (kind == CompilerKind::Rustc) {
    return probeRustc(exe, timeout_ms);
  }
  return probeGccOrClang(exe, kind, lang, timeout_ms);
}

}  // namespace cex

#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/status.h"
#include "compile/compile_request.h"
#include "compile/compile_result.h"
#include "compile/compiler_command.h"
#include "compile/diagnostics.h"
#include "compilers/compiler_info.h"
#include "sandbox/process.h"

namespace cex {

struct CompileSettings;
class ProcessRunner;
class CompilerRegistry;

// Carries one compile through its steps in a private directory that lives as long as the
// job: source files written, the compiler run under limits, then either the asm parsed
// (Purpose::Asm) or the linked program left in place for a run (Purpose::Executable). A user
// error (empty source, bad file name) or a compiler failure is a result; only trouble on
// cex's side (no temp dir, compiler missing) is an error Status.
class CompileJob {
 public:
  enum class Purpose { Asm, Executable };

  CompileJob(const CompilerInfo& compiler, const CompileRequest& request,
             const CompileSettings& settings, ProcessRunner& runner,
             const CompilerRegistry& registry, Purpose purpose = Purpose::Asm);

  Result<CompileResult> run();

  // Where the job's files are; valid after run() until the job is destroyed.
  const CompilePaths& paths() const { return paths_; }

  // Paths outside the private directory the compiler needs to read (its own tree when it is
  // not under /usr, library include directories).
  const std::vector<std::string>& readablePaths() const { return readable_paths_; }

 private:
  // A process spec with what every run of this job shares: directory, environment, limits.
  ProcessSpec processSpec() const;
  Status prepareDirectory();
  Status runCompiler();
  void produceAsm();
  void produceTextAsm();
  void produceBinaryAsm();
  void finishAsm();
  void demangle();
  std::vector<std::string> maskedArguments(const std::vector<std::string>& argv) const;
  void maskSourceFiles();

  const CompilerInfo& compiler_;
  const CompileRequest& request_;
  const CompileSettings& settings_;
  ProcessRunner& runner_;
  const CompilerRegistry& registry_;
  Purpose purpose_;
  CompileFilters filters_;
  std::optional<TempDir> dir_;
  CompilePaths paths_;
  OutputMasking masking_;
  std::vector<std::string> readable_paths_;
  CompileResult result_;
};

// Runs a whole asm compile; the directory is gone when this returns.
Result<CompileResult> runCompileJob(const CompilerInfo& compiler, const CompileRequest& request,
                                    const CompileSettings& settings, ProcessRunner& runner,
                                    const CompilerRegistry& registry);

// The file name of the main source for a language: "example" plus its first extension.
std::string inputFilenameFor(const std::string& lang);

// Variables every process of a compile inherits from cex (the settings' pass-through list),
// plus TMPDIR pointing into the private directory.
std::vector<std::string> compilerEnvironment(const CompileSettings& settings,
                                             const std::string& dir);

}  // namespace cex

#pragma once

#include <sys/stat.h>

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/files.h"
#include "base/strings.h"

namespace cex {

// Writes an executable shell script that answers the probes of a gcc-like driver the way a
// real one would, and appends each invocation to `log` so tests can count compiler runs.
inline void writeFakeCompiler(const std::string& path, const std::string& version_line,
                              const std::string& target, const std::string& log) {
  std::string script = fmt::format(
      "#!/bin/sh\n"
      "echo \"$0 $*\" >> '{}'\n"
      "case \"$1\" in\n"
      "  --version) echo '{}'; echo 'This is a fake compiler for tests.';;\n"
      "  -dumpmachine) echo '{}';;\n"
      "  -masm=intel) exit 0;;\n"
      "  *) exit 1;;\n"
      "esac\n",
      log, version_line, target);
  ASSERT_TRUE(writeFile(path, script).isOk()) << path;
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0) << path;
}

// Writes an executable script with the given body.
inline void writeScript(const std::string& path, const std::string& body) {
  ASSERT_TRUE(writeFile(path, "#!/bin/sh\n" + body).isOk()) << path;
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0) << path;
}

// How many times the fake compilers logging to `log` have run.
inline int countRuns(const std::string& log) {
  Result<std::string> text = readFile(log);
  if (!text.ok()) {
    return 0;
  }
  return static_cast<int>(splitNonEmpty(*text, '\n').size());
}

}  // namespace cex

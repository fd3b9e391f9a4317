#pragma once

#include <sys/types.h>

#include <string>
#include <tuple>
#include <vector>

#include "compilers/compiler_probe.h"
#include "compilers/naming.h"

namespace cex {

// The binary behind a path once symbolic links are followed; hard links share it too.
struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;

  bool operator==(const FileIdentity&) const = default;

  bool operator<(const FileIdentity& other) const {
    return std::tie(dev, ino) < std::tie(other.dev, other.ino);
  }
};

// An executable in a search dir whose name is a compiler driver.
struct Candidate {
  std::string exe;  // <dir>/<name> as found; the name selects the driver
  DriverName driver;
  FileIdentity identity;
  FileStamp stamp;
};

// $PATH followed by /usr/bin.
std::vector<std::string> defaultSearchDirs();

// Lists the compiler drivers in `dirs`, in order (dirs as given, names sorted within a dir).
// Directories that are the same one (a symlinked /bin and /usr/bin) are read once. Names
// that reach the same binary for the same language (`g++` and `g++-12`) become one
// candidate, placed where the first was found and named by a versioned name when there is
// one. Missing or unreadable dirs are skipped.
std::vector<Candidate> scanForCompilers(const std::vector<std::string>& dirs);

// Identity and stamp of an executable; fails when it is not an executable regular file.
Status identifyExecutable(const std::string& path, FileIdentity* identity, FileStamp* stamp);

}  // namespace cex

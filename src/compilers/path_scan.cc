#include "compilers/path_scan.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <map>
#include <set>
#include <tuple>

#include "base/strings.h"

namespace cex {

namespace {

// Sorted names in `dir` that are compiler drivers.
std::vector<std::string> driverNamesIn(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return names;
  }
  // readdir is safe here: the stream belongs to this call alone.
  while (const dirent* entry = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
    if (parseDriverName(entry->d_name)) {
      names.emplace_back(entry->d_name);
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// The dirs with duplicates (by real path) and missing ones removed, order kept.
std::vector<std::string> distinctDirs(const std::vector<std::string>& dirs) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& dir : dirs) {
    char real[PATH_MAX];
    if (!dir.empty() && ::realpath(dir.c_str(), real) != nullptr && seen.insert(real).second) {
      out.push_back(dir);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> defaultSearchDirs() {
  // Read once at start-up, before any thread could change the environment.
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe)
  std::vector<std::string> dirs = splitNonEmpty(path == nullptr ? "" : path, ':');
  dirs.emplace_back("/usr/bin");
  return dirs;
}

Status identifyExecutable(const std::string& path, FileIdentity* identity, FileStamp* stamp) {
  struct stat st {};

  if (::stat(path.c_str(), &st) != 0) {
    return Status::fromErrno("stat " + path, errno);
  }
  if (!S_ISREG(st.st_mode) || ::access(path.c_str(), X_OK) != 0) {
    return Status::invalidArgument(path + ": not an executable file");
  }
  *identity = FileIdentity{st.st_dev, st.st_ino};
  *stamp = stampFromStat(st);
  return Status::ok();
}

std::vector<Candidate> scanForCompilers(const std::vector<std::string>& dirs) {
  std::vector<Candidate> found;
  // (binary, language) -> index in found; clang and clang++ are one binary, two languages.
  std::map<std::tuple<dev_t, ino_t, std::string>, size_t> by_binary;
  for (const std::string& dir : distinctDirs(dirs)) {
    for (const std::string& name : driverNamesIn(dir)) {
      Candidate c;
      c.exe = dir + "/" + name;
      c.driver = *parseDriverName(name);
      if (!identifyExecutable(c.exe, &c.identity, &c.stamp).isOk()) {
        continue;  // A dangling link or a non-executable file.
      }
      auto key = std::make_tuple(c.identity.dev, c.identity.ino, c.driver.lang);
      auto [it, inserted] = by_binary.emplace(key, found.size());
      if (inserted) {
        found.push_back(std::move(c));
      } else if (c.driver.versioned && !found[it->second].driver.versioned) {
        // g++-12 says which compiler it is; plain g++ may point elsewhere tomorrow.
        found[it->second].exe = c.exe;
        found[it->second].driver = c.driver;
      }
    }
  }
  return found;
}

}  // namespace cex

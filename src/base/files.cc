#include "base/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include <spdlog/spdlog.h>

namespace cex {

namespace {

// Closes a file descriptor when it goes out of scope.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}

  ~FdCloser() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }

  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

Status writeAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status::fromErrno("write " + path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

// Removes the entries of an open directory, then the directory itself via its parent.
Status removeDirectoryContents(int dir_fd, const std::string& path);

Status removeEntry(int parent_fd, const char* name, const std::string& path) {
  if (::unlinkat(parent_fd, name, 0) == 0) {
    return Status::ok();
  }
  if (errno != EISDIR && errno != EPERM) {
    return errno == ENOENT ? Status::ok() : Status::fromErrno("unlink " + path, errno);
  }
  // A directory: make sure we may list and modify it, then empty it.
  ::fchmodat(parent_fd, name, 0700, 0);
  int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Status::fromErrno("open " + path, errno);
  }
  Status s = removeDirectoryContents(fd, path);
  if (!s.isOk()) {
    return s;
  }
  if (::unlinkat(parent_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return Status::fromErrno("rmdir " + path, errno);
  }
  return Status::ok();
}

Status removeDirectoryContents(int dir_fd, const std::string& path) {
  DIR* dir = ::fdopendir(dir_fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(dir_fd);
    return Status::fromErrno("opendir " + path, err);
  }
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  Status result;
  for (const auto& name : names) {
    Status s = removeEntry(::dirfd(dir), name.c_str(), path + "/" + name);
    if (!s.isOk() && result.isOk()) {
      result = s;
    }
  }
  ::closedir(dir);
  return result;
}

}  // namespace

Result<std::string> readFile(const std::string& path, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::fromErrno("open " + path, errno);
  }
  FdCloser closer(fd);

  struct stat st {};

  if (::fstat(fd, &st) != 0) {
    return Status::fromErrno("stat " + path, errno);
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return Status::resourceExhausted("read " + path + ": file is larger than the limit");
  }
  std::string data;
  data.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (true) {
    if (got == data.size()) {
      // The file may have grown since fstat; read on in chunks up to the limit.
      if (data.size() >= max_bytes) {
        break;
      }
      data.resize(std::min<uint64_t>(data.size() + 65536, max_bytes));
    }
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status::fromErrno("read " + path, errno);
    }
    if (n == 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  data.resize(got);
  return data;
}

Status writeFile(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    return Status::fromErrno("open " + path, errno);
  }
  FdCloser closer(fd);
  return writeAll(fd, data, path);
}

Status writeFileAtomically(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  Status s = writeFile(tmp, data);
  if (!s.isOk()) {
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status::fromErrno("rename " + tmp, err);
  }
  return Status::ok();
}

Status makeDirectories(const std::string& path) {
  if (path.empty()) {
    return Status::invalidArgument("mkdir: empty path");
  }
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return Status::fromErrno("mkdir " + prefix, errno);
    }
  }
  return Status::ok();
}

Status removeTree(const std::string& path) {
  std::string parent = ".";
  std::string name = path;
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos) {
    parent = slash == 0 ? "/" : path.substr(0, slash);
    name = path.substr(slash + 1);
  }
  int parent_fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent_fd < 0) {
    return errno == ENOENT ? Status::ok() : Status::fromErrno("open " + parent, errno);
  }
  FdCloser closer(parent_fd);
  return removeEntry(parent_fd, name.c_str(), path);
}

Result<uint64_t> freeSpaceMiB(const std::string& path) {
  struct statvfs st {};

  if (::statvfs(path.c_str(), &st) != 0) {
    return Status::fromErrno("statvfs " + path, errno);
  }
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize / (1024 * 1024);
}

Result<TempDir> TempDir::create(const std::string& root, std::string_view prefix) {
  std::string templ = root + "/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    return Status::fromErrno("mkdtemp " + templ, errno);
  }
  return TempDir(std::move(templ));
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    TempDir old(std::move(path_));
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (path_.empty()) {
    return;
  }
  Status s = removeTree(path_);
  if (!s.isOk()) {
    spdlog::warn("tempdir remove failed path={} error=\"{}\"", path_, s.message());
  }
}

}  // namespace cex

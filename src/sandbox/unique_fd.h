#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "base/status.h"

namespace cex {

// Owns one file descriptor and closes it when destroyed; -1 means none.
class UniqueFd {
 public:
  UniqueFd() = default;

  explicit UniqueFd(int fd) : fd_(fd) {}

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}

  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }

  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  ~UniqueFd() { reset(-1); }

  int get() const { return fd_; }

  bool valid() const { return fd_ >= 0; }

  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

  void reset(int fd) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Both ends of a pipe, each close-on-exec.
struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

inline Result<Pipe> makePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Status::fromErrno("pipe2", errno);
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Writes all of `data`, retrying after interrupts; fails on any other error.
inline Status writeAllToFd(int fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Status::fromErrno("write " + std::string(what), errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

}  // namespace cex

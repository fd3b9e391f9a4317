#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cex {

// A TCP port on 127.0.0.1 that is free now; another process could still take it before use.
inline uint16_t freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Whether something accepts connections on 127.0.0.1:port.
inline bool accepting(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

// A temporary directory, removed with everything in it when this goes.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/cex-events-test-XXXXXX";
    path_ = ::mkdtemp(pattern) != nullptr ? pattern : "";
  }

  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A child process that a test starts and must end: killed with SIGKILL if still running when
// this goes. Its stdout and stderr go to `log_path` (appended) when one is given.
class ChildProcess {
 public:
  // Runs `body` in a forked child and exits with what it returns. Only for a test process that
  // has no other threads at the time.
  static ChildProcess fork(const std::function<int()>& body, const std::string& log_path = "") {
    ChildProcess child;
    child.pid_ = ::fork();
    if (child.pid_ == 0) {
      redirect(log_path);
      ::_exit(body());
    }
    return child;
  }

  // Runs argv[0] with `argv`.
  static ChildProcess exec(const std::vector<std::string>& argv, const std::string& log_path = "") {
    return fork(
        [&argv] {
          std::vector<char*> args;
          for (const std::string& arg : argv) {
            args.push_back(const_cast<char*>(arg.c_str()));
          }
          args.push_back(nullptr);
          ::execv(args[0], args.data());
          return 127;
        },
        log_path);
  }

  ChildProcess() = default;

  ChildProcess(ChildProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}

  ChildProcess& operator=(ChildProcess&& other) noexcept {
    std::swap(pid_, other.pid_);
    return *this;
  }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  bool started() const { return pid_ > 0; }

  // Sends `signal` and waits up to `timeout` for the exit; the exit status, or nullopt when it
  // did not exit normally in time.
  std::optional<int> stop(int signal, std::chrono::milliseconds timeout) {
    ::kill(pid_, signal);
    return wait(timeout);
  }

  std::optional<int> wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? std::optional<int>(WEXITSTATUS(status)) : std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::nullopt;
  }

 private:
  static void redirect(const std::string& log_path) {
    if (log_path.empty()) {
      return;
    }
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
  }

  pid_t pid_ = -1;
};

// A nats-server with JetStream on 127.0.0.1, storing in a directory of its own, for one test.
class NatsServerProcess {
 public:
  static constexpr const char* kBinary = "/usr/sbin/nats-server";

  static bool installed() { return ::access(kBinary, X_OK) == 0; }

  NatsServerProcess() : port_(freePort()) { start(); }

  // Starts it again on the same port and store, e.g. after stop().
  void start() {
    process_ = ChildProcess::exec(
        {kBinary, "-a", "127.0.0.1", "-p", std::to_string(port_), "-js", "-sd", store_.path()},
        store_.path() + "/nats-server.log");
  }

  void stop() { process_.stop(SIGTERM, std::chrono::milliseconds(10'000)); }

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

  uint16_t port() const { return port_; }

 private:
  TempDir store_;
  uint16_t port_;
  ChildProcess process_;
};

}  // namespace cex

#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace cex {

// A nats-server with JetStream for one test, on 127.0.0.1 and a free port, storing in a
// directory the test owns. It is killed when this object goes, and also if the test process
// dies (the child asks the kernel for SIGKILL when its parent ends).
class NatsTestServer {
 public:
  static constexpr const char* kBinary = "/usr/sbin/nats-server";

  static bool installed() { return ::access(kBinary, X_OK) == 0; }

  ~NatsTestServer() { stop(); }

  // Starts the server and waits until it accepts connections; false if it did not within
  // five seconds. `port` 0 picks a free one; a restart passes port() to keep the address.
  bool start(const std::string& store_dir, uint16_t port = 0) {
    port_ = port != 0 ? port : freePort();
    std::string log = store_dir + "/nats-server.log";
    std::string port_text = std::to_string(port_);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(kBinary, kBinary, "-a", "127.0.0.1", "-p", port_text.c_str(), "-js", "-sd",
              store_dir.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid_ > 0 && waitUntilAccepting(std::chrono::seconds(5));
  }

  // Stops the server (SIGTERM, then SIGKILL if it lingers) and reaps it.
  void stop() {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 250; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  uint16_t port() const { return port_; }

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  static uint16_t freePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(addr);
    bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                 ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0;
    ::close(fd);
    // Port 0 makes start() fail: nothing will accept there.
    return bound ? ntohs(addr.sin_port) : 0;
  }

  bool acceptsConnections() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return ok;
  }

  bool waitUntilAccepting(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (acceptsConnections()) {
        return true;
      }
      // A server that exited (port taken, bad flags) will never accept.
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace cex

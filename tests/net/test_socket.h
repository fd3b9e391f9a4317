#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cex {

// A blocking TCP client on a raw socket, for tests that must control every byte on the wire
// or misbehave on purpose (stop reading, send garbage, vanish).
class TestSocket {
 public:
  using Clock = std::chrono::steady_clock;
  using Ms = std::chrono::milliseconds;

  // `receive_buffer` > 0 shrinks the kernel's receive buffer before connecting.
  explicit TestSocket(uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }

  ~TestSocket() { closeNow(); }

  TestSocket(const TestSocket&) = delete;
  TestSocket& operator=(const TestSocket&) = delete;

  bool connected() const { return connected_; }

  void closeNow() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Everything up to and including `delimiter`.
  std::optional<std::string> readUntil(std::string_view delimiter, Ms timeout = Ms(5000)) {
    auto deadline = Clock::now() + timeout;
    size_t end;
    while ((end = pending_.find(delimiter)) == std::string::npos) {
      if (!fill(deadline)) {
        return std::nullopt;
      }
    }
    std::string out = pending_.substr(0, end + delimiter.size());
    pending_.erase(0, out.size());
    return out;
  }

  std::optional<std::string> readExactly(size_t size, Ms timeout = Ms(5000)) {
    auto deadline = Clock::now() + timeout;
    while (pending_.size() < size) {
      if (!fill(deadline)) {
        return std::nullopt;
      }
    }
    std::string out = pending_.substr(0, size);
    pending_.erase(0, size);
    return out;
  }

  // True once the peer has closed (EOF or reset); whatever arrives before is discarded.
  bool waitClosed(Ms timeout = Ms(5000)) {
    auto deadline = Clock::now() + timeout;
    while (fill(deadline)) {
      pending_.clear();
    }
    return closed_;
  }

  // True once the peer has closed (EOF or reset) without sending anything more.
  bool closesWithNothingMore(Ms timeout = Ms(5000)) {
    auto deadline = Clock::now() + timeout;
    while (fill(deadline)) {
    }
    return closed_ && pending_.empty();
  }

  // True when nothing arrives and the connection stays open for `quiet`.
  bool staysQuiet(Ms quiet) { return !fill(Clock::now() + quiet) && !closed_; }

  bool closed() const { return closed_; }

 private:
  // Appends what arrives before the deadline; false on timeout, EOF or error.
  bool fill(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      return false;
    }
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    pending_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string pending_;
};

}  // namespace cex

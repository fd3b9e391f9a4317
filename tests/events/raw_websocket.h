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

// A WebSocket client on a bare socket, for tests that must see every frame the gateway writes
// or misbehave on purpose (stop reading, send what the protocol forbids). Blocking, one thread.
class RawWebSocket {
 public:
  using Ms = std::chrono::milliseconds;

  static constexpr int kText = 1;
  static constexpr int kBinary = 2;
  static constexpr int kClose = 8;
  static constexpr int kPing = 9;
  static constexpr int kPong = 10;

  struct Frame {
    int opcode = 0;
    std::string payload;
  };

  // `receive_buffer` > 0 shrinks the kernel's receive buffer before connecting.
  explicit RawWebSocket(uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }

  ~RawWebSocket() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }

  RawWebSocket(const RawWebSocket&) = delete;
  RawWebSocket& operator=(const RawWebSocket&) = delete;

  // Sends the upgrade request for `path`; true when the answer is 101.
  bool upgrade(std::string_view path) {
    std::string request = "GET " + std::string(path) +
                          " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: c2FtcGxlIGtleSAxMjM0NQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n";
    if (!connected_ || !sendAll(request)) {
      return false;
    }
    while (buffer_.find("\r\n\r\n") == std::string::npos) {
      if (!fill(Ms(5000))) {
        return false;
      }
    }
    size_t end = buffer_.find("\r\n\r\n") + 4;
    bool switched = buffer_.starts_with("HTTP/1.1 101");
    buffer_.erase(0, end);
    return switched;
  }

  bool sendText(std::string_view text) { return sendAll(encode(kText, text)); }

  bool sendBinary(std::string_view data) { return sendAll(encode(kBinary, data)); }

  // Sends raw bytes, e.g. several encoded frames in one write.
  bool sendAll(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // One client frame: masked, final.
  static std::string encode(int opcode, std::string_view payload) {
    std::string out;
    out.push_back(static_cast<char>(0x80 | opcode));
    uint64_t size = payload.size();
    if (size < 126) {
      out.push_back(static_cast<char>(0x80 | size));
    } else if (size <= 0xFFFF) {
      out.push_back(static_cast<char>(0x80 | 126));
      out.push_back(static_cast<char>(size >> 8));
      out.push_back(static_cast<char>(size & 0xFF));
    } else {
      out.push_back(static_cast<char>(0x80 | 127));
      for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((size >> shift) & 0xFF));
      }
    }
    const char mask[4] = {0x0A, 0x1B, 0x2C, 0x3D};
    out.append(mask, 4);
    for (size_t i = 0; i < payload.size(); ++i) {
      out.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
    }
    return out;
  }

  // The next data or close frame; pings and pongs are skipped.
  std::optional<Frame> readFrame(Ms timeout = Ms(10'000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto frame = readAnyFrame(deadline);
      if (!frame || (frame->opcode != kPing && frame->opcode != kPong)) {
        return frame;
      }
    }
  }

  // The payload of the next text frame; nullopt on timeout, close or any other frame.
  std::optional<std::string> readText(Ms timeout = Ms(10'000)) {
    auto frame = readFrame(timeout);
    if (!frame || frame->opcode != kText) {
      return std::nullopt;
    }
    return std::move(frame->payload);
  }

  // True once the gateway has closed the TCP connection; frames before are discarded.
  bool waitClosed(Ms timeout = Ms(10'000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_) {
      buffer_.clear();
      if (!fill(deadline - std::chrono::steady_clock::now()) && !closed_) {
        return false;
      }
    }
    return true;
  }

 private:
  std::optional<Frame> readAnyFrame(std::chrono::steady_clock::time_point deadline) {
    if (!need(2, deadline)) {
      return std::nullopt;
    }
    Frame frame;
    frame.opcode = buffer_[0] & 0x0F;
    uint64_t size = buffer_[1] & 0x7F;
    size_t header = 2;
    if (size >= 126) {
      size_t extra = size == 126 ? 2 : 8;
      if (!need(2 + extra, deadline)) {
        return std::nullopt;
      }
      size = 0;
      for (size_t i = 0; i < extra; ++i) {
        size = (size << 8) | static_cast<uint8_t>(buffer_[2 + i]);
      }
      header += extra;
    }
    if (!need(header + size, deadline)) {
      return std::nullopt;
    }
    frame.payload = buffer_.substr(header, size);
    buffer_.erase(0, header + size);
    return frame;
  }

  bool need(size_t bytes, std::chrono::steady_clock::time_point deadline) {
    while (buffer_.size() < bytes) {
      if (!fill(deadline - std::chrono::steady_clock::now())) {
        return false;
      }
    }
    return true;
  }

  template <typename Duration>
  bool fill(Duration left) {
    auto ms = std::chrono::duration_cast<Ms>(left).count();
    pollfd p{fd_, POLLIN, 0};
    if (ms <= 0 || ::poll(&p, 1, static_cast<int>(ms)) <= 0) {
      return false;
    }
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

}  // namespace cex

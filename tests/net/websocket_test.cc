#include "net/websocket.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "net/http_server.h"
#include "net/websocket_client.h"
#include "test_socket.h"

namespace cex {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kWait{10'000};

// ----------------------------------------------------------------------------------------------
// A WebSocket peer on a raw socket, so that tests control every frame

struct Frame {
  bool fin = true;
  int opcode = 0;
  std::string payload;
};

constexpr int kText = 1;
constexpr int kBinary = 2;
constexpr int kContinuation = 0;
constexpr int kClose = 8;
constexpr int kPing = 9;
constexpr int kPong = 10;

// One frame as a client sends it: masked unless told otherwise.
std::string encodeFrame(int opcode, std::string_view payload, bool fin = true, bool masked = true,
                        int rsv = 0) {
  std::string out;
  out += static_cast<char>((fin ? 0x80 : 0) | (rsv << 4) | opcode);
  int mask_bit = masked ? 0x80 : 0;
  uint64_t size = payload.size();
  if (size < 126) {
    out += static_cast<char>(mask_bit | static_cast<int>(size));
  } else if (size <= 0xFFFF) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(size >> 8);
    out += static_cast<char>(size & 0xFF);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) {
      out += static_cast<char>((size >> shift) & 0xFF);
    }
  }
  if (!masked) {
    out += payload;
    return out;
  }
  const char key[4] = {0x12, 0x34, 0x56, 0x78};
  out.append(key, 4);
  for (size_t i = 0; i < payload.size(); ++i) {
    out += static_cast<char>(payload[i] ^ key[i % 4]);
  }
  return out;
}

std::string closePayload(int code) {
  return {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
}

int closeCode(const Frame& frame) {
  if (frame.payload.size() < 2) {
    return 0;
  }
  return (static_cast<uint8_t>(frame.payload[0]) << 8) | static_cast<uint8_t>(frame.payload[1]);
}

class RawWebSocket {
 public:
  explicit RawWebSocket(uint16_t port, int receive_buffer = 0) : socket_(port, receive_buffer) {}

  // Sends an upgrade request (plus `after`, sent in the same write) and returns the answer's
  // head.
  std::optional<std::string> upgrade(const std::string& path, const std::string& extra_headers = "",
                                     const std::string& after = "") {
    std::string headers = extra_headers;
    if (headers.find("Sec-WebSocket-Key") == std::string::npos) {
      headers += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    }
    if (headers.find("Sec-WebSocket-Version") == std::string::npos) {
      headers += "Sec-WebSocket-Version: 13\r\n";
    }
    std::string request = "GET " + path +
                          " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\n" +
                          headers + "\r\n" + after;
    if (!socket_.send(request)) {
      return std::nullopt;
    }
    return socket_.readUntil("\r\n\r\n");
  }

  bool send(std::string_view bytes) { return socket_.send(bytes); }

  bool sendFrame(int opcode, std::string_view payload, bool fin = true) {
    return socket_.send(encodeFrame(opcode, payload, fin));
  }

  // The next frame from the server, which must not be masked.
  std::optional<Frame> readFrame(milliseconds timeout = kWait) {
    auto head = socket_.readExactly(2, timeout);
    if (!head) {
      return std::nullopt;
    }
    Frame frame;
    frame.fin = ((*head)[0] & 0x80) != 0;
    frame.opcode = (*head)[0] & 0x0F;
    EXPECT_EQ((*head)[1] & 0x80, 0) << "server frames are never masked";
    uint64_t size = (*head)[1] & 0x7F;
    if (size >= 126) {
      auto extended = socket_.readExactly(size == 126 ? 2 : 8, timeout);
      if (!extended) {
        return std::nullopt;
      }
      size = 0;
      for (char c : *extended) {
        size = (size << 8) | static_cast<uint8_t>(c);
      }
    }
    auto payload = socket_.readExactly(size, timeout);
    if (!payload) {
      return std::nullopt;
    }
    frame.payload = std::move(*payload);
    return frame;
  }

  TestSocket& socket() { return socket_; }

 private:
  TestSocket socket_;
};

// ----------------------------------------------------------------------------------------------
// What the two sides report, for tests to wait on

// Counters and messages under one lock, with a condition to wait on.
class Recorder {
 public:
  template <typename Change>
  void update(Change&& change) {
    {
      std::lock_guard lock(mu_);
      change();
    }
    cv_.notify_all();
  }

  template <typename Predicate>
  bool waitFor(Predicate&& predicate, milliseconds timeout = kWait) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, predicate);
  }

  template <typename Read>
  auto read(Read&& read) {
    std::lock_guard lock(mu_);
    return read();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

// What the server's handlers saw.
struct ServerLog : Recorder {
  int opens = 0;
  int closes = 0;
  std::vector<std::string> messages;  // bodies up to 1 KiB; larger ones as "<size>"
  std::vector<WebSocketConnectionPtr> connections;
};

// Echoes every message with its kind; "throw" makes the handler throw and "bye" closes.
WebSocketHandler echoHandler(ServerLog& log) {
  WebSocketHandler handler;
  handler.on_open = [&log](const WebSocketConnectionPtr& connection) {
    log.update([&] {
      ++log.opens;
      log.connections.push_back(connection);
    });
  };
  handler.on_message = [&log](const WebSocketConnectionPtr& connection, std::string&& message,
                              bool binary) {
    if (message == "throw") {
      throw std::runtime_error("handler failure");
    }
    if (message == "bye") {
      connection->close();
      return;
    }
    std::string seen =
        message.size() <= 1024 ? message : "<" + std::to_string(message.size()) + ">";
    if (binary) {
      connection->sendBinary(std::move(message));
    } else {
      connection->send(std::move(message));
    }
    log.update([&] { log.messages.push_back(std::move(seen)); });
  };
  handler.on_close = [&log](const WebSocketConnectionPtr&) {
    log.update([&] { ++log.closes; });
  };
  return handler;
}

// What a WebSocketClient reported.
struct ClientLog : Recorder {
  int opens = 0;
  int closes = 0;
  std::vector<std::pair<std::string, bool>> messages;
  std::vector<Status> reasons;
  // When each failed attempt was reported and the wait it announced.
  std::vector<std::pair<Clock::time_point, milliseconds>> failures;

  WebSocketClientHandler handler() {
    WebSocketClientHandler handler;
    handler.on_open = [this] {
      update([&] { ++opens; });
    };
    handler.on_message = [this](std::string&& message, bool binary) {
      update([&] { messages.emplace_back(std::move(message), binary); });
    };
    handler.on_close = [this](const Status& why) {
      update([&] {
        ++closes;
        reasons.push_back(why);
      });
    };
    handler.on_connect_failed = [this](const Status&, milliseconds retry_in) {
      update([&] { failures.emplace_back(Clock::now(), retry_in); });
    };
    return handler;
  }
};

// Runs an HttpServer with an echo WebSocket route on /echo; other paths answer 404 from the
// HTTP handler with "http:<path>" as the body, so tests can tell which side served them.
class WebSocketTest : public ::testing::Test {
 protected:
  void TearDown() override { stopServer(); }

  void startServer(HttpServerOptions options = {}, uint16_t port = 0,
                   std::vector<std::pair<std::string, WebSocketHandler>> routes = {}) {
    options.port = port;
    auto server = HttpServer::create(options, [this](HttpRequest&& request, Responder respond) {
      log_.update([&] { http_seen_.push_back(request); });
      HttpResponse response;
      response.status = 404;
      response.body = "http:" + request.path;
      respond(std::move(response));
    });
    ASSERT_TRUE(server.ok()) << server.status().toString();
    server_ = std::move(server.value());
    ASSERT_TRUE(server_->addWebSocketRoute("/echo", echoHandler(log_)).isOk());
    for (auto& [prefix, handler] : routes) {
      ASSERT_TRUE(server_->addWebSocketRoute(prefix, std::move(handler)).isOk());
    }
    port_ = server_->port();
    runner_ = std::thread([this] { server_->run(); });
  }

  void stopServer() {
    if (server_) {
      server_->stop();
    }
    if (runner_.joinable()) {
      runner_.join();
    }
    server_.reset();
  }

  std::string url(std::string_view path) const {
    return "ws://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  std::unique_ptr<WebSocketClient> startClient(std::string_view path, ClientLog& log,
                                               WebSocketClientOptions options = {}) {
    options.url = url(path);
    auto client = WebSocketClient::create(options, log.handler());
    EXPECT_TRUE(client.ok()) << client.status().toString();
    if (!client.ok()) {
      return nullptr;
    }
    (*client)->start();
    return std::move(client.value());
  }

  // Sends `text` and waits for the echo as the client's newest message.
  bool roundTrip(WebSocketClient& client, ClientLog& log, const std::string& text) {
    size_t before = log.read([&] { return log.messages.size(); });
    if (!client.send(text)) {
      return false;
    }
    return log.waitFor(
        [&] { return log.messages.size() > before && log.messages.back().first == text; });
  }

  ServerLog log_;
  std::vector<HttpRequest> http_seen_;  // guarded by log_; what reached the HTTP handler
  std::unique_ptr<HttpServer> server_;
  std::thread runner_;
  uint16_t port_ = 0;
};

// ----------------------------------------------------------------------------------------------
// Basics

TEST_F(WebSocketTest, EchoesTextAndBinaryWithTheCexClient) {
  startServer();
  ClientLog log;
  auto client = startClient("/echo", log);
  ASSERT_TRUE(log.waitFor([&] { return log.opens == 1; }));
  EXPECT_TRUE(client->connected());

  ASSERT_TRUE(client->send("hello"));
  ASSERT_TRUE(client->sendBinary(std::string("\0\1\xff", 3)));
  ASSERT_TRUE(log.waitFor([&] { return log.messages.size() == 2; }));
  log.read([&] {
    EXPECT_EQ(log.messages[0], std::make_pair(std::string("hello"), false));
    EXPECT_EQ(log.messages[1], std::make_pair(std::string("\0\1\xff", 3), true));
  });

  log_.read([&] {
    ASSERT_EQ(log_.connections.size(), 1u);
    const WebSocketConnectionPtr& connection = log_.connections[0];
    EXPECT_NE(connection->id(), 0u);
    EXPECT_EQ(connection->path(), "/echo");
    EXPECT_EQ(connection->remoteAddress(), "127.0.0.1");
  });
}

TEST_F(WebSocketTest, RoutesByPathPrefixAndShowsPathAndQuery) {
  WebSocketHandler greeter;
  greeter.on_open = [](const WebSocketConnectionPtr& connection) {
    connection->send(connection->path() + "|" + connection->query());
  };
  startServer({}, 0, {{"/events", greeter}});

  ClientLog below;
  auto client = startClient("/events/prod?tag=1", below);
  ASSERT_TRUE(below.waitFor([&] { return below.messages.size() == 1; }));
  below.read([&] { EXPECT_EQ(below.messages[0].first, "/events/prod|tag=1"); });

  // "/eventsX" is not under "/events": the HTTP handler answers and the upgrade fails.
  ClientLog beside;
  auto refused = startClient("/eventsX", beside);
  ASSERT_TRUE(beside.waitFor([&] { return beside.failures.size() >= 2; }));
  beside.read([&] { EXPECT_EQ(beside.opens, 0); });
}

TEST_F(WebSocketTest, ClientSendsItsOwnHeadersWithTheUpgrade) {
  startServer();

  // On a path without a route the upgrade request lands in the HTTP handler, which shows it.
  WebSocketClientOptions options;
  options.headers = {{"User-Agent", "cex-router"}, {"X-Env", "beta"}};
  ClientLog log;
  auto client = startClient("/nope?x=1", log, options);
  ASSERT_TRUE(log.waitFor([&] { return !log.failures.empty(); }));
  client->stop();
  log_.read([&] {
    ASSERT_FALSE(http_seen_.empty());
    const HttpRequest& request = http_seen_[0];
    EXPECT_EQ(request.target, "/nope?x=1");
    EXPECT_EQ(request.header("User-Agent"), "cex-router");
    EXPECT_EQ(request.header("X-Env"), "beta");
    EXPECT_EQ(request.header("Upgrade"), "websocket");
    EXPECT_EQ(request.header("Host"), "127.0.0.1:" + std::to_string(port_));
  });
  log.read([&] { EXPECT_EQ(log.opens, 0); });
}

TEST_F(WebSocketTest, PlainHttpOnAWebSocketRouteStillReachesTheHttpHandler) {
  startServer();
  TestSocket plain(port_);
  ASSERT_TRUE(plain.send("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto head = plain.readUntil("\r\n\r\n");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->rfind("HTTP/1.1 404 ", 0), 0u) << *head;
  EXPECT_EQ(plain.readExactly(10), "http:/echo");

  // An upgrade on a path without a route is plain HTTP too.
  RawWebSocket stray(port_);
  auto answer = stray.upgrade("/nope");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->rfind("HTTP/1.1 404 ", 0), 0u) << *answer;
  EXPECT_EQ(log_.read([&] { return log_.opens; }), 0);
}

TEST_F(WebSocketTest, RawHandshakeAndMaskedFrames) {
  startServer();
  RawWebSocket raw(port_);
  auto answer = raw.upgrade("/echo");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->rfind("HTTP/1.1 101 ", 0), 0u) << *answer;
  // The accept value RFC 6455 gives for this key.
  EXPECT_NE(answer->find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << *answer;

  ASSERT_TRUE(raw.sendFrame(kText, "hi"));
  auto echo = raw.readFrame();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->opcode, kText);
  EXPECT_TRUE(echo->fin);
  EXPECT_EQ(echo->payload, "hi");

  // A clean close: the server answers with the same code and ends the connection.
  ASSERT_TRUE(raw.sendFrame(kClose, closePayload(1000)));
  auto close = raw.readFrame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, kClose);
  EXPECT_EQ(closeCode(*close), 1000);

  // The server ends the TCP connection first; the client closes its side after that.
  EXPECT_TRUE(raw.socket().waitClosed());
  raw.socket().closeNow();
  EXPECT_TRUE(log_.waitFor([&] { return log_.closes == 1; }));
}

TEST_F(WebSocketTest, HandshakeWithoutAValidKeyIsRefused) {
  startServer();
  for (std::string key : {"", "short==", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25j*Q=="}) {
    RawWebSocket raw(port_);
    auto answer = raw.upgrade("/echo", "Sec-WebSocket-Key: " + key + "\r\n");
    ASSERT_TRUE(answer) << key;
    EXPECT_EQ(answer->rfind("HTTP/1.1 400 ", 0), 0u) << key << ": " << *answer;
    EXPECT_TRUE(raw.socket().waitClosed()) << key;
  }

  // Without the header at all, or with the wrong version.
  TestSocket missing(port_);
  ASSERT_TRUE(
      missing.send("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n"));
  auto answer = missing.readUntil("\r\n\r\n");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->rfind("HTTP/1.1 400 ", 0), 0u) << *answer;
  RawWebSocket old_version(port_);
  auto upgrade_required = old_version.upgrade("/echo", "Sec-WebSocket-Version: 8\r\n");
  ASSERT_TRUE(upgrade_required);
  EXPECT_EQ(upgrade_required->rfind("HTTP/1.1 426 ", 0), 0u) << *upgrade_required;
  EXPECT_EQ(log_.read([&] { return log_.opens; }), 0);
}

TEST_F(WebSocketTest, FramesSentBeforeTheHandshakeAnswerAreRefused) {
  startServer();
  RawWebSocket eager(port_);
  auto answer = eager.upgrade("/echo", "", encodeFrame(kText, "too early"));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->rfind("HTTP/1.1 400 ", 0), 0u) << *answer;
  EXPECT_EQ(log_.read([&] { return log_.opens; }), 0);
}

// ----------------------------------------------------------------------------------------------
// Framing

TEST_F(WebSocketTest, FragmentsAreReassembledAndPingsBetweenThemAnswered) {
  startServer();
  RawWebSocket raw(port_);
  ASSERT_TRUE(raw.upgrade("/echo"));

  // Control frames may come between the fragments of a message.
  ASSERT_TRUE(raw.sendFrame(kText, "Hel", false));
  ASSERT_TRUE(raw.sendFrame(kPing, "p1"));
  ASSERT_TRUE(raw.sendFrame(kContinuation, "lo ", false));
  ASSERT_TRUE(raw.sendFrame(kContinuation, "world"));

  auto pong = raw.readFrame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, kPong);
  EXPECT_EQ(pong->payload, "p1");
  auto echo = raw.readFrame();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->opcode, kText);
  EXPECT_EQ(echo->payload, "Hello world");
  log_.read([&] { EXPECT_EQ(log_.messages, std::vector<std::string>{"Hello world"}); });
}

TEST_F(WebSocketTest, TwentyMegabyteMessagesRoundTrip) {
  startServer();
  ClientLog log;
  auto client = startClient("/echo", log);
  ASSERT_TRUE(log.waitFor([&] { return log.opens == 1; }));

  std::string text(20 * 1024 * 1024, ' ');
  std::string binary(20 * 1024 * 1024 + 3, '\0');
  for (size_t i = 0; i < text.size(); ++i) {
    text[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  }
  for (size_t i = 0; i < binary.size(); ++i) {
    binary[i] = static_cast<char>((i * 131 + i / 65536) & 0xFF);
  }
  ASSERT_TRUE(client->send(text));
  ASSERT_TRUE(client->sendBinary(binary));
  ASSERT_TRUE(log.waitFor([&] { return log.messages.size() == 2; }, milliseconds(60'000)));
  log.read([&] {
    EXPECT_FALSE(log.messages[0].second);
    EXPECT_TRUE(log.messages[0].first == text);
    EXPECT_TRUE(log.messages[1].second);
    EXPECT_TRUE(log.messages[1].first == binary);
  });
}

TEST_F(WebSocketTest, MessageOverTheLimitClosesThatConnectionWith1009) {
  HttpServerOptions options;
  options.websocket.max_message_bytes = 1024 * 1024;
  startServer(options);
  ClientLog log;
  auto client = startClient("/echo", log);
  ASSERT_TRUE(log.waitFor([&] { return log.opens == 1; }));

  // A message exactly at the limit passes.
  std::string at_limit(1024 * 1024, 'x');
  ASSERT_TRUE(roundTrip(*client, log, at_limit));

  // The frame header alone announces too much; the server need not wait for the payload.
  RawWebSocket raw(port_);
  ASSERT_TRUE(raw.upgrade("/echo"));
  std::string big = encodeFrame(kBinary, std::string(1024 * 1024 + 1, 'y'));
  ASSERT_TRUE(raw.send(std::string_view(big).substr(0, 4096)));
  auto close = raw.readFrame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, kClose);
  EXPECT_EQ(closeCode(*close), 1009);
  raw.socket().closeNow();
  EXPECT_TRUE(log_.waitFor([&] { return log_.closes == 1; }));

  EXPECT_TRUE(roundTrip(*client, log, "still here"));
}

TEST_F(WebSocketTest, MalformedFramesCloseOnlyTheirOwnConnection) {
  startServer();
  ClientLog log;
  auto client = startClient("/echo", log);
  ASSERT_TRUE(log.waitFor([&] { return log.opens == 1; }));

  struct Case {
    std::string name;
    std::string bytes;
    int code;
  };

  std::vector<Case> cases = {
      {"unmasked", encodeFrame(kText, "x", true, false), 1002},
      {"reserved opcode", encodeFrame(3, "x"), 1002},
      {"reserved bit", encodeFrame(kText, "x", true, true, 4), 1002},
      {"fragmented ping", encodeFrame(kPing, "x", false), 1002},
      {"orphan continuation", encodeFrame(kContinuation, "x"), 1002},
      {"invalid utf-8", encodeFrame(kText, "\xff\xfe"), 1007},
      {"bad close code", encodeFrame(kClose, closePayload(999)), 1002},
  };
  for (const Case& c : cases) {
    RawWebSocket raw(port_);
    ASSERT_TRUE(raw.upgrade("/echo")) << c.name;
    ASSERT_TRUE(raw.send(c.bytes)) << c.name;
    auto close = raw.readFrame();
    ASSERT_TRUE(close) << c.name;
    EXPECT_EQ(close->opcode, kClose) << c.name;
    EXPECT_EQ(closeCode(*close), c.code) << c.name;
    EXPECT_TRUE(raw.socket().waitClosed()) << c.name;
  }

  int count = static_cast<int>(cases.size());
  EXPECT_TRUE(log_.waitFor([&] { return log_.closes == count; }));
  EXPECT_TRUE(roundTrip(*client, log, "unaffected"));
  log.read([&] { EXPECT_EQ(log.closes, 0); });
}

// ----------------------------------------------------------------------------------------------
// Peers that misbehave

TEST_F(WebSocketTest, ReaderThatStopsIsDroppedOnceOverTheQueueLimit) {
  ServerLog flood_log;
  WebSocketHandler flood;
  flood.on_open = [&](const WebSocketConnectionPtr& connection) {
    flood_log.update([&] { flood_log.connections.push_back(connection); });
  };
  flood.on_close = [&](const WebSocketConnectionPtr&) {
    flood_log.update([&] { ++flood_log.closes; });
  };
  HttpServerOptions options;
  options.websocket.max_queued_bytes = 1024 * 1024;
  startServer(options, 0, {{"/flood", flood}});
  ClientLog log;
  auto client = startClient("/echo", log);
  ASSERT_TRUE(log.waitFor([&] { return log.opens == 1; }));

  // The peer upgrades, then never reads again.
  RawWebSocket stuck(port_, 4096);
  ASSERT_TRUE(stuck.upgrade("/flood"));
  ASSERT_TRUE(flood_log.waitFor([&] { return flood_log.connections.size() == 1; }));
  WebSocketConnectionPtr connection = flood_log.read([&] { return flood_log.connections[0]; });

  // Sending never blocks; once the queue passes the limit the connection is refused and dropped.
  const std::string chunk(64 * 1024, 'f');
  const size_t give_up = size_t{512} * 1024 * 1024;
  size_t accepted = 0;
  while (accepted < give_up && connection->send(chunk)) {
    accepted += chunk.size();
  }
  EXPECT_LT(accepted, give_up) << "queue never refused";
  EXPECT_TRUE(flood_log.waitFor([&] { return flood_log.closes == 1; }));
  EXPECT_FALSE(connection->send("after"));
  EXPECT_TRUE(stuck.socket().waitClosed());

  // Everyone else is served as before.
  EXPECT_TRUE(roundTrip(*client, log, "unaffected"));
  log.read([&] { EXPECT_EQ(log.closes, 0); });
}

TEST_F(WebSocketTest, SilentPeerIsPingedThenDropped) {
  HttpServerOptions options;
  options.websocket.idle_timeout = milliseconds(600);
  startServer(options);
  WebSocketClientOptions client_options;
  client_options.websocket.idle_timeout = milliseconds(600);
  ClientLog log;
  auto client = startClient("/echo", log, client_options);
  ASSERT_TRUE(log.waitFor([&] { return log.opens == 1; }));

  // Half the idle timeout brings a ping; no answer for the other half ends the connection.
  RawWebSocket silent(port_);
  ASSERT_TRUE(silent.upgrade("/echo"));
  auto began = Clock::now();
  auto ping = silent.readFrame(milliseconds(3000));
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->opcode, kPing);
  EXPECT_TRUE(silent.socket().waitClosed(milliseconds(3000)));
  EXPECT_GE(Clock::now() - began, milliseconds(500));
  EXPECT_TRUE(log_.waitFor([&] { return log_.closes == 1; }));

  // The cex client answers pings by itself, and pings the server too: after more than two idle
  // timeouts with no messages at all, it is still connected.
  EXPECT_FALSE(log.waitFor([&] { return log.closes > 0; }, milliseconds(1500)));
  EXPECT_TRUE(client->connected());
  EXPECT_TRUE(roundTrip(*client, log, "alive"));
}

// ----------------------------------------------------------------------------------------------
// Closing

TEST_F(WebSocketTest, ThrowingHandlerClosesItsConnectionWith1011AndClientReconnects) {
  startServer();
  WebSocketClientOptions options;
  options.min_backoff = milliseconds(20);
  options.max_backoff = milliseconds(100);
  ClientLog log;
  auto client = startClient("/echo", log, options);
  ASSERT_TRUE(log.waitFor([&] { return log.opens == 1; }));

  ASSERT_TRUE(client->send("throw"));
  ASSERT_TRUE(log.waitFor([&] { return log.closes == 1; }));
  log.read([&] {
    EXPECT_NE(log.reasons[0].message().find("code=1011"), std::string::npos)
        << log.reasons[0].toString();
  });
  ASSERT_TRUE(log.waitFor([&] { return log.opens == 2; }));
  EXPECT_TRUE(roundTrip(*client, log, "again"));
}

TEST_F(WebSocketTest, ServerSideCloseIsAHandshakeAndTheClientComesBack) {
  startServer();
  WebSocketClientOptions options;
  options.min_backoff = milliseconds(20);
  options.max_backoff = milliseconds(100);
  ClientLog log;
  auto client = startClient("/echo", log, options);
  ASSERT_TRUE(log.waitFor([&] { return log.opens == 1; }));

  ASSERT_TRUE(client->send("bye"));
  ASSERT_TRUE(log.waitFor([&] { return log.closes == 1; }));
  log.read([&] {
    EXPECT_NE(log.reasons[0].message().find("code=1000"), std::string::npos)
        << log.reasons[0].toString();
  });
  EXPECT_TRUE(log_.waitFor([&] { return log_.closes == 1; }));

  // The handle of the closed connection refuses to send.
  WebSocketConnectionPtr old = log_.read([&] { return log_.connections[0]; });
  EXPECT_FALSE(old->send("late"));

  ASSERT_TRUE(log.waitFor([&] { return log.opens == 2; }));
  EXPECT_TRUE(roundTrip(*client, log, "again"));
}

TEST_F(WebSocketTest, ClientReconnectsWithBackoffAfterServerRestart) {
  startServer();
  uint16_t port = port_;
  WebSocketClientOptions options;
  options.min_backoff = milliseconds(20);
  options.max_backoff = milliseconds(320);
  ClientLog log;
  auto client = startClient("/echo", log, options);
  ASSERT_TRUE(log.waitFor([&] { return log.opens == 1; }));

  // The server goes away: the client hears it close, then retries, waiting longer each time.
  stopServer();
  ASSERT_TRUE(log.waitFor([&] { return log.closes == 1; }));
  log.read([&] {
    EXPECT_NE(log.reasons[0].message().find("code=1001"), std::string::npos)
        << log.reasons[0].toString();
  });
  ASSERT_TRUE(log.waitFor([&] { return log.failures.size() >= 6; }));
  EXPECT_FALSE(client->connected());
  EXPECT_FALSE(client->send("nobody there"));

  // Back on the same port: on_open fires again, and the new connection works.
  startServer({}, port);
  ASSERT_TRUE(log.waitFor([&] { return log.opens == 2; }));
  EXPECT_TRUE(roundTrip(*client, log, "back"));

  auto failures = log.read([&] { return log.failures; });
  for (size_t i = 0; i < failures.size(); ++i) {
    milliseconds delay = failures[i].second;
    EXPECT_GE(delay, options.min_backoff / 2) << i;
    EXPECT_LE(delay, options.max_backoff) << i;
    if (i + 1 < failures.size()) {
      // The next attempt really waited for the announced delay.
      EXPECT_GE(failures[i + 1].first - failures[i].first, delay) << i;
    }
  }
  EXPECT_LE(failures.front().second, options.min_backoff * 2);
  EXPECT_GE(failures[5].second, options.max_backoff / 2);
}

TEST_F(WebSocketTest, ClientStopFromAnotherThreadWhileConnected) {
  startServer();
  ClientLog log;
  auto client = startClient("/echo", log);
  ASSERT_TRUE(log.waitFor([&] { return log.opens == 1; }));

  std::thread stopper([&] { client->stop(); });
  stopper.join();

  // on_close has run by the time stop() returns, and nothing follows it.
  log.read([&] {
    EXPECT_EQ(log.closes, 1);
    EXPECT_EQ(log.opens, 1);
  });
  EXPECT_FALSE(client->connected());
  EXPECT_FALSE(client->send("after stop"));
  EXPECT_TRUE(log_.waitFor([&] { return log_.closes == 1; }));
  client->stop();
}

TEST_F(WebSocketTest, ClientStopWhileWaitingToRetryIsPrompt) {
  startServer();
  uint16_t port = port_;
  stopServer();

  WebSocketClientOptions options;
  options.url = "ws://127.0.0.1:" + std::to_string(port) + "/echo";
  options.min_backoff = milliseconds(4000);
  options.max_backoff = milliseconds(8000);
  ClientLog log;
  auto client = WebSocketClient::create(options, log.handler());
  ASSERT_TRUE(client.ok());
  (*client)->start();
  ASSERT_TRUE(log.waitFor([&] { return log.failures.size() == 1; }));

  auto began = Clock::now();
  std::thread stopper([&] { (*client)->stop(); });
  stopper.join();
  EXPECT_LT(Clock::now() - began, milliseconds(1000));
  log.read([&] {
    EXPECT_EQ(log.opens, 0);
    EXPECT_EQ(log.closes, 0);
  });
}

TEST_F(WebSocketTest, ServerStopFromAnotherThreadClosesEveryWebSocket) {
  startServer();
  ClientLog log;
  auto client = startClient("/echo", log);
  ASSERT_TRUE(log.waitFor([&] { return log.opens == 1; }));
  RawWebSocket deaf(port_);
  ASSERT_TRUE(deaf.upgrade("/echo"));
  ASSERT_TRUE(log_.waitFor([&] { return log_.opens == 2; }));

  // The raw peer never answers the close, so the server cuts it after its grace period.
  auto began = Clock::now();
  std::thread stopper([this] { server_->stop(); });
  runner_.join();
  stopper.join();
  EXPECT_LT(Clock::now() - began, milliseconds(3000));

  auto close = deaf.readFrame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, kClose);
  EXPECT_EQ(closeCode(*close), 1001);
  EXPECT_TRUE(deaf.socket().waitClosed());
  ASSERT_TRUE(log.waitFor([&] { return log.closes == 1; }));
  log_.read([&] { EXPECT_EQ(log_.closes, 2); });

  // Handles outlive the server harmlessly.
  WebSocketConnectionPtr handle = log_.read([&] { return log_.connections[0]; });
  server_.reset();
  EXPECT_FALSE(handle->send("gone"));
  handle->close();
}

// ----------------------------------------------------------------------------------------------
// Load

TEST_F(WebSocketTest, ManyConcurrentClients) {
  HttpServerOptions server_options;
  server_options.threads = 3;
  startServer(server_options);
  constexpr int kClients = 32;
  constexpr int kMessages = 20;
  std::vector<std::unique_ptr<ClientLog>> logs;
  std::vector<std::unique_ptr<WebSocketClient>> clients;
  for (int c = 0; c < kClients; ++c) {
    logs.push_back(std::make_unique<ClientLog>());
    clients.push_back(startClient("/echo", *logs.back()));
  }
  for (int c = 0; c < kClients; ++c) {
    ASSERT_TRUE(logs[c]->waitFor([&] { return logs[c]->opens == 1; })) << c;
  }

  // Every client sends all its messages at once; each must get its own echoes back, in order.
  for (int c = 0; c < kClients; ++c) {
    for (int m = 0; m < kMessages; ++m) {
      ASSERT_TRUE(clients[c]->send(std::to_string(c) + ":" + std::to_string(m)));
    }
  }
  for (int c = 0; c < kClients; ++c) {
    ClientLog& log = *logs[c];
    ASSERT_TRUE(log.waitFor([&] { return log.messages.size() == kMessages; })) << c;
    log.read([&] {
      for (int m = 0; m < kMessages; ++m) {
        EXPECT_EQ(log.messages[m].first, std::to_string(c) + ":" + std::to_string(m));
      }
    });
  }
  log_.read([&] {
    EXPECT_EQ(log_.opens, kClients);
    EXPECT_EQ(log_.messages.size(), static_cast<size_t>(kClients * kMessages));
  });
}

// ----------------------------------------------------------------------------------------------
// Set-up errors

TEST(WebSocketSetupTest, ClientRefusesUrlsItCannotServe) {
  for (const char* url : {"http://127.0.0.1/x", "wss://example.com/x", "ws://", "ws://host:0/",
                          "ws://user@host/", "127.0.0.1:80"}) {
    WebSocketClientOptions options;
    options.url = url;
    EXPECT_FALSE(WebSocketClient::create(options, {}).ok()) << url;
  }
  WebSocketClientOptions backwards;
  backwards.url = "ws://127.0.0.1:1/";
  backwards.min_backoff = milliseconds(500);
  backwards.max_backoff = milliseconds(100);
  EXPECT_FALSE(WebSocketClient::create(backwards, {}).ok());
}

TEST(WebSocketSetupTest, RoutesAreCheckedAndFixedBeforeRun) {
  HttpServerOptions options;
  options.port = 0;
  auto server = HttpServer::create(options, [](HttpRequest&&, Responder r) { r({}); });
  ASSERT_TRUE(server.ok());
  EXPECT_TRUE((*server)->addWebSocketRoute("/a", {}).isOk());
  EXPECT_FALSE((*server)->addWebSocketRoute("/a", {}).isOk());
  EXPECT_FALSE((*server)->addWebSocketRoute("a", {}).isOk());
  (*server)->stop();
  (*server)->run();
  EXPECT_FALSE((*server)->addWebSocketRoute("/b", {}).isOk());
}

}  // namespace
}  // namespace cex

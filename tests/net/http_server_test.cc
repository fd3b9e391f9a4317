#include "net/http_server.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/strings.h"
#include "test_socket.h"

namespace cex {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// One parsed response as a strict client sees it.
struct RawResponse {
  std::string status_line;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (iequals(key, name)) {
        return value;
      }
    }
    return std::nullopt;
  }
};

// A blocking HTTP client on a raw socket (TestSocket), so the tests control every byte on the
// wire and check the framing of every response.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(port) {}

  bool connected() const { return socket_.connected(); }

  void closeNow() { socket_.closeNow(); }

  bool send(std::string_view data) { return socket_.send(data); }

  // Reads one response; the body is skipped for HEAD. Every header line must be
  // "Name: value" with a non-empty value, as the strictest known client demands.
  std::optional<RawResponse> read(bool head = false, milliseconds timeout = milliseconds(5000)) {
    auto deadline = Clock::now() + timeout;
    std::optional<std::string> head_text = socket_.readUntil("\r\n\r\n", timeout);
    if (!head_text) {
      return std::nullopt;
    }
    RawResponse response;
    if (!parseHead(std::string_view(*head_text).substr(0, head_text->size() - 2), response)) {
      return std::nullopt;
    }
    if (head || response.status == 204 || response.status == 304 || response.status < 200) {
      return response;
    }
    auto length = response.header("Content-Length");
    if (!length) {
      ADD_FAILURE() << "response without Content-Length: " << response.status_line;
      return std::nullopt;
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    std::optional<std::string> body = socket_.readExactly(std::stoul(*length), left);
    if (!body) {
      return std::nullopt;
    }
    response.body = std::move(*body);
    return response;
  }

  // Reads exactly `size` raw bytes.
  std::optional<std::string> readRaw(size_t size, milliseconds timeout) {
    return socket_.readExactly(size, timeout);
  }

  // True once the server has closed the connection (EOF or reset) with nothing more sent.
  bool waitClosed(milliseconds timeout = milliseconds(5000)) {
    return socket_.closesWithNothingMore(timeout);
  }

  // True when nothing arrives and the connection stays open for `quiet`.
  bool staysQuiet(milliseconds quiet) { return socket_.staysQuiet(quiet); }

 private:
  // `head` holds the status line and header lines, each ended by CRLF.
  static bool parseHead(std::string_view head, RawResponse& response) {
    std::vector<std::string_view> lines;
    for (size_t eol; (eol = head.find("\r\n")) != std::string_view::npos;) {
      lines.push_back(head.substr(0, eol));
      EXPECT_EQ(lines.back().find_first_of("\r\n"), std::string_view::npos) << "bare CR or LF";
      head.remove_prefix(eol + 2);
    }
    EXPECT_TRUE(head.empty()) << "head not ended by CRLF";
    response.status_line = std::string(lines[0]);
    if (response.status_line.size() < 14 || response.status_line.compare(0, 9, "HTTP/1.1 ") != 0) {
      ADD_FAILURE() << "bad status line: " << response.status_line;
      return false;
    }
    response.status = std::atoi(response.status_line.substr(9, 3).c_str());
    EXPECT_EQ(response.status_line[12], ' ');
    EXPECT_FALSE(trim(response.status_line.substr(13)).empty()) << "no reason phrase";
    for (size_t i = 1; i < lines.size(); ++i) {
      size_t colon = lines[i].find(": ");
      EXPECT_NE(colon, std::string_view::npos) << "bad header line: " << lines[i];
      if (colon == std::string_view::npos) {
        return false;
      }
      std::string value(trim(lines[i].substr(colon + 2)));
      EXPECT_FALSE(value.empty()) << "empty header value: " << lines[i];
      response.headers.emplace_back(std::string(lines[i].substr(0, colon)), value);
    }
    return true;
  }

  TestSocket socket_;
};

std::string get(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" + std::string(extra) +
         "\r\n";
}

std::string post(std::string_view target, std::string_view body, std::string_view extra = "") {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra) + "\r\n" + std::string(body);
}

// Runs a server on a free port in a background thread; requests go to the handler the test
// installs. Handler threads started through respondLater() are joined before the server goes.
class HttpServerTest : public ::testing::Test {
 protected:
  void TearDown() override { shutDown(); }

  void start(HttpHandler handler, HttpServerOptions options = {}) {
    options.port = 0;
    auto server = HttpServer::create(options, std::move(handler));
    ASSERT_TRUE(server.ok()) << server.status().toString();
    server_ = std::move(server.value());
    runner_ = std::thread([this] { server_->run(); });
  }

  // Answers every request with a description of it, so tests can check what arrived.
  void startEcho(HttpServerOptions options = {}) {
    start(
        [this](HttpRequest&& request, Responder respond) {
          ++handled_;
          HttpResponse response;
          response.setHeader("Content-Type", "text/plain");
          response.setHeader("X-Method", request.method);
          response.setHeader("X-Path", request.path);
          if (!request.query.empty()) {
            response.setHeader("X-Query", request.query);
          }
          std::string delay = request.queryParam("delay").value_or("");
          response.body = request.body;
          if (request.path == "/status") {
            response.status = std::stoi(request.queryParam("code").value_or("200"));
          }
          if (delay.empty()) {
            respond(std::move(response));
          } else {
            respondLater(std::move(respond), std::move(response), milliseconds(std::stoi(delay)));
          }
        },
        options);
  }

  // Responds from a new thread after `delay`, as a compile queue would.
  void respondLater(Responder respond, HttpResponse response, milliseconds delay) {
    std::lock_guard lock(mu_);
    workers_.emplace_back(
        [this, respond = std::move(respond), response = std::move(response), delay]() mutable {
          std::this_thread::sleep_for(delay);
          // Counted first: the client may read the response before this thread runs on.
          ++responded_;
          respond(std::move(response));
        });
  }

  void shutDown() {
    if (server_) {
      server_->stop();
    }
    if (runner_.joinable()) {
      runner_.join();
    }
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mu_);
      workers.swap(workers_);
    }
    for (std::thread& worker : workers) {
      worker.join();
    }
    server_.reset();
  }

  uint16_t port() const { return server_->port(); }

  std::unique_ptr<HttpServer> server_;
  std::thread runner_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::atomic<int> handled_{0};
  std::atomic<int> responded_{0};
};

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  startEcho();
  Client client(port());
  ASSERT_TRUE(client.connected());

  ASSERT_TRUE(client.send(get("/first?x=1")));
  auto first = client.read();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(first->header("X-Path"), "/first");
  EXPECT_EQ(first->header("X-Query"), "x=1");
  EXPECT_EQ(first->header("Content-Length"), "0");
  EXPECT_FALSE(first->header("Connection"));

  ASSERT_TRUE(client.send(post("/second", "hello")));
  auto second = client.read();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->header("X-Method"), "POST");
  EXPECT_EQ(second->body, "hello");
  EXPECT_EQ(handled_, 2);
}

TEST_F(HttpServerTest, PassesRequestFieldsThrough) {
  std::mutex mu;
  HttpRequest seen;
  start([&](HttpRequest&& request, Responder respond) {
    {
      std::lock_guard lock(mu);
      seen = std::move(request);
    }
    respond(HttpResponse{});
  });
  Client client(port());
  ASSERT_TRUE(client.send(get("/api/compilers/c%2B%2B?fields=id%2Cname&q=a+b",
                              "Accept: application/json\r\nX-Twice: 1\r\nX-Twice: 2\r\n")));
  ASSERT_TRUE(client.read());

  std::lock_guard lock(mu);
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/api/compilers/c%2B%2B?fields=id%2Cname&q=a+b");
  EXPECT_EQ(seen.path, "/api/compilers/c%2B%2B");
  EXPECT_EQ(seen.query, "fields=id%2Cname&q=a+b");
  EXPECT_EQ(seen.queryParam("fields"), "id,name");
  EXPECT_EQ(seen.queryParam("q"), "a b");
  EXPECT_EQ(seen.header("accept"), "application/json");
  EXPECT_EQ(seen.header("x-twice"), "1");
  EXPECT_EQ(seen.headers.size(), 4u);
  EXPECT_EQ(seen.remote_address, "127.0.0.1");
  EXPECT_TRUE(seen.body.empty());
}

TEST_F(HttpServerTest, AbsoluteFormTargetKeepsOnlyThePath) {
  startEcho();
  Client client(port());
  ASSERT_TRUE(client.send(get("http://example.com:8080/api/languages?fields=id")));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("X-Path"), "/api/languages");
  EXPECT_EQ(response->header("X-Query"), "fields=id");
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  startEcho();
  Client client(port());

  // The first answer is the slowest, so a server that wrote responses as they became ready
  // would reorder them.
  ASSERT_TRUE(client.send(get("/a?delay=150") + post("/b?delay=50", "bee") + get("/c") +
                          get("/d?delay=10")));
  for (const char* path : {"/a", "/b", "/c", "/d"}) {
    auto response = client.read();
    ASSERT_TRUE(response) << path;
    EXPECT_EQ(response->header("X-Path"), path);
  }
  EXPECT_EQ(handled_, 4);
}

TEST_F(HttpServerTest, NextRequestIsNotReadBeforeTheResponseIsWritten) {
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  start([&](HttpRequest&&, Responder respond) {
    int now = ++in_flight;
    max_in_flight = std::max(max_in_flight.load(), now);
    respondLater(
        [&, respond = std::move(respond)](HttpResponse&& response) mutable {
          --in_flight;
          respond(std::move(response));
        },
        HttpResponse{}, milliseconds(30));
  });
  Client client(port());
  ASSERT_TRUE(client.send(get("/1") + get("/2") + get("/3")));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.read());
  }
  EXPECT_EQ(max_in_flight, 1);
}

TEST_F(HttpServerTest, ChunkedRequestBody) {
  startEcho();
  Client client(port());
  std::string head = "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";

  // Sent in pieces so the server has to parse across reads.
  ASSERT_TRUE(client.send(head + "4\r\nWi"));
  std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE(client.send("ki\r\n5;ext=1\r\npedia\r\n"));
  std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE(client.send("0\r\n\r\n"));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "Wikipedia");

  // The connection is still usable afterwards.
  ASSERT_TRUE(client.send(get("/after")));
  auto after = client.read();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->header("X-Path"), "/after");
}

TEST_F(HttpServerTest, LargeBodyRoundTrips) {
  startEcho();
  Client client(port());
  std::string body(3 * 1024 * 1024 + 17, 'x');
  for (size_t i = 0; i < body.size(); i += 4099) {
    body[i] = static_cast<char>('a' + i % 26);
  }
  std::thread sender([&] { client.send(post("/big", body)); });
  auto response = client.read(false, milliseconds(20000));
  sender.join();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body.size(), body.size());
  EXPECT_TRUE(response->body == body);
}

TEST_F(HttpServerTest, ExpectContinueIsAnsweredPromptly) {
  startEcho();
  Client client(port());
  std::string body(2000, 'b');
  ASSERT_TRUE(
      client.send("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2000\r\n"
                  "Expect: 100-continue\r\n\r\n"));

  // curl would wait a whole second; the interim answer must come well before that.
  auto interim = client.readRaw(25, milliseconds(500));
  ASSERT_TRUE(interim);
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");

  ASSERT_TRUE(client.send(body));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, body);
}

TEST_F(HttpServerTest, ExpectContinueNotSentWhenBodyAlreadyArrived) {
  startEcho();
  Client client(port());
  ASSERT_TRUE(client.send(post("/upload", "abc", "Expect: 100-continue\r\n")));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "abc");
}

TEST_F(HttpServerTest, DeclaredBodyOverLimitGets413AtOnce) {
  HttpServerOptions options;
  options.body_limit = 1000;
  startEcho(options);
  Client client(port());
  ASSERT_TRUE(
      client.send("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1001\r\n"
                  "Expect: 100-continue\r\n\r\n"));
  auto response = client.read(false, milliseconds(500));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status_line, "HTTP/1.1 413 Payload Too Large");
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_EQ(response->header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_FALSE(response->body.empty());
  EXPECT_TRUE(client.waitClosed());
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, BodyAtTheLimitIsAccepted) {
  HttpServerOptions options;
  options.body_limit = 1000;
  startEcho(options);
  Client client(port());
  ASSERT_TRUE(client.send(post("/upload", std::string(1000, 'z'))));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), 1000u);
}

TEST_F(HttpServerTest, OversizedBodySentAnywayStillGets413) {
  HttpServerOptions options;
  options.body_limit = 1000;
  startEcho(options);
  Client client(port());

  // The client does not wait: the 413 must survive the unread body on close.
  ASSERT_TRUE(client.send(post("/upload", std::string(200 * 1000, 'y'))));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, ChunkedBodyGrowingOverLimitGets413) {
  HttpServerOptions options;
  options.body_limit = 1000;
  startEcho(options);
  Client client(port());
  std::string chunk = "258\r\n" + std::string(600, 'c') + "\r\n";
  ASSERT_TRUE(client.send(
      "POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk));
  ASSERT_TRUE(client.staysQuiet(milliseconds(100)));
  ASSERT_TRUE(client.send(chunk + "0\r\n\r\n"));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(client.waitClosed());
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, GarbageGets400AndClose) {
  startEcho();
  for (std::string garbage :
       {"GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nNo colon here\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
        "GET noslash HTTP/1.1\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "\x16\x03\x01\x02\x00\x01\x00\r\n\r\n"}) {
    Client client(port());
    ASSERT_TRUE(client.send(garbage));
    auto response = client.read();
    ASSERT_TRUE(response) << garbage;
    EXPECT_EQ(response->status_line, "HTTP/1.1 400 Bad Request") << garbage;
    EXPECT_EQ(response->header("Connection"), "close");
    EXPECT_EQ(response->header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_TRUE(client.waitClosed()) << garbage;
  }
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, HeadersOverLimitGet431) {
  HttpServerOptions options;
  options.header_limit = 4096;
  startEcho(options);
  Client client(port());
  ASSERT_TRUE(client.send(get("/" + std::string(5000, 'p'))));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, ResponseFromAnotherThreadAfterDelay) {
  startEcho();
  Client client(port());
  auto begin = Clock::now();
  ASSERT_TRUE(client.send(post("/slow?delay=200", "late")));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_GE(Clock::now() - begin, milliseconds(200));
  EXPECT_EQ(response->body, "late");
  EXPECT_EQ(responded_, 1);

  // Keep-alive survives a delayed response.
  ASSERT_TRUE(client.send(get("/fast")));
  ASSERT_TRUE(client.read());
}

TEST_F(HttpServerTest, ClientGoneBeforeDelayedResponse) {
  HttpServerOptions options;
  options.threads = 1;
  startEcho(options);
  {
    Client client(port());
    ASSERT_TRUE(client.send(get("/slow?delay=150")));
    std::this_thread::sleep_for(milliseconds(20));
  }
  auto deadline = Clock::now() + milliseconds(3000);
  while (responded_ == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(responded_, 1);

  // The server dropped that response and still serves.
  Client next(port());
  ASSERT_TRUE(next.send(get("/next")));
  auto response = next.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("X-Path"), "/next");
}

TEST_F(HttpServerTest, HeadGetsHeadersOnly) {
  start([](HttpRequest&& request, Responder respond) {
    HttpResponse response;
    response.body = "twelve bytes";
    respond(std::move(response));
  });
  Client client(port());

  // A body after the HEAD response would be read as the start of the next response.
  ASSERT_TRUE(client.send("HEAD /x HTTP/1.1\r\nHost: localhost\r\n\r\n" + get("/x")));
  auto head = client.read(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Content-Length"), "12");
  auto full = client.read();
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(full->body, "twelve bytes");
}

TEST_F(HttpServerTest, HeadersWithEmptyValuesOrLineBreaksAreNeverSent) {
  start([](HttpRequest&&, Responder respond) {
    HttpResponse response;
    response.headers = {{"X-Empty", ""},          {"X-Blank", "  "},
                        {"X-Good", "yes"},        {"X-Split", "a\r\nX: b"},
                        {"Bad Name", "v"},        {"", "v"},
                        {"Content-Length", "99"}, {"Transfer-Encoding", "chunked"}};
    response.body = "ok";
    respond(std::move(response));
  });
  Client client(port());
  ASSERT_TRUE(client.send(get("/")));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("X-Good"), "yes");
  EXPECT_FALSE(response->header("X-Empty"));
  EXPECT_FALSE(response->header("X-Blank"));
  EXPECT_FALSE(response->header("X-Split"));
  EXPECT_FALSE(response->header("X"));
  EXPECT_FALSE(response->header("Connection"));
  EXPECT_FALSE(response->header("Transfer-Encoding"));
  EXPECT_EQ(response->header("Content-Length"), "2");
  EXPECT_EQ(response->headers.size(), 2u);
  EXPECT_EQ(response->body, "ok");
}

TEST_F(HttpServerTest, StatusLinesCarryReasonPhrases) {
  startEcho();
  Client client(port());
  std::vector<std::pair<int, std::string>> cases = {{404, "HTTP/1.1 404 Not Found"},
                                                    {503, "HTTP/1.1 503 Service Unavailable"},
                                                    {299, "HTTP/1.1 299 Success"},
                                                    {570, "HTTP/1.1 570 Server Error"},
                                                    {42, "HTTP/1.1 500 Internal Server Error"}};
  for (const auto& [code, line] : cases) {
    ASSERT_TRUE(client.send(get("/status?code=" + std::to_string(code))));
    auto response = client.read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status_line, line);
  }
}

TEST_F(HttpServerTest, NoContentHasNoBodyAndNoLength) {
  startEcho();
  Client client(port());
  ASSERT_TRUE(client.send(get("/status?code=204") + get("/after")));
  auto none = client.read();
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 204);
  EXPECT_FALSE(none->header("Content-Length"));
  auto after = client.read();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->header("X-Path"), "/after");
}

TEST_F(HttpServerTest, ThrowingHandlerGets500AndConnectionSurvives) {
  start([](HttpRequest&& request, Responder respond) {
    if (request.path == "/throw") {
      throw std::runtime_error("secret internal detail");
    }
    respond(HttpResponse{});
  });
  Client client(port());
  ASSERT_TRUE(client.send(get("/throw")));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status_line, "HTTP/1.1 500 Internal Server Error");
  EXPECT_EQ(response->body.find("secret"), std::string::npos);

  ASSERT_TRUE(client.send(get("/fine")));
  auto fine = client.read();
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 200);
}

TEST_F(HttpServerTest, DroppedResponderGets500) {
  start([](HttpRequest&&, Responder respond) {
    Responder copy = respond;
    // Both copies go out of scope uncalled.
  });
  Client client(port());
  ASSERT_TRUE(client.send(get("/")));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
}

TEST_F(HttpServerTest, SecondResponderCallIsIgnored) {
  start([](HttpRequest&&, Responder respond) {
    HttpResponse first;
    first.body = "first";
    respond(std::move(first));
    HttpResponse second;
    second.body = "second";
    respond(std::move(second));
  });
  Client client(port());
  ASSERT_TRUE(client.send(get("/") + get("/")));
  for (int i = 0; i < 2; ++i) {
    auto response = client.read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, "first");
  }
  EXPECT_TRUE(client.staysQuiet(milliseconds(50)));
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  startEcho();
  Client client(port());
  ASSERT_TRUE(client.send(get("/bye", "Connection: close\r\n")));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(client.waitClosed());
}

TEST_F(HttpServerTest, HandlerCanCloseTheConnection) {
  start([](HttpRequest&&, Responder respond) {
    HttpResponse response;
    response.setHeader("Connection", "Close");
    respond(std::move(response));
  });
  Client client(port());
  ASSERT_TRUE(client.send(get("/")));
  auto response = client.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_EQ(response->headers.size(), 2u);
  EXPECT_TRUE(client.waitClosed());
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeepAliveIsAsked) {
  startEcho();
  Client plain(port());
  ASSERT_TRUE(plain.send("GET /old HTTP/1.0\r\n\r\n"));
  auto response = plain.read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(plain.waitClosed());

  Client kept(port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(kept.send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto again = kept.read();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->header("Connection"), "keep-alive");
  }
}

TEST_F(HttpServerTest, IdleConnectionIsClosed) {
  HttpServerOptions options;
  options.idle_timeout_seconds = 1;
  startEcho(options);
  Client client(port());
  ASSERT_TRUE(client.send(get("/")));
  ASSERT_TRUE(client.read());
  auto begin = Clock::now();
  EXPECT_TRUE(client.waitClosed(milliseconds(3000)));
  EXPECT_GE(Clock::now() - begin, milliseconds(900));

  // A handler slower than the idle timeout is not mistaken for an idle client.
  Client waiting(port());
  ASSERT_TRUE(waiting.send(get("/slow?delay=1500")));
  auto late = waiting.read();
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 200);

  // A client that stalls inside a request is cut off the same way.
  Client slow(port());
  ASSERT_TRUE(slow.send("GET / HTTP/1.1\r\nHost: loc"));
  EXPECT_TRUE(slow.waitClosed(milliseconds(3000)));
}

TEST_F(HttpServerTest, ManyClientsOnSeveralThreads) {
  HttpServerOptions options;
  options.threads = 3;
  startEcho(options);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      Client client(port());
      for (int i = 0; i < 50; ++i) {
        std::string body = std::to_string(c) + ":" + std::to_string(i);
        if (!client.send(post("/n", body))) {
          return;
        }
        auto response = client.read();
        if (response && response->body == body) {
          ++ok;
        }
      }
    });
  }
  for (std::thread& t : clients) {
    t.join();
  }
  EXPECT_EQ(ok, 8 * 50);
}

TEST_F(HttpServerTest, StopFromAnotherThreadEndsRun) {
  startEcho();

  // An idle keep-alive connection and a request waiting on its handler must not hold run().
  Client idle(port());
  ASSERT_TRUE(idle.send(get("/")));
  ASSERT_TRUE(idle.read());
  Client waiting(port());
  ASSERT_TRUE(waiting.send(get("/slow?delay=2000")));
  std::this_thread::sleep_for(milliseconds(50));

  auto begin = Clock::now();
  std::thread stopper([this] { server_->stop(); });
  runner_.join();
  stopper.join();
  EXPECT_LT(Clock::now() - begin, milliseconds(1000));
  EXPECT_TRUE(idle.waitClosed(milliseconds(1000)));
  EXPECT_TRUE(waiting.waitClosed(milliseconds(1000)));

  // The listener is gone too.
  Client late(port());
  EXPECT_FALSE(late.connected() && late.send(get("/")) && late.read(false, milliseconds(200)));
}

TEST(HttpServerLifecycleTest, StopBeforeRunMakesRunReturn) {
  HttpServerOptions options;
  options.port = 0;
  auto server = HttpServer::create(options, [](HttpRequest&&, Responder r) { r({}); });
  ASSERT_TRUE(server.ok());
  (*server)->stop();
  auto begin = Clock::now();
  (*server)->run();
  EXPECT_LT(Clock::now() - begin, milliseconds(1000));
}

TEST(HttpServerLifecycleTest, ResponderOutlivingTheServerIsHarmless) {
  HttpServerOptions options;
  options.port = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Responder> kept;
  auto server = HttpServer::create(options, [&](HttpRequest&&, Responder respond) {
    std::lock_guard lock(mu);
    kept = std::move(respond);
    cv.notify_all();
  });
  ASSERT_TRUE(server.ok());
  std::thread runner([&] { (*server)->run(); });
  Client client((*server)->port());
  ASSERT_TRUE(client.send(get("/")));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return kept.has_value(); }));
  }
  (*server)->stop();
  runner.join();
  server = Status::internal("destroyed");

  // The server is gone; the late response goes nowhere.
  (*kept)(HttpResponse{});
  kept.reset();
}

TEST(HttpServerLifecycleTest, BindFailureIsAnError) {
  HttpServerOptions options;
  options.port = 0;
  auto first = HttpServer::create(options, [](HttpRequest&&, Responder r) { r({}); });
  ASSERT_TRUE(first.ok());
  options.port = (*first)->port();
  auto second = HttpServer::create(options, [](HttpRequest&&, Responder r) { r({}); });
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::IoError);

  options.host = "not-an-address";
  options.port = 0;
  EXPECT_FALSE(HttpServer::create(options, [](HttpRequest&&, Responder r) { r({}); }).ok());
  options.host = "127.0.0.1";
  EXPECT_FALSE(HttpServer::create(options, nullptr).ok());
}

}  // namespace
}  // namespace cex

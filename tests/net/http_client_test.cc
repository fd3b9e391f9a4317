#include "net/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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
#include "net/http_server.h"

namespace cex {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ----------------------------------------------------------------------------------------------
// A bare HTTP server that counts connections and can misbehave on purpose

class CountingServer {
 public:
  enum class Mode {
    KeepAlive,         // answers every request and keeps the connection
    CloseAfterEach,    // answers, then closes without having said so
    DropSecondRequest  // answers the first request of a connection, closes on the second
  };

  explicit CountingServer(Mode mode) : mode_(mode) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(addr);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      ADD_FAILURE() << "counting server failed to listen";
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }

  ~CountingServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      for (int fd : open_) {
        ::shutdown(fd, SHUT_RDWR);
      }
      threads.swap(threads_);
    }
    for (std::thread& thread : threads) {
      thread.join();
    }
    ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }

  int connections() const { return connections_; }

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

 private:
  void acceptLoop() {
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        return;
      }
      int number = ++connections_;
      std::lock_guard lock(mu_);
      open_.push_back(fd);
      threads_.emplace_back([this, fd, number] { serve(fd, number); });
    }
  }

  void serve(int fd, int number) {
    std::string pending;
    for (int served = 0;; ++served) {
      if (!readRequest(fd, pending)) {
        break;
      }
      if (mode_ == Mode::DropSecondRequest && served == 1) {
        break;
      }
      std::string body = "conn=" + std::to_string(number);
      std::string response =
          "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
      if (::send(fd, response.data(), response.size(), MSG_NOSIGNAL) < 0 ||
          mode_ == Mode::CloseAfterEach) {
        break;
      }
    }
    std::lock_guard lock(mu_);
    std::erase(open_, fd);
    ::close(fd);
  }

  // Reads one request head and its Content-Length body.
  static bool readRequest(int fd, std::string& pending) {
    size_t end;
    while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(fd, pending)) {
        return false;
      }
    }
    std::string head = toLower(pending.substr(0, end));
    size_t length = 0;
    if (size_t at = head.find("content-length:"); at != std::string::npos) {
      length = std::strtoul(head.c_str() + at + 15, nullptr, 10);
    }
    while (pending.size() < end + 4 + length) {
      if (!fill(fd, pending)) {
        return false;
      }
    }
    pending.erase(0, end + 4 + length);
    return true;
  }

  static bool fill(int fd, std::string& pending) {
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      return false;
    }
    pending.append(buf, static_cast<size_t>(n));
    return true;
  }

  Mode mode_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_;             // guarded by mu_
  std::vector<std::thread> threads_;  // guarded by mu_
};

HttpClientRequest get(std::string url) {
  HttpClientRequest request;
  request.url = std::move(url);
  return request;
}

// ----------------------------------------------------------------------------------------------
// Against the cex server

// Runs an HttpServer whose handler describes each request:
//   /echo         body "<method> <target>\nhost=<Host>\nx-test=<X-Test>\n<body>", header X-Reply
//   /slow?ms=N    answers after N ms, from another thread
//   /status?code= answers with that status
//   /big?n=N      N bytes of body
class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions options;
    options.port = 0;
    auto server = HttpServer::create(options, [this](HttpRequest&& request, Responder respond) {
      handle(std::move(request), std::move(respond));
    });
    ASSERT_TRUE(server.ok()) << server.status().toString();
    server_ = std::move(server.value());
    runner_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    server_->stop();
    runner_.join();
    std::lock_guard lock(mu_);
    for (std::thread& worker : workers_) {
      worker.join();
    }
  }

  void handle(HttpRequest&& request, Responder respond) {
    HttpResponse response;
    if (request.path == "/echo") {
      response.body = request.method + " " + request.target +
                      "\nhost=" + std::string(request.header("Host").value_or("")) +
                      "\nx-test=" + std::string(request.header("X-Test").value_or("")) + "\n" +
                      request.body;
      response.setHeader("X-Reply", "yes");
    } else if (request.path == "/status") {
      response.status = std::stoi(request.queryParam("code").value_or("200"));
    } else if (request.path == "/big") {
      response.body.assign(std::stoul(request.queryParam("n").value_or("0")), 'b');
    } else if (request.path == "/slow") {
      respondLater(std::move(respond),
                   milliseconds(std::stoi(request.queryParam("ms").value_or("0"))));
      return;
    }
    respond(std::move(response));
  }

  void respondLater(Responder respond, milliseconds delay) {
    {
      std::lock_guard lock(mu_);
      workers_.emplace_back([respond = std::move(respond), delay] {
        std::this_thread::sleep_for(delay);
        HttpResponse response;
        response.body = "slow";
        respond(std::move(response));
      });
      ++slow_started_;
    }
    cv_.notify_all();
  }

  // Blocks until `n` slow requests have reached the handler.
  bool waitSlowStarted(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return slow_started_ >= n; });
  }

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }

  std::unique_ptr<HttpServer> server_;
  std::thread runner_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> workers_;  // guarded by mu_
  int slow_started_ = 0;              // guarded by mu_
};

TEST_F(HttpClientTest, GetPostPutAndHead) {
  auto client = HttpClient::create();

  HttpClientRequest request = get(url("/echo?fields=id,name"));
  request.headers.push_back({"X-Test", "one"});
  auto response = client->fetch(request);
  ASSERT_TRUE(response.ok()) << response.status().toString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("X-Reply"), "yes");
  EXPECT_EQ(response->body, "GET /echo?fields=id,name\nhost=127.0.0.1:" +
                                std::to_string(server_->port()) + "\nx-test=one\n");

  // A body of a megabyte, with the caller's own Content-Length ignored in favour of the real one.
  HttpClientRequest post = get(url("/echo"));
  post.method = "POST";
  post.body.assign(1024 * 1024, 'p');
  post.headers.push_back({"Content-Length", "3"});
  post.headers.push_back({"Host", "compiler-explorer.test"});
  auto posted = client->fetch(post);
  ASSERT_TRUE(posted.ok()) << posted.status().toString();
  EXPECT_EQ(posted->body, "POST /echo\nhost=compiler-explorer.test\nx-test=\n" + post.body);

  HttpClientRequest put = get(url("/echo"));
  put.method = "PUT";
  put.body = "x";
  auto putted = client->fetch(put);
  ASSERT_TRUE(putted.ok());
  EXPECT_EQ(putted->body.substr(0, 9), "PUT /echo");

  HttpClientRequest head = get(url("/big?n=12"));
  head.method = "HEAD";
  auto headed = client->fetch(head);
  ASSERT_TRUE(headed.ok()) << headed.status().toString();
  EXPECT_EQ(headed->header("Content-Length"), "12");
  EXPECT_TRUE(headed->body.empty());

  // The connection is still in step after HEAD.
  auto after = client->fetch(get(url("/big?n=5")));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->body, "bbbbb");
}

TEST_F(HttpClientTest, ErrorStatusesAreResponsesNotFailures) {
  auto client = HttpClient::create();
  for (int code : {204, 404, 500, 503}) {
    auto response = client->fetch(get(url("/status?code=" + std::to_string(code))));
    ASSERT_TRUE(response.ok()) << code;
    EXPECT_EQ(response->status, code);
  }
}

TEST_F(HttpClientTest, LargeBodiesUpToTheLimit) {
  auto client = HttpClient::create();
  auto big = client->fetch(get(url("/big?n=5000000")));
  ASSERT_TRUE(big.ok()) << big.status().toString();
  EXPECT_EQ(big->body.size(), 5000000u);

  HttpClientOptions options;
  options.body_limit = 1000 * 1000;
  auto limited = HttpClient::create(options);
  auto refused = limited->fetch(get(url("/big?n=5000000")));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::ResourceExhausted);
  auto fits = limited->fetch(get(url("/big?n=1000000")));
  EXPECT_TRUE(fits.ok());
}

TEST_F(HttpClientTest, SlowServerTimesOutAndTheClientCarriesOn) {
  auto client = HttpClient::create();
  HttpClientRequest slow = get(url("/slow?ms=1500"));
  slow.timeout = milliseconds(200);
  auto began = Clock::now();
  auto timed_out = client->fetch(slow);
  auto took = Clock::now() - began;
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.status().code(), StatusCode::Timeout) << timed_out.status().toString();
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(1000));

  auto next = client->fetch(get(url("/echo")));
  ASSERT_TRUE(next.ok()) << next.status().toString();
  EXPECT_EQ(next->status, 200);
}

TEST_F(HttpClientTest, ManyRequestsAtOnce) {
  auto client = HttpClient::create();
  constexpr int kRequests = 50;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  int ok = 0;
  std::thread::id caller = std::this_thread::get_id();
  for (int i = 0; i < kRequests; ++i) {
    HttpClientRequest request = get(url("/echo?i=" + std::to_string(i)));
    std::string expected = "GET /echo?i=" + std::to_string(i) + "\n";
    client->request(request, [&, expected](Result<HttpClientResponse>&& response) {
      std::lock_guard lock(mu);
      EXPECT_NE(std::this_thread::get_id(), caller);
      ok += response.ok() && response->body.rfind(expected, 0) == 0;
      ++done;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return done == kRequests; }));
  EXPECT_EQ(ok, kRequests);
}

TEST_F(HttpClientTest, StopFromAnotherThreadFailsPendingRequests) {
  auto client = HttpClient::create();
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<HttpClientResponse>> outcome;
  client->request(get(url("/slow?ms=1500")), [&](Result<HttpClientResponse>&& response) {
    std::lock_guard lock(mu);
    outcome = std::move(response);
    cv.notify_all();
  });
  ASSERT_TRUE(waitSlowStarted(1));

  auto began = Clock::now();
  std::thread stopper([&] { client->stop(); });
  stopper.join();
  EXPECT_LT(Clock::now() - began, milliseconds(1000));
  {
    std::lock_guard lock(mu);
    ASSERT_TRUE(outcome.has_value()) << "stop() returned before the callback ran";
    ASSERT_FALSE(outcome->ok());
    EXPECT_EQ(outcome->status().code(), StatusCode::Unavailable);
  }

  // After stop, requests fail at once on the caller's thread.
  bool called = false;
  client->request(get(url("/echo")), [&](Result<HttpClientResponse>&& response) {
    called = true;
    EXPECT_EQ(response.status().code(), StatusCode::Unavailable);
  });
  EXPECT_TRUE(called);
  EXPECT_EQ(client->fetch(get(url("/echo"))).status().code(), StatusCode::Unavailable);
}

TEST_F(HttpClientTest, FetchInsideACallbackIsRefusedInsteadOfHanging) {
  auto client = HttpClient::create();
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Status> inner;
  client->request(get(url("/echo")), [&](Result<HttpClientResponse>&&) {
    Status status = client->fetch(get(url("/echo"))).status();
    std::lock_guard lock(mu);
    inner = status;
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return inner.has_value(); }));
  EXPECT_EQ(inner->code(), StatusCode::Internal);
}

TEST_F(HttpClientTest, RefusedConnectionIsUnavailable) {
  uint16_t port = server_->port();
  server_->stop();
  runner_.join();
  runner_ = std::thread([] {});
  auto client = HttpClient::create();
  auto refused = client->fetch(get("http://127.0.0.1:" + std::to_string(port) + "/"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::Unavailable) << refused.status().toString();
}

TEST(HttpClientInputTest, BadUrlsMethodsAndHeadersAreRefused) {
  auto client = HttpClient::create();
  for (const char* url : {"https://example.com/", "ws://127.0.0.1/", "no-scheme", "http://"}) {
    EXPECT_EQ(client->fetch(get(url)).status().code(), StatusCode::InvalidArgument) << url;
  }
  HttpClientRequest injected = get("http://127.0.0.1:1/");
  injected.headers.push_back({"X-Evil", "a\r\nX-Injected: b"});
  EXPECT_EQ(client->fetch(injected).status().code(), StatusCode::InvalidArgument);
  HttpClientRequest bad_method = get("http://127.0.0.1:1/");
  bad_method.method = "GET /x";
  EXPECT_EQ(client->fetch(bad_method).status().code(), StatusCode::InvalidArgument);
}

// ----------------------------------------------------------------------------------------------
// Connection reuse, seen from the server's side

TEST(HttpClientReuseTest, KeepAliveUsesOneConnection) {
  CountingServer server(CountingServer::Mode::KeepAlive);
  auto client = HttpClient::create();
  for (int i = 0; i < 5; ++i) {
    auto response = client->fetch(get(server.url("/n")));
    ASSERT_TRUE(response.ok()) << response.status().toString();
    EXPECT_EQ(response->body, "conn=1");
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientReuseTest, ConnectionClosedByTheServerIsNotReused) {
  CountingServer server(CountingServer::Mode::CloseAfterEach);
  auto client = HttpClient::create();
  for (int i = 1; i <= 3; ++i) {
    auto response = client->fetch(get(server.url("/n")));
    ASSERT_TRUE(response.ok()) << response.status().toString();
    EXPECT_EQ(response->body, "conn=" + std::to_string(i));
  }
}

TEST(HttpClientReuseTest, DroppedReusedConnectionIsRetriedOnlyForIdempotentMethods) {
  CountingServer server(CountingServer::Mode::DropSecondRequest);
  auto client = HttpClient::create();
  auto first = client->fetch(get(server.url("/n")));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->body, "conn=1");

  // Sent on connection 1, which the server drops unanswered: retried on a new one.
  auto second = client->fetch(get(server.url("/n")));
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_EQ(second->body, "conn=2");

  // A POST must not be sent twice: its failure is reported instead.
  HttpClientRequest post = get(server.url("/n"));
  post.method = "POST";
  post.body = "once";
  auto posted = client->fetch(post);
  ASSERT_FALSE(posted.ok());
  EXPECT_EQ(posted.status().code(), StatusCode::Unavailable) << posted.status().toString();
  EXPECT_EQ(server.connections(), 2);

  auto fresh = client->fetch(get(server.url("/n")));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->body, "conn=3");
}

}  // namespace
}  // namespace cex

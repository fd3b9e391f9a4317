#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <gtest/gtest.h>

#include "events/events_gateway.h"
#include "net/http_client.h"
#include "net/websocket_client.h"

namespace cex {

// An EventsGateway serving on a thread of its own for as long as the runner lives.
class GatewayRunner {
 public:
  explicit GatewayRunner(EventsGatewayOptions options, std::shared_ptr<PubSub> pubsub = nullptr,
                         std::function<bool()> pubsub_healthy = nullptr) {
    auto gateway = EventsGateway::create(options, std::move(pubsub), std::move(pubsub_healthy));
    if (!gateway.ok()) {
      ADD_FAILURE() << gateway.status().toString();
      return;
    }
    gateway_ = std::move(gateway).value();
    thread_ = std::thread([this] { gateway_->run(); });
  }

  ~GatewayRunner() {
    if (gateway_) {
      gateway_->stop();
      thread_.join();
    }
  }

  GatewayRunner(const GatewayRunner&) = delete;
  GatewayRunner& operator=(const GatewayRunner&) = delete;

  bool ok() const { return gateway_ != nullptr; }

  uint16_t port() const { return gateway_->port(); }

  EventsHub& hub() { return gateway_->hub(); }

  std::string url(const std::string& path = "/prod") const {
    return "ws://127.0.0.1:" + std::to_string(port()) + path;
  }

 private:
  std::unique_ptr<EventsGateway> gateway_;
  std::thread thread_;
};

// Options for a test's gateway: any free port on the loopback interface.
inline EventsGatewayOptions testGatewayOptions() {
  EventsGatewayOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  return options;
}

// Options for a test's WebSocket events client: quick reconnects.
inline WebSocketClientOptions testClientOptions(std::string url) {
  WebSocketClientOptions options;
  options.url = std::move(url);
  options.min_backoff = std::chrono::milliseconds(20);
  options.max_backoff = std::chrono::milliseconds(200);
  return options;
}

// GET http://127.0.0.1:<port><path>.
inline Result<HttpResponse> httpGet(uint16_t port, const std::string& path) {
  auto client = HttpClient::create();
  HttpClientRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + path;
  request.timeout = std::chrono::milliseconds(10'000);
  return client->fetch(std::move(request));
}

}  // namespace cex

#include "events/events_client.h"

#include <atomic>
#include <string_view>
#include <utility>

#include <spdlog/spdlog.h>

#include "events/events_client_core.h"
#include "events/events_hub.h"
#include "events/events_protocol.h"

namespace cex {

namespace {

// The hub's side of an in-process client: what the hub sends goes straight to the core's
// queue, without a frame in between.
class InProcessPeer : public EventsPeer {
 public:
  explicit InProcessPeer(std::weak_ptr<EventsClient::Core> core) : core_(std::move(core)) {}

  void subscribed(const std::string& guid) override {
    if (auto core = core_.lock()) {
      core->subscribed(guid);
    }
  }

  void subscribeFailed(const std::string& guid, std::string_view reason) override {
    if (auto core = core_.lock()) {
      core->subscribeFailed(guid, std::string(reason));
    }
  }

  void result(const std::string& guid, const std::string& json) override {
    if (auto core = core_.lock()) {
      core->result(guid, std::string(json));
    }
  }

  void acked(const std::string& guid, const std::string& acknowledged_by) override {
    if (auto core = core_.lock()) {
      core->acked(guid);
    }
  }

  // pong and the unknown-frame replies: an in-process client never sends what provokes them.
  void reply(std::string_view text) override {}

 private:
  std::weak_ptr<EventsClient::Core> core_;
};

class InProcessTransport : public EventsClient::Transport {
 public:
  InProcessTransport(std::shared_ptr<EventsHub> hub, std::weak_ptr<EventsClient::Core> core)
      : hub_(std::move(hub)), id_(hub_->attach(std::make_shared<InProcessPeer>(std::move(core)))) {}

  ~InProcessTransport() override { stop(); }

  InProcessTransport(const InProcessTransport&) = delete;
  InProcessTransport& operator=(const InProcessTransport&) = delete;
  InProcessTransport(InProcessTransport&&) = delete;
  InProcessTransport& operator=(InProcessTransport&&) = delete;

  bool connected() const override { return !stopped_; }

  bool sendSubscribe(const std::string& guid) override {
    return call([&] { hub_->subscribe(id_, guid); });
  }

  bool sendUnsubscribe(const std::string& guid) override {
    return call([&] { hub_->unsubscribe(id_, guid); });
  }

  bool sendAck(const std::string& guid) override {
    return call([&] { hub_->ack(id_, guid); });
  }

  bool sendPublish(const std::string& guid, const std::string& json) override {
    return call([&] { hub_->publish(id_, guid, std::string(json)); });
  }

  void stop() override {
    if (!stopped_.exchange(true)) {
      hub_->detach(id_);
    }
  }

 private:
  template <typename Call>
  bool call(Call&& call) {
    if (stopped_) {
      return false;
    }
    call();
    return true;
  }

  std::shared_ptr<EventsHub> hub_;
  EventsPeerId id_;
  std::atomic<bool> stopped_ = false;
};

class WebSocketTransport : public EventsClient::Transport {
 public:
  explicit WebSocketTransport(std::unique_ptr<WebSocketClient> client)
      : client_(std::move(client)) {}

  // The handler that feeds `core` from a connection to `url`.
  static WebSocketClientHandler handlerFor(std::shared_ptr<EventsClient::Core> core,
                                           std::string url);

  bool connected() const override { return client_->connected(); }

  bool sendSubscribe(const std::string& guid) override {
    return client_->send(std::string(kSubscribePrefix) + guid);
  }

  bool sendUnsubscribe(const std::string& guid) override {
    return client_->send(std::string(kUnsubscribePrefix) + guid);
  }

  bool sendAck(const std::string& guid) override {
    return client_->send(std::string(kAckPrefix) + guid);
  }

  bool sendPublish(const std::string& guid, const std::string& json) override {
    return client_->send(json);
  }

  void stop() override { client_->stop(); }

  void start() { client_->start(); }

 private:
  std::unique_ptr<WebSocketClient> client_;
};

WebSocketClientHandler WebSocketTransport::handlerFor(std::shared_ptr<EventsClient::Core> core,
                                                      std::string url) {
  WebSocketClientHandler handler;
  handler.on_open = [core, url] {
    spdlog::info("events client connected url={}", url);
    core->connectionOpened();
  };
  handler.on_message = [core](std::string&& message, bool binary) {
    if (!binary) {
      core->frame(std::move(message));
    }
  };
  handler.on_close = [url](const Status& why) {
    spdlog::info("events client disconnected url={} reason=\"{}\"", url, why.message());
  };
  handler.on_connect_failed = [url](const Status& why, std::chrono::milliseconds retry_in) {
    spdlog::debug("events client connect failed url={} retry_ms={} error=\"{}\"", url,
                  retry_in.count(), why.message());
  };
  return handler;
}

}  // namespace

std::unique_ptr<EventsClient> EventsClient::createInProcess(std::shared_ptr<EventsHub> hub,
                                                            EventsResultHandler on_result,
                                                            EventsClientOptions options) {
  auto core = std::make_shared<Core>(options, std::move(on_result));
  auto transport = std::make_unique<InProcessTransport>(std::move(hub), core);
  core->start(transport.get());
  return std::unique_ptr<EventsClient>(new EventsClient(std::move(core), std::move(transport)));
}

Result<std::unique_ptr<EventsClient>> EventsClient::createWebSocket(
    WebSocketClientOptions websocket, EventsResultHandler on_result, EventsClientOptions options) {
  auto core = std::make_shared<Core>(options, std::move(on_result));
  std::string url = websocket.url;
  auto client =
      WebSocketClient::create(std::move(websocket), WebSocketTransport::handlerFor(core, url));
  if (!client.ok()) {
    return client.status();
  }
  auto transport = std::make_unique<WebSocketTransport>(std::move(client).value());
  core->start(transport.get());
  WebSocketTransport* raw = transport.get();
  std::unique_ptr<EventsClient> events(new EventsClient(std::move(core), std::move(transport)));
  raw->start();
  return events;
}

EventsClient::EventsClient(std::shared_ptr<Core> core, std::unique_ptr<Transport> transport)
    : core_(std::move(core)), transport_(std::move(transport)) {}

EventsClient::~EventsClient() {
  transport_->stop();
  core_->stop();
}

void EventsClient::subscribe(std::string guid, EventsDone on_confirmed) {
  core_->subscribe(std::move(guid), std::move(on_confirmed));
}

void EventsClient::unsubscribe(std::string guid) {
  core_->unsubscribe(std::move(guid));
}

void EventsClient::ack(std::string guid) {
  core_->ack(std::move(guid));
}

void EventsClient::publish(std::string guid, std::string json, EventsDone on_acked) {
  core_->publish(std::move(guid), std::move(json), std::move(on_acked));
}

bool EventsClient::connected() const {
  return transport_->connected();
}

}  // namespace cex

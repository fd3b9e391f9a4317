#include "events/events_gateway.h"

#include <mutex>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <spdlog/spdlog.h>

#include "base/json_writer.h"
#include "events/events_protocol.h"
#include "net/http_server.h"

namespace cex {

namespace {

// A gateway's WebSocket connection as the hub sees it: every event becomes a text frame.
class ConnectionPeer : public EventsPeer {
 public:
  explicit ConnectionPeer(WebSocketConnectionPtr connection) : connection_(std::move(connection)) {}

  void subscribed(const std::string& guid) override {
    connection_->send(std::string(kSubscribedPrefix) + guid);
  }

  void subscribeFailed(const std::string& guid, std::string_view reason) override {
    std::string frame(kSubscribeFailedPrefix);
    frame.append(guid).append(" ").append(reason);
    connection_->send(std::move(frame));
  }

  void result(const std::string& guid, const std::string& json) override {
    connection_->send(json);
  }

  void acked(const std::string& guid, const std::string& acknowledged_by) override {
    connection_->send(ackFrame(guid, acknowledged_by));
  }

  void reply(std::string_view text) override { connection_->send(std::string(text)); }

 private:
  WebSocketConnectionPtr connection_;
};

HttpResponse textResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.setHeader("Content-Type", "text/plain; charset=utf-8");
  response.setHeader("Cache-Control", "no-store");
  response.body = std::move(body);
  return response;
}

}  // namespace

// The hub is declared before the server so that the server, whose handlers use the hub, goes
// first.
struct EventsGateway::State {
  std::unique_ptr<EventsHub> hub;
  std::unique_ptr<HttpServer> server;
  bool has_pubsub = false;
  std::function<bool()> pubsub_healthy;

  std::mutex mu;
  std::unordered_map<const WebSocketConnection*, EventsPeerId> peers;  // guarded by mu

  void handleHttp(HttpRequest&& request, Responder respond) const;
  HttpResponse healthcheck() const;
  WebSocketHandler websocketHandler();
  EventsPeerId peerOf(const WebSocketConnection* connection);
};

void EventsGateway::State::handleHttp(HttpRequest&& request, Responder respond) const {
  if (request.path == "/healthcheck" && (request.method == "GET" || request.method == "HEAD")) {
    respond(healthcheck());
    return;
  }
  respond(textResponse(404, "not found: this gateway speaks WebSocket\n"));
}

// 200 with the counters; 503 while the link to the other gateways is down, because results
// published elsewhere would not reach this gateway's subscribers.
HttpResponse EventsGateway::State::healthcheck() const {
  bool linked = !has_pubsub || (hub->linked() && (!pubsub_healthy || pubsub_healthy()));
  std::string body;
  JsonWriter json(&body);
  json.beginObject();
  json.key("status").string(linked ? "ok" : "pubsub down");
  json.key("gateway").string(hub->gatewayId());
  json.key("pubsub").string(!has_pubsub ? "none" : linked ? "up" : "down");
  json.key("counters").raw(hub->counters().toJson());
  json.endObject();
  body.push_back('\n');

  HttpResponse response;
  response.status = linked ? 200 : 503;
  response.setHeader("Content-Type", "application/json");
  response.setHeader("Cache-Control", "no-store");
  response.body = std::move(body);
  return response;
}

EventsPeerId EventsGateway::State::peerOf(const WebSocketConnection* connection) {
  std::lock_guard lock(mu);
  auto it = peers.find(connection);
  return it == peers.end() ? 0 : it->second;
}

WebSocketHandler EventsGateway::State::websocketHandler() {
  WebSocketHandler handler;
  handler.on_open = [this](const WebSocketConnectionPtr& connection) {
    EventsPeerId id = hub->attach(std::make_shared<ConnectionPeer>(connection));
    {
      std::lock_guard lock(mu);
      peers[connection.get()] = id;
    }
    spdlog::debug("events connection opened peer={} remote={} path={}", hub->peerName(id),
                  connection->remoteAddress(), connection->path());
  };
  handler.on_message = [this](const WebSocketConnectionPtr& connection, std::string&& message,
                              bool binary) {
    if (EventsPeerId id = peerOf(connection.get())) {
      hub->receive(id, std::move(message), binary);
    }
  };
  handler.on_close = [this](const WebSocketConnectionPtr& connection) {
    EventsPeerId id = 0;
    {
      std::lock_guard lock(mu);
      auto it = peers.find(connection.get());
      if (it == peers.end()) {
        return;
      }
      id = it->second;
      peers.erase(it);
    }
    hub->detach(id);
    spdlog::debug("events connection closed peer={}", hub->peerName(id));
  };
  return handler;
}

Result<std::unique_ptr<EventsGateway>> EventsGateway::create(const EventsGatewayOptions& options,
                                                             std::shared_ptr<PubSub> pubsub,
                                                             std::function<bool()> pubsub_healthy) {
  if (options.hold_seconds <= 0) {
    return Status::invalidArgument("events gateway: hold seconds must be positive");
  }
  auto state = std::make_unique<State>();
  state->has_pubsub = pubsub != nullptr;
  state->pubsub_healthy = std::move(pubsub_healthy);

  EventsHubOptions hub_options;
  hub_options.gateway_id = options.gateway_id;
  hub_options.hold = std::chrono::seconds(options.hold_seconds);
  hub_options.limits = options.limits;
  auto hub = EventsHub::create(std::move(hub_options), std::move(pubsub));
  if (!hub.ok()) {
    return hub.status();
  }
  state->hub = std::move(hub).value();

  HttpServerOptions http;
  http.host = options.host;
  http.port = options.port;
  http.threads = options.threads;
  http.websocket.max_message_bytes = options.max_message_bytes;
  http.websocket.max_queued_bytes = options.max_queued_bytes;
  State* raw = state.get();
  auto server = HttpServer::create(http, [raw](HttpRequest&& request, Responder respond) {
    raw->handleHttp(std::move(request), std::move(respond));
  });
  if (!server.ok()) {
    return server.status();
  }
  state->server = std::move(server).value();
  Status routed = state->server->addWebSocketRoute("/", state->websocketHandler());
  if (!routed.isOk()) {
    return routed;
  }
  return std::unique_ptr<EventsGateway>(new EventsGateway(std::move(state)));
}

EventsGateway::EventsGateway(std::unique_ptr<State> state) : state_(std::move(state)) {}

EventsGateway::~EventsGateway() = default;

uint16_t EventsGateway::port() const {
  return state_->server->port();
}

EventsHub& EventsGateway::hub() {
  return *state_->hub;
}

void EventsGateway::run() {
  state_->server->run();
}

void EventsGateway::stop() {
  state_->server->stop();
}

}  // namespace cex

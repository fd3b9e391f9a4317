#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "net/websocket_client.h"

namespace cex {

class EventsHub;

struct EventsClientOptions {
  // How long a subscription waits for the hub's "subscribed:" before on_confirmed gets Timeout.
  // The subscription itself stays, and is renewed on every reconnect, until unsubscribe().
  std::chrono::milliseconds subscribe_timeout{10'000};
  // A published result goes out again when no ack came within ack_wait, up to max_sends times
  // on one connection; a reconnect sends it again and starts the count afresh.
  std::chrono::milliseconds ack_wait{3'000};
  int max_sends = 3;
  // However often the connection comes back, a publish ends with Timeout this long after it
  // was made.
  std::chrono::milliseconds publish_deadline{60'000};
  // An ack given while disconnected goes out on the next connection if that comes within this.
  std::chrono::milliseconds ack_retention{60'000};
};

// A result for a subscribed guid: the publisher's JSON, unchanged (it may be a blob reference,
// see result_reference.h).
using EventsResultHandler = std::function<void(const std::string& guid, std::string&& json)>;

// Completes one subscribe or publish; called exactly once.
using EventsDone = std::function<void(const Status& status)>;

// What compile routers and workers hold to talk to an events hub: routers subscribe to a
// request's guid before enqueueing it, wait for the result, acknowledge it and unsubscribe;
// workers publish a result and ack their queue job once the result is acknowledged.
//
// Two transports behind one API: in process (calls into an EventsHub, for `cex serve`) and
// WebSocket (to a `cex events` gateway, reconnecting forever; on every reconnect the guids still
// waited for are subscribed again, unacknowledged results are published again, and acks given
// while disconnected are sent).
//
// Every method may be called from any thread and returns at once. Callbacks (the result
// handler, on_confirmed, on_acked) run one at a time on the client's own thread; they may call
// the client, and must not block for long. An exception thrown by one is logged and dropped.
class EventsClient {
 public:
  // A client of `hub` in this process; it is connected from the start.
  static std::unique_ptr<EventsClient> createInProcess(std::shared_ptr<EventsHub> hub,
                                                       EventsResultHandler on_result,
                                                       EventsClientOptions options = {});

  // A client of the gateway at websocket.url (ws://host:port/path); it starts connecting at
  // once. InvalidArgument for a bad URL.
  static Result<std::unique_ptr<EventsClient>> createWebSocket(WebSocketClientOptions websocket,
                                                               EventsResultHandler on_result,
                                                               EventsClientOptions options = {});

  // Disconnects; callbacks still pending are called with Unavailable before it returns. Must
  // not run inside one of the client's callbacks.
  ~EventsClient();
  EventsClient(const EventsClient&) = delete;
  EventsClient& operator=(const EventsClient&) = delete;
  EventsClient(EventsClient&&) = delete;
  EventsClient& operator=(EventsClient&&) = delete;

  // Waits for the result of `guid`: the result handler gets it once, and the client keeps the
  // guid (renewing it after reconnects until a result came) until unsubscribe(), which the
  // owner calls when it stops waiting, result or not. on_confirmed gets Ok once the hub has the
  // subscription (from then on no result for the guid is missed), Timeout after
  // subscribe_timeout, InvalidArgument for a bad guid, ResourceExhausted when the hub refuses,
  // or Unavailable when unsubscribed or stopped first. A Compiler Explorer gateway never
  // confirms: there the subscription works but on_confirmed ends in Timeout.
  void subscribe(std::string guid, EventsDone on_confirmed);

  // Stops waiting for `guid`.
  void unsubscribe(std::string guid);

  // Tells the result's publisher that it has arrived.
  void ack(std::string guid);

  // Publishes a result: `json` must be a JSON object whose "guid" member is `guid`. on_acked
  // gets Ok when a subscriber has acknowledged it (or it was acknowledged before), Timeout when
  // no ack came in time, InvalidArgument for a bad guid, or Unavailable when the client stopped
  // first or a later publish of the same guid replaced this one.
  void publish(std::string guid, std::string json, EventsDone on_acked);

  // Whether the client has a connection to its hub now.
  bool connected() const;

  class Core;
  class Transport;

 private:
  EventsClient(std::shared_ptr<Core> core, std::unique_ptr<Transport> transport);

  std::shared_ptr<Core> core_;
  std::unique_ptr<Transport> transport_;
};

}  // namespace cex

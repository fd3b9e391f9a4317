#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "backends/pub_sub.h"
#include "base/status.h"

namespace cex {

// Identifies one peer of a hub; never 0.
using EventsPeerId = uint64_t;

// Where an EventsHub sends what one peer should receive: a WebSocket connection on a gateway, or
// an in-process client. The hub calls these with its lock held, one at a time and in the order
// the peer must see them, so implementations queue and return: they must not block and must not
// call back into the hub.
class EventsPeer {
 public:
  virtual ~EventsPeer() = default;

  // The subscription to `guid` has taken effect ("subscribed: <guid>").
  virtual void subscribed(const std::string& guid) = 0;

  // The subscription was refused ("subscribe failed: <guid> <reason>").
  virtual void subscribeFailed(const std::string& guid, std::string_view reason) = 0;

  // A result for a subscribed guid: the publisher's bytes, unchanged.
  virtual void result(const std::string& guid, const std::string& json) = 0;

  // The result this peer published for `guid` has been acknowledged by the peer named
  // `acknowledged_by` (ackFrame).
  virtual void acked(const std::string& guid, const std::string& acknowledged_by) = 0;

  // Any other reply: "pong", "unknown text message", "unknown object message".
  virtual void reply(std::string_view text) = 0;
};

// What one hub may hold; past these it refuses or evicts, and counts.
struct EventsLimits {
  // Results kept for a late subscriber or until acknowledged, by count and by bytes; the oldest
  // is evicted first. A result larger than max_held_bytes alone is delivered but not held.
  size_t max_held_results = 10'000;
  size_t max_held_bytes = size_t{256} * 1024 * 1024;
  // Acknowledged guids remembered (so that a second result is not delivered); the oldest goes.
  size_t max_acked_guids = 100'000;
  // Subscriptions one peer may hold at once; more are refused.
  size_t max_subscriptions_per_peer = 10'000;
};

struct EventsHubOptions {
  // Names this hub in its peers' names and on pub/sub; [A-Za-z0-9_-]+. Empty: random.
  std::string gateway_id;
  // How long a result is held for a subscriber that has not come yet, or until it is
  // acknowledged; also how long a publisher is remembered for the ack.
  std::chrono::milliseconds hold{60'000};
  // How long an acknowledged guid is remembered. Longer than a job's lease, so that the result
  // of a redelivered job still finds the mark.
  std::chrono::milliseconds acked_ttl{600'000};
  EventsLimits limits;
  // Subjects on the shared PubSub start with this: "<prefix>.result.<guid>" and
  // "<prefix>.ack.<guid>". Gateways that share a namespace use the same prefix.
  std::string subject_prefix = "cex.events";
  // Replaces the steady clock, so that tests can move time.
  std::function<std::chrono::steady_clock::time_point()> clock_for_test;
};

// Gauges (now) and totals (since start) of one hub, for /healthcheck.
struct EventsCounters {
  uint64_t peers = 0;
  uint64_t subscriptions = 0;
  uint64_t held_results = 0;
  uint64_t held_bytes = 0;
  uint64_t acked_guids = 0;
  uint64_t subscribes_total = 0;
  uint64_t subscribes_refused_total = 0;
  uint64_t publishes_total = 0;
  uint64_t deliveries_total = 0;
  uint64_t held_deliveries_total = 0;  // results delivered on subscription
  uint64_t acks_total = 0;
  uint64_t acks_relayed_total = 0;
  uint64_t late_results_total = 0;  // published after the ack: not delivered, acked at once
  uint64_t unknown_frames_total = 0;
  uint64_t malformed_frames_total = 0;
  uint64_t evictions_total = 0;          // held results dropped for the limits
  uint64_t expired_unclaimed_total = 0;  // held results that no subscriber ever got
  uint64_t expired_unacked_total = 0;    // held results delivered but never acknowledged
  uint64_t pubsub_received_total = 0;
  uint64_t pubsub_errors_total = 0;

  // One JSON object with these names as members.
  std::string toJson() const;
};

// The events gateway's logic, independent of any transport: peers subscribe to request guids,
// publish results, and acknowledge them, in the text protocol of events_protocol.h. Beyond
// relaying, the hub
// - confirms every subscription ("subscribed: <guid>");
// - holds each result until it is acknowledged or EventsHubOptions::hold has passed, and
//   delivers it to whoever subscribes in that time, so a result may come before its subscriber;
// - delivers nothing more for a guid once it is acknowledged, and answers a later publish of it
//   with the ack at once (the result of a redelivered job never reaches the client twice);
// - relays an ack to the latest publisher of the guid, so a publisher that reconnected and
//   published again gets it; one that is away gets it when it publishes again;
// - drops a peer's subscriptions with the peer;
// - keeps within EventsLimits, counting what it refuses and evicts.
//
// With a PubSub, hubs that use the same subject prefix share one namespace: results and acks
// are published on subjects, so a result published on one hub reaches subscribers on every
// other, and an ack given on any hub reaches the publisher wherever it is. Every hub therefore
// holds a copy of every unacknowledged result, and a result must fit in one PubSub message
// (NATS: 1 MiB by default) to cross; larger ones reach only their own hub's subscribers (and
// count as pubsub errors), which is one more reason to send them by reference.
//
// Large results: a publisher stores a result of more than a frame's worth in the BlobStore and
// publishes a reference {"guid": <guid>, "blobKey": <key>} instead (result_reference.h); the hub
// passes it on like any result, and subscribers fetch the blob. Results travel byte for byte.
//
// Thread-safe: every method may be called from any thread.
class EventsHub {
 public:
  // `pubsub` may be null: the hub then stands alone. Fails on bad options, or when the PubSub
  // refuses the subscription for another reason than being unreachable.
  static Result<std::unique_ptr<EventsHub>> create(EventsHubOptions options,
                                                   std::shared_ptr<PubSub> pubsub);

  // Leaves the PubSub first; no peer is called once it has returned.
  ~EventsHub();
  EventsHub(const EventsHub&) = delete;
  EventsHub& operator=(const EventsHub&) = delete;
  EventsHub(EventsHub&&) = delete;
  EventsHub& operator=(EventsHub&&) = delete;

  // Adds a peer; the hub keeps it until detach().
  EventsPeerId attach(std::shared_ptr<EventsPeer> peer);

  // Removes a peer and its subscriptions; it is not called again once this returns. A result
  // it published stays held, and its ack waits for its next publish of the same guid.
  void detach(EventsPeerId peer);

  // One frame from a peer, as the protocol defines it. The protocol has no binary frames: one
  // is counted as unknown and answered "unknown text message".
  void receive(EventsPeerId peer, std::string&& frame, bool binary = false);

  // The protocol's operations without the text, for in-process peers. An invalid guid is
  // counted and ignored (subscribe answers subscribeFailed).
  void subscribe(EventsPeerId peer, const std::string& guid);
  void unsubscribe(EventsPeerId peer, const std::string& guid);
  void ack(EventsPeerId peer, const std::string& guid);
  // `json` must be a JSON object whose "guid" member is `guid`; it is not checked again.
  void publish(EventsPeerId peer, const std::string& guid, std::string&& json);

  EventsCounters counters();

  // This hub's id: the prefix of its peers' names.
  const std::string& gatewayId() const;

  // The name a peer's acks carry ("acknowledgedBy"): "<gateway id>-<peer id>".
  std::string peerName(EventsPeerId peer) const;

  // Whether the hub hears the other hubs; always true without a PubSub. A hub whose PubSub
  // could not be reached at creation serves its own peers and subscribes once it can.
  bool linked() const;

  class Core;
  class Link;

 private:
  explicit EventsHub(std::shared_ptr<Core> core);

  std::shared_ptr<Core> core_;
  std::unique_ptr<Link> link_;  // null without a PubSub
};

}  // namespace cex

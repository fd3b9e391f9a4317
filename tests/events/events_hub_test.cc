#include "events/events_hub.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "events/events_protocol.h"
#include "events_test_util.h"

namespace cex {
namespace {

using std::chrono::milliseconds;
using Frames = std::vector<std::string>;

constexpr milliseconds kHold{60'000};
constexpr milliseconds kAckedTtl{600'000};

class EventsHubTest : public ::testing::Test {
 protected:
  void SetUp() override { makeHub(EventsLimits{}); }

  void makeHub(EventsLimits limits) {
    EventsHubOptions options;
    options.gateway_id = "gw";
    options.hold = kHold;
    options.acked_ttl = kAckedTtl;
    options.limits = limits;
    options.clock_for_test = clock_.function();
    auto hub = EventsHub::create(std::move(options), nullptr);
    ASSERT_TRUE(hub.ok()) << hub.status().toString();
    hub_ = std::move(hub).value();
  }

  struct Peer {
    std::shared_ptr<RecordingPeer> recorder;
    EventsPeerId id;
  };

  Peer attach() {
    auto recorder = std::make_shared<RecordingPeer>();
    EventsPeerId id = hub_->attach(recorder);
    return {recorder, id};
  }

  void send(const Peer& peer, std::string frame) { hub_->receive(peer.id, std::move(frame)); }

  FakeClock clock_;
  std::unique_ptr<EventsHub> hub_;
};

const std::string kResult = R"({"guid":"g1", "code":0,  "asm":[{"text":"ret"}]})";

TEST_F(EventsHubTest, PingAnswersPong) {
  Peer a = attach();
  send(a, "ping");
  EXPECT_EQ(a.recorder->take(), Frames{"pong"});
}

TEST_F(EventsHubTest, UnknownTextIsAnsweredAndCounted) {
  Peer a = attach();
  for (const char* text : {"hello", "PING", "ping ", "subscribe:g1", "Subscribe: g1", "subscribe",
                           "[1,2]", " {\"guid\":\"g1\"}", ""}) {
    send(a, text);
  }
  EXPECT_EQ(a.recorder->take(), Frames(9, "unknown text message"));
  EXPECT_EQ(hub_->counters().unknown_frames_total, 9u);
}

TEST_F(EventsHubTest, CommandsWithBadGuidsAreMalformed) {
  Peer a = attach();
  for (const char* text :
       {"subscribe: ", "unsubscribe: ", "ack: ", "subscribe: a b", "subscribe: g1\n", "ack:  g1"}) {
    send(a, text);
  }
  send(a, "subscribe: " + std::string(kMaxGuidBytes + 1, 'x'));
  EXPECT_EQ(a.recorder->take(), Frames(7, "unknown text message"));
  EventsCounters counters = hub_->counters();
  EXPECT_EQ(counters.malformed_frames_total, 7u);
  EXPECT_EQ(counters.subscriptions, 0u);
}

TEST_F(EventsHubTest, ObjectsWithoutGuidAreUnknownAndBadJsonIsMalformed) {
  Peer a = attach();
  send(a, "{}");
  send(a, R"({"type":"ack"})");
  send(a, R"({"guid":7})");
  send(a, R"({"guid":"g1")");
  send(a, R"({"guid":"a b"})");
  send(a, "{not json}");
  EXPECT_EQ(a.recorder->take(), Frames(6, "unknown object message"));
  EventsCounters counters = hub_->counters();
  EXPECT_EQ(counters.unknown_frames_total, 3u);
  EXPECT_EQ(counters.malformed_frames_total, 3u);
  EXPECT_EQ(counters.publishes_total, 0u);
}

TEST_F(EventsHubTest, BinaryFramesAreUnknown) {
  Peer a = attach();
  hub_->receive(a.id, std::string(R"({"guid":"g1"})"), true);
  EXPECT_EQ(a.recorder->take(), Frames{"unknown text message"});
  EXPECT_EQ(hub_->counters().publishes_total, 0u);
}

TEST_F(EventsHubTest, SubscriptionIsConfirmed) {
  Peer a = attach();
  send(a, "subscribe: g1");
  EXPECT_EQ(a.recorder->take(), Frames{"subscribed: g1"});
  EXPECT_EQ(hub_->counters().subscriptions, 1u);
}

TEST_F(EventsHubTest, ResultIsForwardedByteForByteToEverySubscriber) {
  Peer a = attach();
  Peer b = attach();
  Peer publisher = attach();
  send(a, "subscribe: g1");
  send(b, "subscribe: g1");
  send(publisher, kResult);
  EXPECT_EQ(a.recorder->take(), (Frames{"subscribed: g1", kResult}));
  EXPECT_EQ(b.recorder->take(), (Frames{"subscribed: g1", kResult}));
  EXPECT_TRUE(publisher.recorder->take().empty());
  EXPECT_EQ(hub_->counters().deliveries_total, 2u);
}

TEST_F(EventsHubTest, OneConnectionMaySubscribeAndPublish) {
  Peer a = attach();
  send(a, "subscribe: g1");
  send(a, kResult);
  send(a, "ack: g1");
  EXPECT_EQ(a.recorder->take(), (Frames{"subscribed: g1", kResult, ackFrame("g1", "gw-1")}));
}

TEST_F(EventsHubTest, ResultBeforeSubscriptionIsHeldAndDelivered) {
  Peer publisher = attach();
  send(publisher, kResult);
  EXPECT_EQ(hub_->counters().held_results, 1u);

  clock_.advance(kHold - milliseconds(1));
  Peer a = attach();
  send(a, "subscribe: g1");
  EXPECT_EQ(a.recorder->take(), (Frames{"subscribed: g1", kResult}));
  EventsCounters counters = hub_->counters();
  EXPECT_EQ(counters.held_deliveries_total, 1u);
  EXPECT_EQ(counters.held_bytes, kResult.size());
}

TEST_F(EventsHubTest, HeldResultExpiresAfterTheHoldTime) {
  Peer publisher = attach();
  send(publisher, kResult);
  clock_.advance(kHold);
  Peer a = attach();
  send(a, "subscribe: g1");
  EXPECT_EQ(a.recorder->take(), Frames{"subscribed: g1"});
  EventsCounters counters = hub_->counters();
  EXPECT_EQ(counters.held_results, 0u);
  EXPECT_EQ(counters.held_bytes, 0u);
  EXPECT_EQ(counters.expired_unclaimed_total, 1u);
}

TEST_F(EventsHubTest, DeliveredButUnackedResultIsKeptForAResubscription) {
  Peer a = attach();
  Peer publisher = attach();
  send(a, "subscribe: g1");
  send(publisher, kResult);
  hub_->detach(a.id);

  // The subscriber's connection dropped before the result reached it; it comes back.
  Peer again = attach();
  send(again, "subscribe: g1");
  EXPECT_EQ(again.recorder->take(), (Frames{"subscribed: g1", kResult}));

  clock_.advance(kHold);
  EXPECT_EQ(hub_->counters().expired_unacked_total, 1u);
}

TEST_F(EventsHubTest, AckIsRelayedToThePublisher) {
  Peer a = attach();
  Peer publisher = attach();
  send(a, "subscribe: g1");
  send(publisher, kResult);
  send(a, "ack: g1");
  EXPECT_EQ(publisher.recorder->take(), Frames{ackFrame("g1", hub_->peerName(a.id))});
  EventsCounters counters = hub_->counters();
  EXPECT_EQ(counters.acks_total, 1u);
  EXPECT_EQ(counters.acks_relayed_total, 1u);
  EXPECT_EQ(counters.held_results, 0u);
}

TEST_F(EventsHubTest, AcknowledgedGuidIsNotDeliveredAgain) {
  Peer a = attach();
  Peer publisher = attach();
  send(a, "subscribe: g1");
  send(publisher, kResult);
  send(a, "ack: g1");
  a.recorder->take();
  publisher.recorder->take();

  // A redelivered job's second result: nobody gets it, and its publisher is released at once.
  Peer second = attach();
  send(second, R"({"guid":"g1","code":1})");
  EXPECT_TRUE(a.recorder->take().empty());
  EXPECT_EQ(second.recorder->take(), Frames{ackFrame("g1", hub_->peerName(a.id))});

  Peer late = attach();
  send(late, "subscribe: g1");
  EXPECT_EQ(late.recorder->take(), Frames{"subscribed: g1"});
  EXPECT_EQ(hub_->counters().late_results_total, 1u);
}

TEST_F(EventsHubTest, AckedMarkIsForgottenAfterItsTtl) {
  Peer a = attach();
  Peer publisher = attach();
  send(a, "subscribe: g1");
  send(publisher, kResult);
  send(a, "ack: g1");
  EXPECT_EQ(hub_->counters().acked_guids, 1u);
  clock_.advance(kAckedTtl);
  EXPECT_EQ(hub_->counters().acked_guids, 0u);
}

TEST_F(EventsHubTest, PublisherThatReconnectedGetsTheAck) {
  Peer a = attach();
  Peer publisher = attach();
  send(a, "subscribe: g1");
  send(publisher, kResult);
  hub_->detach(publisher.id);

  Peer again = attach();
  send(again, kResult);
  send(a, "ack: g1");
  EXPECT_EQ(again.recorder->take(), Frames{ackFrame("g1", hub_->peerName(a.id))});
  EXPECT_TRUE(publisher.recorder->take().empty());
}

TEST_F(EventsHubTest, PublisherThatWasAwayGetsTheAckWhenItPublishesAgain) {
  Peer a = attach();
  Peer publisher = attach();
  send(a, "subscribe: g1");
  send(publisher, kResult);
  hub_->detach(publisher.id);
  send(a, "ack: g1");
  EXPECT_EQ(hub_->counters().acks_relayed_total, 0u);

  clock_.advance(kHold);
  Peer again = attach();
  send(again, kResult);
  EXPECT_EQ(again.recorder->take(), Frames{ackFrame("g1", hub_->peerName(a.id))});
  EXPECT_EQ(a.recorder->take(), (Frames{"subscribed: g1", kResult}));
}

TEST_F(EventsHubTest, SubscriptionsDieWithTheirPeer) {
  Peer a = attach();
  send(a, "subscribe: g1");
  send(a, "subscribe: g2");
  EXPECT_EQ(hub_->counters().subscriptions, 2u);
  hub_->detach(a.id);
  EventsCounters counters = hub_->counters();
  EXPECT_EQ(counters.subscriptions, 0u);
  EXPECT_EQ(counters.peers, 0u);

  Peer publisher = attach();
  send(publisher, kResult);
  EXPECT_EQ(a.recorder->take().size(), 2u);
  EXPECT_EQ(hub_->counters().deliveries_total, 0u);
}

TEST_F(EventsHubTest, UnsubscribeStopsDeliveryAndIsIdempotent) {
  Peer a = attach();
  send(a, "subscribe: g1");
  send(a, "unsubscribe: g1");
  send(a, "unsubscribe: g1");
  send(a, "unsubscribe: never");
  Peer publisher = attach();
  send(publisher, kResult);
  EXPECT_EQ(a.recorder->take(), Frames{"subscribed: g1"});
  EXPECT_EQ(hub_->counters().subscriptions, 0u);
}

TEST_F(EventsHubTest, SubscriptionsPerPeerAreCapped) {
  EventsLimits limits;
  limits.max_subscriptions_per_peer = 2;
  makeHub(limits);
  Peer a = attach();
  send(a, "subscribe: g1");
  send(a, "subscribe: g2");
  send(a, "subscribe: g3");
  send(a, "subscribe: g2");
  EXPECT_EQ(a.recorder->take(),
            (Frames{"subscribed: g1", "subscribed: g2",
                    "subscribe failed: g3 too many subscriptions", "subscribed: g2"}));
  Peer b = attach();
  send(b, "subscribe: g3");
  EXPECT_EQ(b.recorder->take(), Frames{"subscribed: g3"});
  EventsCounters counters = hub_->counters();
  EXPECT_EQ(counters.subscribes_refused_total, 1u);
  EXPECT_EQ(counters.subscriptions, 3u);
}

TEST_F(EventsHubTest, HeldResultsAreCappedByCountOldestFirst) {
  EventsLimits limits;
  limits.max_held_results = 2;
  makeHub(limits);
  Peer publisher = attach();
  for (const char* guid : {"g1", "g2", "g3"}) {
    send(publisher, std::string(R"({"guid":")") + guid + R"("})");
  }
  EventsCounters counters = hub_->counters();
  EXPECT_EQ(counters.held_results, 2u);
  EXPECT_EQ(counters.evictions_total, 1u);

  Peer a = attach();
  send(a, "subscribe: g1");
  send(a, "subscribe: g3");
  EXPECT_EQ(a.recorder->take(), (Frames{"subscribed: g1", "subscribed: g3", R"({"guid":"g3"})"}));
}

TEST_F(EventsHubTest, HeldResultsAreCappedByBytes) {
  EventsLimits limits;
  limits.max_held_bytes = 100;
  makeHub(limits);
  Peer publisher = attach();
  std::string padding(40, 'x');
  for (const char* guid : {"g1", "g2", "g3"}) {
    send(publisher, std::string(R"({"guid":")") + guid + R"(","p":")" + padding + "\"}");
  }
  EventsCounters counters = hub_->counters();
  EXPECT_EQ(counters.held_results, 1u);
  EXPECT_LE(counters.held_bytes, 100u);
  EXPECT_EQ(counters.evictions_total, 2u);
}

TEST_F(EventsHubTest, ResultTooLargeToHoldIsStillDelivered) {
  EventsLimits limits;
  limits.max_held_bytes = 10;
  makeHub(limits);
  Peer a = attach();
  Peer publisher = attach();
  send(a, "subscribe: g1");
  send(publisher, kResult);
  EXPECT_EQ(a.recorder->take(), (Frames{"subscribed: g1", kResult}));
  EventsCounters counters = hub_->counters();
  EXPECT_EQ(counters.held_results, 0u);
  EXPECT_EQ(counters.evictions_total, 1u);

  // Its ack still reaches the publisher.
  send(a, "ack: g1");
  EXPECT_EQ(publisher.recorder->take(), Frames{ackFrame("g1", hub_->peerName(a.id))});
}

TEST_F(EventsHubTest, AckedMarksAreCapped) {
  EventsLimits limits;
  limits.max_acked_guids = 2;
  makeHub(limits);
  Peer a = attach();
  for (const char* guid : {"g1", "g2", "g3"}) {
    send(a, std::string("ack: ") + guid);
  }
  EXPECT_EQ(hub_->counters().acked_guids, 2u);

  // The oldest mark went, so g1 is deliverable again; g3 is not.
  Peer publisher = attach();
  send(a, "subscribe: g1");
  send(a, "subscribe: g3");
  send(publisher, R"({"guid":"g1"})");
  send(publisher, R"({"guid":"g3"})");
  EXPECT_EQ(a.recorder->take(), (Frames{"subscribed: g1", "subscribed: g3", R"({"guid":"g1"})"}));
}

TEST_F(EventsHubTest, RepublishingOneGuidKeepsOneHeldCopy) {
  Peer publisher = attach();
  for (int i = 0; i < 10'000; ++i) {
    send(publisher, R"({"guid":"g1","n":)" + std::to_string(i) + "}");
  }
  EventsCounters counters = hub_->counters();
  EXPECT_EQ(counters.held_results, 1u);
  EXPECT_EQ(counters.publishes_total, 10'000u);
  Peer a = attach();
  send(a, "subscribe: g1");
  EXPECT_EQ(a.recorder->take(), (Frames{"subscribed: g1", R"({"guid":"g1","n":9999})"}));
}

TEST_F(EventsHubTest, FloodOfSubscriptionsIsBoundedPerPeer) {
  Peer flood = attach();
  for (int i = 0; i < 30'000; ++i) {
    send(flood, "subscribe: flood-" + std::to_string(i));
  }
  EventsCounters counters = hub_->counters();
  EXPECT_EQ(counters.subscriptions, EventsLimits{}.max_subscriptions_per_peer);
  EXPECT_EQ(counters.subscribes_refused_total, 30'000 - EventsLimits{}.max_subscriptions_per_peer);

  hub_->detach(flood.id);
  EXPECT_EQ(hub_->counters().subscriptions, 0u);
}

TEST_F(EventsHubTest, TypedCallsMatchTheTextProtocol) {
  Peer a = attach();
  Peer publisher = attach();
  hub_->subscribe(a.id, "g1");
  hub_->publish(publisher.id, "g1", std::string(kResult));
  hub_->ack(a.id, "g1");
  hub_->subscribe(a.id, "bad guid");
  EXPECT_EQ(a.recorder->take(),
            (Frames{"subscribed: g1", kResult, "subscribe failed: bad guid bad guid"}));
  EXPECT_EQ(publisher.recorder->take(), Frames{ackFrame("g1", hub_->peerName(a.id))});
}

TEST_F(EventsHubTest, CountersSerialiseAsJson) {
  Peer a = attach();
  send(a, "subscribe: g1");
  std::string json = hub_->counters().toJson();
  EXPECT_NE(json.find(R"("peers":1)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("subscriptions":1)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("evictionsTotal":0)"), std::string::npos) << json;
}

TEST(EventsHubCreateTest, RejectsBadOptions) {
  EventsHubOptions bad_id;
  bad_id.gateway_id = "a.b";
  EXPECT_FALSE(EventsHub::create(bad_id, nullptr).ok());
  EventsHubOptions no_hold;
  no_hold.hold = milliseconds(0);
  EXPECT_FALSE(EventsHub::create(no_hold, nullptr).ok());
  auto random = EventsHub::create(EventsHubOptions{}, nullptr);
  ASSERT_TRUE(random.ok());
  EXPECT_EQ((*random)->gatewayId().size(), 8u);
}

// ----------------------------------------------------------------------------------------------
// Hubs sharing one namespace through a PubSub

class SharedHubsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pubsub_ = std::make_shared<LoopbackPubSub>();
    first_ = makeHub("one");
    second_ = makeHub("two");
  }

  std::unique_ptr<EventsHub> makeHub(const std::string& id) {
    EventsHubOptions options;
    options.gateway_id = id;
    auto hub = EventsHub::create(std::move(options), pubsub_);
    EXPECT_TRUE(hub.ok());
    return std::move(hub).value();
  }

  std::shared_ptr<LoopbackPubSub> pubsub_;
  std::unique_ptr<EventsHub> first_;
  std::unique_ptr<EventsHub> second_;
};

TEST_F(SharedHubsTest, ResultAndAckCrossHubs) {
  auto subscriber = std::make_shared<RecordingPeer>();
  auto publisher = std::make_shared<RecordingPeer>();
  EventsPeerId s = second_->attach(subscriber);
  EventsPeerId p = first_->attach(publisher);
  second_->receive(s, "subscribe: g1");
  first_->receive(p, std::string(kResult));
  ASSERT_TRUE(subscriber->waitForCount(2));
  EXPECT_EQ(subscriber->frames(), (Frames{"subscribed: g1", kResult}));

  second_->receive(s, "ack: g1");
  ASSERT_TRUE(publisher->waitForCount(1));
  EXPECT_EQ(publisher->frames(), Frames{ackFrame("g1", "two-1")});
  EXPECT_TRUE(eventually([&] { return first_->counters().held_results == 0; }));
}

TEST_F(SharedHubsTest, ResultBeforeSubscriptionOnAnotherHubIsHeld) {
  auto publisher = std::make_shared<RecordingPeer>();
  EventsPeerId p = first_->attach(publisher);
  first_->receive(p, std::string(kResult));
  ASSERT_TRUE(eventually([&] { return second_->counters().held_results == 1; }));

  auto subscriber = std::make_shared<RecordingPeer>();
  EventsPeerId s = second_->attach(subscriber);
  second_->receive(s, "subscribe: g1");
  EXPECT_EQ(subscriber->frames(), (Frames{"subscribed: g1", kResult}));
}

TEST_F(SharedHubsTest, HubIgnoresItsOwnMessages) {
  auto subscriber = std::make_shared<RecordingPeer>();
  auto publisher = std::make_shared<RecordingPeer>();
  EventsPeerId s = first_->attach(subscriber);
  EventsPeerId p = first_->attach(publisher);
  first_->receive(s, "subscribe: g1");
  first_->receive(p, std::string(kResult));
  first_->receive(s, "ack: g1");
  ASSERT_TRUE(eventually([&] { return second_->counters().pubsub_received_total == 2; }));
  EXPECT_EQ(subscriber->frames(), (Frames{"subscribed: g1", kResult}));
  EXPECT_EQ(publisher->frames(), Frames{ackFrame("g1", "one-1")});
  EXPECT_EQ(first_->counters().pubsub_received_total, 0u);
}

TEST_F(SharedHubsTest, LateResultOnTheOtherHubIsAckedAtOnce) {
  auto subscriber = std::make_shared<RecordingPeer>();
  auto publisher = std::make_shared<RecordingPeer>();
  EventsPeerId s = first_->attach(subscriber);
  EventsPeerId p = first_->attach(publisher);
  first_->receive(s, "subscribe: g1");
  first_->receive(p, std::string(kResult));
  first_->receive(s, "ack: g1");
  ASSERT_TRUE(eventually([&] { return second_->counters().acked_guids == 1; }));

  // The redelivered job's worker is connected to the other hub.
  auto late = std::make_shared<RecordingPeer>();
  EventsPeerId l = second_->attach(late);
  second_->receive(l, R"({"guid":"g1","code":1})");
  EXPECT_EQ(late->frames(), Frames{ackFrame("g1", "one-1")});
  EXPECT_EQ(subscriber->frames(), (Frames{"subscribed: g1", kResult}));
}

TEST_F(SharedHubsTest, HubLinksOnceThePubSubIsReachable) {
  pubsub_->setDown(true);
  std::unique_ptr<EventsHub> third = makeHub("three");
  EXPECT_FALSE(third->linked());
  pubsub_->setDown(false);
  ASSERT_TRUE(eventually([&] { return third->linked(); }));

  auto subscriber = std::make_shared<RecordingPeer>();
  auto publisher = std::make_shared<RecordingPeer>();
  EventsPeerId s = third->attach(subscriber);
  EventsPeerId p = first_->attach(publisher);
  third->receive(s, "subscribe: g1");
  first_->receive(p, std::string(kResult));
  ASSERT_TRUE(subscriber->waitForCount(2));
  EXPECT_EQ(subscriber->frames(), (Frames{"subscribed: g1", kResult}));
}

TEST_F(SharedHubsTest, PubSubFailuresAreCounted) {
  pubsub_->setDown(true);
  auto publisher = std::make_shared<RecordingPeer>();
  EventsPeerId p = first_->attach(publisher);
  first_->receive(p, std::string(kResult));
  EXPECT_EQ(first_->counters().pubsub_errors_total, 1u);
}

}  // namespace
}  // namespace cex

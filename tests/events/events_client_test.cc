#include "events/events_client.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "events/events_hub.h"
#include "events_test_util.h"

namespace cex {
namespace {

using std::chrono::milliseconds;

class EventsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto hub = EventsHub::create(EventsHubOptions{}, nullptr);
    ASSERT_TRUE(hub.ok());
    hub_ = std::move(hub).value();
  }

  std::unique_ptr<EventsClient> client(ClientLog& log, EventsClientOptions options = {}) {
    return EventsClient::createInProcess(hub_, log.resultHandler(), options);
  }

  std::shared_ptr<EventsHub> hub_;
};

const std::string kResult = R"({"guid":"g1","code":0})";

TEST_F(EventsClientTest, SubscribePublishAckRoundTrip) {
  ClientLog router_log;
  ClientLog worker_log;
  auto router = client(router_log);
  auto worker = client(worker_log);
  EXPECT_TRUE(router->connected());

  router->subscribe("g1", router_log.confirmation("g1"));
  auto confirmed = router_log.waitStatus(router_log.confirmations, "g1");
  ASSERT_TRUE(confirmed && confirmed->isOk());

  worker->publish("g1", kResult, worker_log.ack("g1"));
  EXPECT_EQ(router_log.waitResult("g1"), kResult);
  router->ack("g1");
  router->unsubscribe("g1");
  auto acked = worker_log.waitStatus(worker_log.acks, "g1");
  ASSERT_TRUE(acked);
  EXPECT_TRUE(acked->isOk()) << acked->toString();
  EXPECT_TRUE(eventually([&] { return hub_->counters().subscriptions == 0; }));
}

TEST_F(EventsClientTest, ResultPublishedBeforeTheSubscriptionArrives) {
  ClientLog router_log;
  ClientLog worker_log;
  auto router = client(router_log);
  auto worker = client(worker_log);
  worker->publish("g1", kResult, worker_log.ack("g1"));
  ASSERT_TRUE(eventually([&] { return hub_->counters().held_results == 1; }));

  router->subscribe("g1", router_log.confirmation("g1"));
  EXPECT_EQ(router_log.waitResult("g1"), kResult);
  router->ack("g1");
  auto acked = worker_log.waitStatus(worker_log.acks, "g1");
  ASSERT_TRUE(acked && acked->isOk());
}

TEST_F(EventsClientTest, UnackedPublishIsResentThenTimesOut) {
  ClientLog worker_log;
  EventsClientOptions options;
  options.ack_wait = milliseconds(20);
  options.max_sends = 3;
  auto worker = client(worker_log, options);
  worker->publish("g1", kResult, worker_log.ack("g1"));
  auto acked = worker_log.waitStatus(worker_log.acks, "g1");
  ASSERT_TRUE(acked);
  EXPECT_EQ(acked->code(), StatusCode::Timeout);
  EXPECT_EQ(hub_->counters().publishes_total, 3u);
}

TEST_F(EventsClientTest, PublishGivesUpAtItsDeadline) {
  ClientLog worker_log;
  EventsClientOptions options;
  options.ack_wait = milliseconds(10'000);
  options.publish_deadline = milliseconds(30);
  auto worker = client(worker_log, options);
  worker->publish("g1", kResult, worker_log.ack("g1"));
  auto acked = worker_log.waitStatus(worker_log.acks, "g1");
  ASSERT_TRUE(acked);
  EXPECT_EQ(acked->code(), StatusCode::Timeout);
}

TEST_F(EventsClientTest, ResultReachesTheHandlerOnce) {
  ClientLog router_log;
  ClientLog worker_log;
  auto router = client(router_log);
  auto worker = client(worker_log);
  router->subscribe("g1", router_log.confirmation("g1"));
  ASSERT_TRUE(router_log.waitStatus(router_log.confirmations, "g1"));
  worker->publish("g1", kResult, worker_log.ack("g1"));
  worker->publish("g1", kResult, worker_log.ack("g1-again"));
  ASSERT_TRUE(eventually([&] { return hub_->counters().deliveries_total == 2; }));
  router->ack("g1");
  ASSERT_TRUE(worker_log.waitStatus(worker_log.acks, "g1-again"));
  EXPECT_EQ(router_log.read([&] { return router_log.results.size(); }), 1u);

  // The first publish was replaced by the second.
  auto replaced = worker_log.waitStatus(worker_log.acks, "g1");
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->code(), StatusCode::Unavailable);
}

TEST_F(EventsClientTest, BadGuidsAreRefusedLocally) {
  ClientLog log;
  auto events = client(log);
  events->subscribe("a b", log.confirmation("a b"));
  events->publish("", "{}", log.ack(""));
  auto confirmed = log.waitStatus(log.confirmations, "a b");
  auto acked = log.waitStatus(log.acks, "");
  ASSERT_TRUE(confirmed && acked);
  EXPECT_EQ(confirmed->code(), StatusCode::InvalidArgument);
  EXPECT_EQ(acked->code(), StatusCode::InvalidArgument);
}

TEST_F(EventsClientTest, RefusedSubscriptionIsReported) {
  EventsHubOptions options;
  options.limits.max_subscriptions_per_peer = 1;
  auto hub = EventsHub::create(options, nullptr);
  ASSERT_TRUE(hub.ok());
  hub_ = std::move(hub).value();
  ClientLog log;
  auto events = client(log);
  events->subscribe("g1", log.confirmation("g1"));
  events->subscribe("g2", log.confirmation("g2"));
  auto refused = log.waitStatus(log.confirmations, "g2");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code(), StatusCode::ResourceExhausted);
}

TEST_F(EventsClientTest, StoppingCompletesPendingCallbacks) {
  ClientLog log;
  auto events = client(log);
  events->publish("g1", kResult, log.ack("g1"));
  events.reset();
  ASSERT_EQ(log.acks.size(), 1u);
  EXPECT_EQ(log.acks[0].second.code(), StatusCode::Unavailable);
  EXPECT_EQ(hub_->counters().peers, 0u);
}

TEST_F(EventsClientTest, ThrowingCallbacksDoNotStopTheClient) {
  ClientLog log;
  auto events = EventsClient::createInProcess(
      hub_, [](const std::string&, std::string&&) { throw std::runtime_error("handler"); });
  ClientLog worker_log;
  auto worker = client(worker_log);
  events->subscribe("g1", [](const Status&) { throw std::runtime_error("confirm"); });
  worker->publish("g1", kResult, worker_log.ack("g1"));
  ASSERT_TRUE(eventually([&] { return hub_->counters().deliveries_total == 1; }));
  events->ack("g1");
  auto acked = worker_log.waitStatus(worker_log.acks, "g1");
  ASSERT_TRUE(acked && acked->isOk());
}

}  // namespace
}  // namespace cex

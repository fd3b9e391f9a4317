#include "events/events_gateway.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "events/events_client.h"
#include "events/events_protocol.h"
#include "events_test_util.h"
#include "gateway_runner.h"
#include "raw_websocket.h"

namespace cex {
namespace {

using std::chrono::milliseconds;

// A raw client that has completed the upgrade on `path`.
std::unique_ptr<RawWebSocket> rawClient(uint16_t port, const std::string& path = "/prod",
                                        int receive_buffer = 0) {
  auto raw = std::make_unique<RawWebSocket>(port, receive_buffer);
  EXPECT_TRUE(raw->upgrade(path));
  return raw;
}

std::unique_ptr<EventsClient> wsClient(const GatewayRunner& gateway, ClientLog& log,
                                       EventsClientOptions options = {}) {
  auto client =
      EventsClient::createWebSocket(testClientOptions(gateway.url()), log.resultHandler(), options);
  EXPECT_TRUE(client.ok()) << client.status().toString();
  return client.ok() ? std::move(client).value() : nullptr;
}

TEST(EventsGatewayTest, ProtocolFrameByFrame) {
  GatewayRunner gateway(testGatewayOptions());
  ASSERT_TRUE(gateway.ok());
  auto subscriber = rawClient(gateway.port(), "/prod");
  auto publisher = rawClient(gateway.port(), "/beta");

  subscriber->sendText("ping");
  EXPECT_EQ(subscriber->readText(), "pong");
  subscriber->sendText("hello");
  EXPECT_EQ(subscriber->readText(), "unknown text message");
  subscriber->sendText("{}");
  EXPECT_EQ(subscriber->readText(), "unknown object message");
  subscriber->sendText("{\"guid\":");
  EXPECT_EQ(subscriber->readText(), "unknown object message");
  subscriber->sendBinary("subscribe: g1");
  EXPECT_EQ(subscriber->readText(), "unknown text message");
  subscriber->sendText("subscribe: g1");
  EXPECT_EQ(subscriber->readText(), "subscribed: g1");

  // Any path shares the namespace; the result arrives byte for byte.
  const std::string result =
      "{ \"guid\" : \"g1\",\"stdout\":[{\"text\":\"h\\u00e9llo \xc3\xa9\"}] }";
  publisher->sendText(result);
  EXPECT_EQ(subscriber->readText(), result);

  subscriber->sendText("ack: g1");
  std::string ack_prefix =
      R"({"type":"ack","guid":"g1","acknowledgedBy":")" + gateway.hub().gatewayId() + "-";
  auto ack = publisher->readText();
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->starts_with(ack_prefix)) << *ack;

  // A second result for the acknowledged guid: its publisher is released at once and the
  // subscriber gets nothing (its next frame is the answer to its own ping).
  publisher->sendText(R"({"guid":"g1","code":1})");
  auto again = publisher->readText();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->starts_with(ack_prefix)) << *again;
  subscriber->sendText("ping");
  EXPECT_EQ(subscriber->readText(), "pong");

  subscriber->sendText("unsubscribe: g1");
  publisher->sendText(R"({"guid":"g2"})");
  subscriber->sendText("subscribe: g2");
  EXPECT_EQ(subscriber->readText(), "subscribed: g2");
  EXPECT_EQ(subscriber->readText(), R"({"guid":"g2"})");
}

TEST(EventsGatewayTest, CexClientsRoundTrip) {
  GatewayRunner gateway(testGatewayOptions());
  ASSERT_TRUE(gateway.ok());
  ClientLog router_log;
  ClientLog worker_log;
  auto router = wsClient(gateway, router_log);
  auto worker = wsClient(gateway, worker_log);

  router->subscribe("g1", router_log.confirmation("g1"));
  auto confirmed = router_log.waitStatus(router_log.confirmations, "g1");
  ASSERT_TRUE(confirmed && confirmed->isOk()) << (confirmed ? confirmed->toString() : "none");
  EXPECT_TRUE(router->connected());

  const std::string result = R"({"guid":"g1","code":0,"asm":[{"text":"ret"}]})";
  worker->publish("g1", result, worker_log.ack("g1"));
  EXPECT_EQ(router_log.waitResult("g1"), result);
  router->ack("g1");
  router->unsubscribe("g1");
  auto acked = worker_log.waitStatus(worker_log.acks, "g1");
  ASSERT_TRUE(acked);
  EXPECT_TRUE(acked->isOk()) << acked->toString();

  // A result that comes before its subscription is held for it.
  worker->publish("g2", R"({"guid":"g2"})", worker_log.ack("g2"));
  ASSERT_TRUE(eventually([&] { return gateway.hub().counters().held_results == 1; }));
  router->subscribe("g2", router_log.confirmation("g2"));
  EXPECT_EQ(router_log.waitResult("g2"), R"({"guid":"g2"})");
  router->ack("g2");
  auto acked2 = worker_log.waitStatus(worker_log.acks, "g2");
  ASSERT_TRUE(acked2 && acked2->isOk());
}

TEST(EventsGatewayTest, HealthcheckReportsCountersAndTheLink) {
  bool link_up = true;
  auto pubsub = std::make_shared<LoopbackPubSub>();
  GatewayRunner gateway(testGatewayOptions(), pubsub, [&link_up] { return link_up; });
  ASSERT_TRUE(gateway.ok());
  auto raw = rawClient(gateway.port());
  raw->sendText("subscribe: g1");
  ASSERT_EQ(raw->readText(), "subscribed: g1");

  auto healthy = httpGet(gateway.port(), "/healthcheck");
  ASSERT_TRUE(healthy.ok()) << healthy.status().toString();
  EXPECT_EQ(healthy->status, 200);
  EXPECT_EQ(healthy->header("Content-Type"), "application/json");
  EXPECT_NE(healthy->body.find(R"("pubsub":"up")"), std::string::npos) << healthy->body;
  EXPECT_NE(healthy->body.find(R"("subscriptions":1)"), std::string::npos) << healthy->body;
  EXPECT_NE(healthy->body.find(R"("gateway":")" + gateway.hub().gatewayId()), std::string::npos);

  link_up = false;
  auto down = httpGet(gateway.port(), "/healthcheck");
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->status, 503);
  EXPECT_NE(down->body.find(R"("pubsub":"down")"), std::string::npos) << down->body;

  auto other = httpGet(gateway.port(), "/prod");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->status, 404);
}

TEST(EventsGatewayTest, HealthcheckWithoutPubSub) {
  GatewayRunner gateway(testGatewayOptions());
  ASSERT_TRUE(gateway.ok());
  auto healthy = httpGet(gateway.port(), "/healthcheck");
  ASSERT_TRUE(healthy.ok());
  EXPECT_EQ(healthy->status, 200);
  EXPECT_NE(healthy->body.find(R"("pubsub":"none")"), std::string::npos) << healthy->body;
}

TEST(EventsGatewayTest, FloodOfSubscriptionsIsRefusedPastTheLimit) {
  EventsGatewayOptions options = testGatewayOptions();
  options.limits.max_subscriptions_per_peer = 1000;
  GatewayRunner gateway(options);
  ASSERT_TRUE(gateway.ok());
  auto flood = rawClient(gateway.port());
  std::string burst;
  constexpr int kFlood = 5000;
  for (int i = 0; i < kFlood; ++i) {
    burst += RawWebSocket::encode(RawWebSocket::kText, "subscribe: flood-" + std::to_string(i));
  }
  ASSERT_TRUE(flood->sendAll(burst));

  // Others are served while the flood is answered.
  ClientLog router_log;
  ClientLog worker_log;
  auto router = wsClient(gateway, router_log);
  auto worker = wsClient(gateway, worker_log);
  router->subscribe("g1", router_log.confirmation("g1"));
  ASSERT_TRUE(router_log.waitStatus(router_log.confirmations, "g1"));
  worker->publish("g1", R"({"guid":"g1"})", worker_log.ack("g1"));
  EXPECT_TRUE(router_log.waitResult("g1"));

  int subscribed = 0;
  int refused = 0;
  for (int i = 0; i < kFlood; ++i) {
    auto reply = flood->readText();
    ASSERT_TRUE(reply) << "after " << i;
    subscribed += reply->starts_with("subscribed: ") ? 1 : 0;
    refused += reply->ends_with(" too many subscriptions") ? 1 : 0;
  }
  EXPECT_EQ(subscribed, 1000);
  EXPECT_EQ(refused, kFlood - 1000);
  flood->sendText("ping");
  EXPECT_EQ(flood->readText(), "pong");
}

TEST(EventsGatewayTest, PeerThatStopsReadingIsDroppedAndOthersAreServed) {
  EventsGatewayOptions options = testGatewayOptions();
  options.max_queued_bytes = 1024 * 1024;
  GatewayRunner gateway(options);
  ASSERT_TRUE(gateway.ok());
  auto stalled = rawClient(gateway.port(), "/prod", 4096);
  stalled->sendText("subscribe: slow");
  auto publisher = rawClient(gateway.port());
  ASSERT_TRUE(eventually([&] { return gateway.hub().counters().subscriptions == 1; }));

  // Far more than the queue limit and every kernel buffer on the way.
  std::string padding(64 * 1024, 'x');
  std::string frame =
      RawWebSocket::encode(RawWebSocket::kText, R"({"guid":"slow","pad":")" + padding + "\"}");
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(publisher->sendAll(frame));
  }
  ASSERT_TRUE(eventually([&] { return gateway.hub().counters().peers == 1; }));

  ClientLog router_log;
  ClientLog worker_log;
  auto router = wsClient(gateway, router_log);
  auto worker = wsClient(gateway, worker_log);
  router->subscribe("g1", router_log.confirmation("g1"));
  ASSERT_TRUE(router_log.waitStatus(router_log.confirmations, "g1"));
  worker->publish("g1", R"({"guid":"g1"})", worker_log.ack("g1"));
  EXPECT_EQ(router_log.waitResult("g1"), R"({"guid":"g1"})");
  publisher->sendText("ping");
  EXPECT_EQ(publisher->readText(), "pong");
}

TEST(EventsGatewayTest, OversizedAndInvalidFramesCloseOnlyTheirConnection) {
  EventsGatewayOptions options = testGatewayOptions();
  options.max_message_bytes = 64 * 1024;
  GatewayRunner gateway(options);
  ASSERT_TRUE(gateway.ok());
  auto bystander = rawClient(gateway.port());
  bystander->sendText("subscribe: g1");
  ASSERT_EQ(bystander->readText(), "subscribed: g1");

  auto oversized = rawClient(gateway.port());
  oversized->sendText(R"({"guid":"g1","pad":")" + std::string(100 * 1024, 'x') + "\"}");
  auto closing = oversized->readFrame();
  ASSERT_TRUE(closing);
  EXPECT_EQ(closing->opcode, RawWebSocket::kClose);
  EXPECT_EQ(closing->payload.substr(0, 2), std::string("\x03\xf1", 2));  // 1009
  oversized->sendAll(RawWebSocket::encode(RawWebSocket::kClose, closing->payload));
  EXPECT_TRUE(oversized->waitClosed());

  auto bad_utf8 = rawClient(gateway.port());
  bad_utf8->sendText("subscribe: \xff\xfe");
  auto bad_close = bad_utf8->readFrame();
  ASSERT_TRUE(bad_close);
  EXPECT_EQ(bad_close->opcode, RawWebSocket::kClose);
  bad_utf8->sendAll(RawWebSocket::encode(RawWebSocket::kClose, bad_close->payload));

  auto garbage = rawClient(gateway.port());
  garbage->sendAll(std::string("\x81\x05hello", 7));  // unmasked: a protocol error
  auto garbage_close = garbage->readFrame();
  ASSERT_TRUE(garbage_close);
  EXPECT_EQ(garbage_close->opcode, RawWebSocket::kClose);
  garbage->sendAll(RawWebSocket::encode(RawWebSocket::kClose, garbage_close->payload));

  bystander->sendText("ping");
  EXPECT_EQ(bystander->readText(), "pong");
  EXPECT_TRUE(eventually([&] { return gateway.hub().counters().peers == 1; }));
  EXPECT_EQ(gateway.hub().counters().subscriptions, 1u);
}

TEST(EventsGatewayTest, RestartWithRequestsInFlight) {
  auto first = std::make_unique<GatewayRunner>(testGatewayOptions());
  ASSERT_TRUE(first->ok());
  EventsGatewayOptions same_port = testGatewayOptions();
  same_port.port = first->port();

  ClientLog router_log;
  ClientLog worker_log;
  auto router = wsClient(*first, router_log);
  auto worker = wsClient(*first, worker_log);
  for (const char* guid : {"g1", "g2", "g3"}) {
    router->subscribe(guid, router_log.confirmation(guid));
    ASSERT_TRUE(router_log.waitStatus(router_log.confirmations, guid));
  }
  worker->publish("g1", R"({"guid":"g1"})", worker_log.ack("g1"));
  ASSERT_EQ(router_log.waitResult("g1"), R"({"guid":"g1"})");
  ASSERT_TRUE(eventually([&] { return worker->connected(); }));

  // The gateway goes away with g1 delivered but unacknowledged and g2, g3 still to come.
  first.reset();
  ASSERT_TRUE(eventually([&] { return !router->connected() && !worker->connected(); }));
  router->ack("g1");
  worker->publish("g2", R"({"guid":"g2"})", worker_log.ack("g2"));

  // A new gateway knows nothing; the clients bring back what is still open.
  GatewayRunner second(same_port);
  ASSERT_TRUE(second.ok());
  auto acked1 = worker_log.waitStatus(worker_log.acks, "g1");
  ASSERT_TRUE(acked1);
  EXPECT_TRUE(acked1->isOk()) << acked1->toString();
  EXPECT_EQ(router_log.waitResult("g2"), R"({"guid":"g2"})");
  router->ack("g2");
  auto acked2 = worker_log.waitStatus(worker_log.acks, "g2");
  ASSERT_TRUE(acked2 && acked2->isOk());

  worker->publish("g3", R"({"guid":"g3"})", worker_log.ack("g3"));
  EXPECT_EQ(router_log.waitResult("g3"), R"({"guid":"g3"})");
  router->ack("g3");
  auto acked3 = worker_log.waitStatus(worker_log.acks, "g3");
  ASSERT_TRUE(acked3 && acked3->isOk());
  EXPECT_EQ(router_log.read([&] { return router_log.results.size(); }), 3u);
}

TEST(EventsGatewayTest, PublishWhileDisconnectedEndsAtItsDeadline) {
  EventsGatewayOptions options = testGatewayOptions();
  auto gateway = std::make_unique<GatewayRunner>(options);
  ASSERT_TRUE(gateway->ok());
  std::string url = gateway->url();
  gateway.reset();

  ClientLog log;
  EventsClientOptions client_options;
  client_options.ack_wait = milliseconds(10);
  client_options.publish_deadline = milliseconds(300);
  auto worker =
      EventsClient::createWebSocket(testClientOptions(url), log.resultHandler(), client_options);
  ASSERT_TRUE(worker.ok());
  (*worker)->publish("g1", R"({"guid":"g1"})", log.ack("g1"));
  auto acked = log.waitStatus(log.acks, "g1");
  ASSERT_TRUE(acked);
  EXPECT_EQ(acked->code(), StatusCode::Timeout);
  EXPECT_FALSE((*worker)->connected());
}

TEST(EventsGatewayTest, BadUrlIsRefused) {
  ClientLog log;
  EXPECT_FALSE(
      EventsClient::createWebSocket(testClientOptions("http://x/"), log.resultHandler()).ok());
}

}  // namespace
}  // namespace cex

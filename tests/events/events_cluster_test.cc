// Two gateways sharing one namespace through pub/sub: in process (embedded pub/sub) and through
// a real nats-server started for the test.

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "backends/backends.h"
#include "events/events_client.h"
#include "events/events_gateway.h"
#include "events/result_reference.h"
#include "events_test_util.h"
#include "gateway_runner.h"
#include "test_process.h"

namespace cex {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<EventsClient> wsClient(const GatewayRunner& gateway, ClientLog& log) {
  auto client =
      EventsClient::createWebSocket(testClientOptions(gateway.url()), log.resultHandler());
  EXPECT_TRUE(client.ok()) << client.status().toString();
  return client.ok() ? std::move(client).value() : nullptr;
}

EventsGatewayOptions namedGateway(const std::string& id) {
  EventsGatewayOptions options = testGatewayOptions();
  options.gateway_id = id;
  return options;
}

// A router on `router_side` and a worker on `worker_side`: a result published before the
// subscription and one published after both reach the router, and both acks reach the worker.
void expectSharedNamespace(GatewayRunner& router_side, GatewayRunner& worker_side) {
  ClientLog router_log;
  ClientLog worker_log;
  auto router = wsClient(router_side, router_log);
  auto worker = wsClient(worker_side, worker_log);

  router->subscribe("after", router_log.confirmation("after"));
  auto confirmed = router_log.waitStatus(router_log.confirmations, "after");
  ASSERT_TRUE(confirmed && confirmed->isOk());
  worker->publish("after", R"({"guid":"after","code":0})", worker_log.ack("after"));
  EXPECT_EQ(router_log.waitResult("after"), R"({"guid":"after","code":0})");
  router->ack("after");
  auto acked = worker_log.waitStatus(worker_log.acks, "after");
  ASSERT_TRUE(acked);
  EXPECT_TRUE(acked->isOk()) << acked->toString();

  worker->publish("before", R"({"guid":"before"})", worker_log.ack("before"));
  ASSERT_TRUE(eventually([&] { return router_side.hub().counters().held_results == 1; }));
  router->subscribe("before", router_log.confirmation("before"));
  EXPECT_EQ(router_log.waitResult("before"), R"({"guid":"before"})");
  router->ack("before");
  auto acked_before = worker_log.waitStatus(worker_log.acks, "before");
  ASSERT_TRUE(acked_before && acked_before->isOk());

  // Both gateways forget the acknowledged results.
  EXPECT_TRUE(eventually([&] {
    return router_side.hub().counters().held_results == 0 &&
           worker_side.hub().counters().held_results == 0;
  }));
}

// A redelivered job's worker publishes on the router's gateway after the ack was given on the
// other: it is released at once and the router gets nothing more.
void expectLateResultAckedAtOnce(GatewayRunner& first, GatewayRunner& second) {
  ClientLog router_log;
  ClientLog worker_log;
  ClientLog late_log;
  auto router = wsClient(first, router_log);
  auto worker = wsClient(first, worker_log);
  auto late = wsClient(second, late_log);
  router->subscribe("job", router_log.confirmation("job"));
  ASSERT_TRUE(router_log.waitStatus(router_log.confirmations, "job"));
  worker->publish("job", R"({"guid":"job","code":0})", worker_log.ack("job"));
  ASSERT_TRUE(router_log.waitResult("job"));
  router->ack("job");
  ASSERT_TRUE(worker_log.waitStatus(worker_log.acks, "job"));
  ASSERT_TRUE(eventually([&] { return second.hub().counters().acked_guids == 1; }));

  late->publish("job", R"({"guid":"job","code":1})", late_log.ack("job"));
  auto released = late_log.waitStatus(late_log.acks, "job");
  ASSERT_TRUE(released && released->isOk());
  EXPECT_EQ(router_log.read([&] { return router_log.results.size(); }), 1u);
  EXPECT_EQ(second.hub().counters().late_results_total, 1u);
}

// ----------------------------------------------------------------------------------------------

class EmbeddedClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backends = makeEmbeddedBackends(EmbeddedOptions{});
    ASSERT_TRUE(backends.ok()) << backends.status().toString();
    backends_ = std::move(backends).value();
    one_ = std::make_unique<GatewayRunner>(namedGateway("one"), backends_.pubsub);
    two_ = std::make_unique<GatewayRunner>(namedGateway("two"), backends_.pubsub);
    ASSERT_TRUE(one_->ok() && two_->ok());
  }

  Backends backends_;
  std::unique_ptr<GatewayRunner> one_;
  std::unique_ptr<GatewayRunner> two_;
};

TEST_F(EmbeddedClusterTest, ResultsAndAcksCrossGateways) {
  expectSharedNamespace(*one_, *two_);
}

TEST_F(EmbeddedClusterTest, LateResultOnTheOtherGatewayIsAckedAtOnce) {
  expectLateResultAckedAtOnce(*one_, *two_);
}

// 20 MB through the blob store by reference: the gateways carry a frame of a few dozen bytes.
TEST_F(EmbeddedClusterTest, LargeResultTravelsByReference) {
  std::string big = R"({"guid":"big","asm":")" + std::string(20 * 1024 * 1024, 'a') + "\"}";
  auto reference = referenceLargeResult(*backends_.blobs, "big", big);
  ASSERT_TRUE(reference.ok()) << reference.status().toString();
  EXPECT_LT(reference->size(), 100u);

  ClientLog router_log;
  ClientLog worker_log;
  auto router = wsClient(*one_, router_log);
  auto worker = wsClient(*two_, worker_log);
  router->subscribe("big", router_log.confirmation("big"));
  ASSERT_TRUE(router_log.waitStatus(router_log.confirmations, "big"));
  worker->publish("big", *reference, worker_log.ack("big"));
  auto frame = router_log.waitResult("big");
  ASSERT_TRUE(frame);
  EXPECT_EQ(*frame, *reference);
  auto resolved = resolveResultReference(*backends_.blobs, *frame);
  ASSERT_TRUE(resolved.ok()) << resolved.status().toString();
  EXPECT_TRUE(*resolved == big);
  router->ack("big");
  ASSERT_TRUE(worker_log.waitStatus(worker_log.acks, "big"));
  EXPECT_LT(one_->hub().counters().held_bytes + two_->hub().counters().held_bytes, 1000u);
}

TEST(ResultReferenceTest, SmallResultsStayInline) {
  auto backends = makeEmbeddedBackends(EmbeddedOptions{});
  ASSERT_TRUE(backends.ok());
  auto inline_result = referenceLargeResult(*backends->blobs, "g1", R"({"guid":"g1"})");
  ASSERT_TRUE(inline_result.ok());
  EXPECT_EQ(*inline_result, R"({"guid":"g1"})");
  auto resolved = resolveResultReference(*backends->blobs, *inline_result);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(*resolved, R"({"guid":"g1"})");
}

TEST(ResultReferenceTest, MissingBlobIsNotFound) {
  auto backends = makeEmbeddedBackends(EmbeddedOptions{});
  ASSERT_TRUE(backends.ok());
  auto resolved = resolveResultReference(*backends->blobs, R"({"guid":"g1","blobKey":"gone"})");
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.status().code(), StatusCode::NotFound);
  EXPECT_FALSE(resolveResultReference(*backends->blobs, "not json").ok());
}

TEST(ResultReferenceTest, BlobKeysAreSafeForEveryStore) {
  EXPECT_EQ(resultBlobKey("3f2b-AZ_9"), "events-result.3f2b-AZ_9");
  EXPECT_EQ(resultBlobKey("a.b/c"), "events-result.a=2Eb=2Fc");
}

// ----------------------------------------------------------------------------------------------

class NatsClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NatsServerProcess::installed()) {
      GTEST_SKIP() << "nats-server is not installed";
    }
    server_ = std::make_unique<NatsServerProcess>();
    ASSERT_TRUE(eventually([&] { return accepting(server_->port()); }));
    one_backends_ = connect("one");
    two_backends_ = connect("two");
    one_ = std::make_unique<GatewayRunner>(namedGateway("one"), one_backends_.pubsub,
                                           one_backends_.healthy);
    two_ = std::make_unique<GatewayRunner>(namedGateway("two"), two_backends_.pubsub,
                                           two_backends_.healthy);
    ASSERT_TRUE(one_->ok() && two_->ok());
  }

  void TearDown() override {
    one_.reset();
    two_.reset();
    one_backends_ = {};
    two_backends_ = {};
    server_.reset();
  }

  Backends connect(const std::string& name) {
    NatsOptions options;
    options.url = server_->url();
    options.client_name = "cex-events-test-" + name;
    options.reconnect_wait = milliseconds(100);
    options.reconnect_jitter = milliseconds(50);
    auto backends = makeNatsBackends(options);
    EXPECT_TRUE(backends.ok()) << backends.status().toString();
    if (!backends.ok()) {
      return {};
    }
    EXPECT_TRUE(eventually([&] { return backends->healthy(); }));
    return std::move(backends).value();
  }

  std::unique_ptr<NatsServerProcess> server_;
  Backends one_backends_;
  Backends two_backends_;
  std::unique_ptr<GatewayRunner> one_;
  std::unique_ptr<GatewayRunner> two_;
};

TEST_F(NatsClusterTest, ResultsAndAcksCrossGateways) {
  expectSharedNamespace(*one_, *two_);
}

TEST_F(NatsClusterTest, LateResultOnTheOtherGatewayIsAckedAtOnce) {
  expectLateResultAckedAtOnce(*one_, *two_);
}

TEST_F(NatsClusterTest, LargeResultTravelsByReferenceThroughNatsBlobs) {
  std::string big = R"({"guid":"big","asm":")" + std::string(20 * 1024 * 1024, 'n') + "\"}";
  auto reference = referenceLargeResult(*two_backends_.blobs, "big", big);
  ASSERT_TRUE(reference.ok()) << reference.status().toString();

  ClientLog router_log;
  ClientLog worker_log;
  auto router = wsClient(*one_, router_log);
  auto worker = wsClient(*two_, worker_log);
  router->subscribe("big", router_log.confirmation("big"));
  ASSERT_TRUE(router_log.waitStatus(router_log.confirmations, "big"));
  worker->publish("big", *reference, worker_log.ack("big"));
  auto frame = router_log.waitResult("big");
  ASSERT_TRUE(frame);
  auto resolved = resolveResultReference(*one_backends_.blobs, *frame);
  ASSERT_TRUE(resolved.ok()) << resolved.status().toString();
  EXPECT_TRUE(*resolved == big);
  router->ack("big");
  ASSERT_TRUE(worker_log.waitStatus(worker_log.acks, "big"));
}

TEST_F(NatsClusterTest, HealthcheckFollowsTheNatsLink) {
  auto up = httpGet(one_->port(), "/healthcheck");
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->status, 200) << up->body;

  server_->stop();
  EXPECT_TRUE(eventually([&] { return !one_backends_.healthy(); }));
  auto down = httpGet(one_->port(), "/healthcheck");
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->status, 503) << down->body;

  server_->start();
  EXPECT_TRUE(eventually([&] { return one_backends_.healthy() && two_backends_.healthy(); },
                         milliseconds(20'000)));
  auto again = httpGet(one_->port(), "/healthcheck");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 200) << again->body;

  // Once the link is back, results cross again.
  expectSharedNamespace(*one_, *two_);
}

}  // namespace
}  // namespace cex

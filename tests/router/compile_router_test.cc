// The compile router in one process with no worker: the test takes the jobs off the queue
// itself and publishes their results through the events hub, as a worker would.

#include "router/compile_router.h"

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "api/queue_message.h"
#include "backends/backends.h"
#include "events/events_client.h"
#include "events/events_hub.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "router/routing_table.h"
#include "router/shared_result_cache.h"

namespace cex {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kWait{5000};
constexpr const char* kJsonType = "application/json";
constexpr const char* kSource =
    R"({"source": "int main() {}", "options": {"userArguments": "-O2"}})";
// A worker's result for a compile, before the guid is put in front.
constexpr const char* kResult =
    R"({"code":0,"asm":[{"text":"main:"},{"text":"        ret"}],"stdout":[],"stderr":[]})";

// The responses a router gave, in order, with a way to wait for them.
class Responses {
 public:
  Responder responder() {
    return [this](HttpResponse&& response) {
      std::lock_guard lock(mu_);
      responses_.push_back(std::move(response));
      cv_.notify_all();
    };
  }

  bool waitFor(size_t count, milliseconds timeout = kWait) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return responses_.size() >= count; });
  }

  size_t count() const {
    std::lock_guard lock(mu_);
    return responses_.size();
  }

  HttpResponse at(size_t i) const {
    std::lock_guard lock(mu_);
    return responses_.at(i);
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HttpResponse> responses_;
};

// Another environment's front door: records what it was sent and answers with a fixed body.
class Upstream {
 public:
  Upstream() {
    HttpServerOptions options;
    options.port = 0;
    options.threads = 1;
    auto server = HttpServer::create(options, [this](HttpRequest&& request, Responder respond) {
      HttpResponse response;
      response.status = request.path.ends_with("/cmake") ? 422 : 200;
      {
        std::lock_guard lock(mu_);
        seen_.push_back(std::move(request));
      }
      response.setHeader("Content-Type", "application/json");
      response.setHeader("X-Upstream", "yes");
      response.body = "{\"from\":\"upstream\"}";
      respond(std::move(response));
    });
    if (!server.ok()) {
      ADD_FAILURE() << server.status().toString();
      return;
    }
    server_ = std::move(server).value();
    thread_ = std::thread([this] { server_->run(); });
  }

  ~Upstream() {
    if (server_) {
      server_->stop();
      thread_.join();
    }
  }

  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  std::string base() const {
    return server_ ? "http://127.0.0.1:" + std::to_string(server_->port()) : "http://127.0.0.1:1";
  }

  HttpRequest last() {
    std::lock_guard lock(mu_);
    return seen_.back();
  }

 private:
  std::mutex mu_;
  std::vector<HttpRequest> seen_;  // guarded by mu_
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

HttpRequest post(std::string target, std::string body,
                 std::vector<HttpHeader> headers = {{"Content-Type", kJsonType},
                                                    {"Accept", kJsonType}}) {
  HttpRequest r;
  r.method = "POST";
  r.target = target;
  size_t query = target.find('?');
  r.path = target.substr(0, query);
  r.query = query == std::string::npos ? "" : target.substr(query + 1);
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

// `json` with "guid" as its first member, as a worker publishes it.
std::string withGuid(const std::string& guid, const std::string& json) {
  return "{\"guid\":\"" + guid + "\"," + json.substr(1);
}

class CompileRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backends = makeEmbeddedBackends({});
    ASSERT_TRUE(backends.ok()) << backends.status().toString();
    backends_ = std::move(backends).value();
    auto hub = EventsHub::create({}, nullptr);
    ASSERT_TRUE(hub.ok()) << hub.status().toString();
    hub_ = std::move(hub).value();
    publisher_ = EventsClient::createInProcess(hub_, [](const std::string&, std::string&&) {});

    routes_ = std::make_unique<RoutingTable>(backends_.kv);
    colours_ = std::make_unique<ActiveColours>(backends_.kv);
    ASSERT_TRUE(routes_->watch().isOk());
    ASSERT_TRUE(colours_->watch().isOk());
    addQueueRoute("prod", "g122", "prod");
    addQueueRoute("beta", "g122", "beta");
    cache_ = makeMemoryResultCache(1 << 20);
    http_ = HttpClient::create();
  }

  void TearDown() override {
    // The router goes first; its events client stops calling it once destroyed.
    if (router_) {
      router_->shutdown(milliseconds(0));
    }
    router_events_.reset();
    router_.reset();
  }

  void start(RouterOptions options = {}) {
    options.text_banner = "cex test";
    router_ = std::make_unique<CompileRouter>(
        options, RouterLinks{backends_.queue, backends_.blobs, routes_.get(), colours_.get(),
                             cache_.get(), http_.get(), nullptr, backends_.healthy});
    router_events_ = EventsClient::createInProcess(hub_, router_->resultHandler());
    router_->setEventsClient(router_events_.get());
  }

  // Writes a row and waits until the router's watched table has it.
  void addRoute(const std::string& env, const std::string& id, const RouteEntry& entry) {
    RoutingTable writer(backends_.kv);
    ASSERT_TRUE(writer.put(env, id, entry).isOk());
    auto deadline = std::chrono::steady_clock::now() + kWait;
    for (auto found = routes_->lookup(env, id); !found || found->toJson() != entry.toJson();
         found = routes_->lookup(env, id)) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "route never arrived";
      std::this_thread::sleep_for(milliseconds(2));
    }
  }

  void addQueueRoute(const std::string& env, const std::string& id, const std::string& queue) {
    RouteEntry entry;
    entry.queue_name = queue;
    entry.environment = env;
    addRoute(env, id, entry);
  }

  void send(HttpRequest request) { router_->handle(std::move(request), responses_.responder()); }

  std::unique_ptr<JobLease> leaseJob(const std::string& queue) {
    auto lease = backends_.queue->lease(queue, kWait);
    EXPECT_TRUE(lease.ok()) << lease.status().toString();
    return lease.ok() ? std::move(lease).value() : nullptr;
  }

  uint64_t waitingOn(const std::string& queue) {
    auto stats = backends_.queue->stats(queue);
    EXPECT_TRUE(stats.ok()) << stats.status().toString();
    return stats.ok() ? stats->waiting : 0;
  }

  // Publishes a result as a worker does; the future says whether the router acknowledged it.
  std::future<Status> publish(const std::string& guid, const std::string& json) {
    auto done = std::make_shared<std::promise<Status>>();
    std::future<Status> acked = done->get_future();
    publisher_->publish(guid, withGuid(guid, json),
                        [done](const Status& s) { done->set_value(s); });
    return acked;
  }

  // Sends the standard request and takes its job off `queue`; the message's guid is the job's.
  QueueMessage sendAndTake(const std::string& queue,
                           HttpRequest request = post("/api/compiler/g122/compile", kSource)) {
    send(std::move(request));
    std::unique_ptr<JobLease> lease = leaseJob(queue);
    EXPECT_NE(lease, nullptr) << "nothing was enqueued on " << queue;
    if (lease == nullptr) {
      return {};
    }
    std::optional<QueueMessage> message = parseQueueMessage(lease->job().payload);
    EXPECT_TRUE(message.has_value()) << lease->job().payload;
    EXPECT_TRUE(lease->ack().isOk());
    if (!message) {
      return {};
    }
    EXPECT_EQ(message->guid, lease->job().id);
    return std::move(*message);
  }

  // Declared first so that it outlives the router, which may still answer into it.
  Responses responses_;
  Backends backends_;
  std::shared_ptr<EventsHub> hub_;
  std::unique_ptr<EventsClient> publisher_;
  std::unique_ptr<RoutingTable> routes_;
  std::unique_ptr<ActiveColours> colours_;
  std::unique_ptr<SharedResultCache> cache_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<CompileRouter> router_;
  std::unique_ptr<EventsClient> router_events_;
};

TEST_F(CompileRouterTest, RecognisesItsRoutes) {
  EXPECT_TRUE(CompileRouter::handles("/api/compiler/g122/compile"));
  EXPECT_TRUE(CompileRouter::handles("/beta/api/compiler/g122/cmake"));
  EXPECT_TRUE(CompileRouter::handles("/api/compiler/g122/build/cargo"));
  EXPECT_TRUE(CompileRouter::handles("/healthcheck"));
  EXPECT_TRUE(CompileRouter::handles("/admin/clear-cache"));
  EXPECT_FALSE(CompileRouter::handles("/api/compilers"));
  EXPECT_FALSE(CompileRouter::handles("/api/compiler/g122/compile/extra"));
  EXPECT_FALSE(CompileRouter::handles("/api/compiler/g122/build"));
  EXPECT_TRUE(CompileRouter::handlesCompile("/beta/api/compiler/g122/cmake"));
  EXPECT_FALSE(CompileRouter::handlesCompile("/healthcheck"));
  EXPECT_FALSE(CompileRouter::handlesCompile("/admin/clear-cache"));
}

TEST_F(CompileRouterTest, AnUnknownCompilerIsNotFound) {
  start();
  send(post("/api/compiler/nope/compile", kSource));
  ASSERT_TRUE(responses_.waitFor(1));
  EXPECT_EQ(responses_.at(0).status, 404);
  // Known in another environment only is still unknown here.
  send(post("/gpu/api/compiler/g122/compile", kSource));
  ASSERT_TRUE(responses_.waitFor(2));
  EXPECT_EQ(responses_.at(1).status, 404);
  EXPECT_EQ(router_->waiting(), 0u);
}

TEST_F(CompileRouterTest, WrongMethodsAndUnknownBuildSystemsAreRefused) {
  start();
  HttpRequest get = post("/api/compiler/g122/compile", "");
  get.method = "GET";
  send(std::move(get));
  HttpRequest options = post("/api/compiler/g122/compile", "");
  options.method = "OPTIONS";
  send(std::move(options));
  send(post("/api/compiler/g122/build/scons", R"({"source":"","options":{},"files":[]})"));
  ASSERT_TRUE(responses_.waitFor(3));
  EXPECT_EQ(responses_.at(0).status, 405);
  EXPECT_EQ(responses_.at(1).status, 200);
  EXPECT_EQ(responses_.at(1).header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(responses_.at(2).status, 404);
}

TEST_F(CompileRouterTest, MalformedJsonIsRefusedBeforeAnythingIsQueued) {
  start();
  send(post("/api/compiler/g122/compile", "{\"source\": "));
  send(post("/api/compiler/g122/compile", R"({"source": "int x;"})"));
  ASSERT_TRUE(responses_.waitFor(2));
  EXPECT_EQ(responses_.at(0).status, 400);
  EXPECT_EQ(responses_.at(1).status, 400);
  EXPECT_NE(responses_.at(1).body.find("Missing options property"), std::string::npos);
  EXPECT_EQ(waitingOn("prod-blue"), 0u);
  EXPECT_EQ(router_->waiting(), 0u);
}

TEST_F(CompileRouterTest, ABuildWithoutFilesIsRefused) {
  start();
  send(post("/api/compiler/g122/cmake", kSource));
  ASSERT_TRUE(responses_.waitFor(1));
  EXPECT_EQ(responses_.at(0).status, 400);
  EXPECT_NE(responses_.at(0).body.find("Missing files property"), std::string::npos);
  EXPECT_EQ(waitingOn("prod-blue"), 0u);
}

TEST_F(CompileRouterTest, ARequestIsQueuedAndAnsweredWithThePublishedResult) {
  RouterOptions options;
  options.wait_timeout = milliseconds(30000);
  start(options);
  auto sent_at = std::chrono::system_clock::now();
  send(post("/api/compiler/g122/compile?origin=test", kSource,
            {{"Content-Type", kJsonType}, {"Accept", kJsonType}, {"X-Client", "unit"}}));
  std::unique_ptr<JobLease> lease = leaseJob("prod-blue");
  ASSERT_NE(lease, nullptr);
  const Job& job = lease->job();
  EXPECT_GE(job.deadline, sent_at + options.wait_timeout);
  EXPECT_LE(job.deadline, std::chrono::system_clock::now() + options.wait_timeout);

  // The message carries what a worker needs: the guid, the compiler, the request itself.
  std::optional<QueueMessage> message = parseQueueMessage(job.payload);
  ASSERT_TRUE(message.has_value()) << job.payload;
  EXPECT_EQ(message->guid, job.id);
  EXPECT_EQ(message->compiler_id, "g122");
  EXPECT_FALSE(message->cache_key.empty());
  ASSERT_TRUE(message->parsed.request.has_value());
  EXPECT_EQ(message->parsed.request->source, "int main() {}");
  EXPECT_NE(job.payload.find("\"x-client\":\"unit\""), std::string::npos) << job.payload;
  EXPECT_NE(job.payload.find("\"origin\":\"test\""), std::string::npos) << job.payload;
  EXPECT_EQ(responses_.count(), 0u);
  EXPECT_EQ(router_->waiting(), 1u);

  std::future<Status> acked = publish(job.id, kResult);
  ASSERT_TRUE(responses_.waitFor(1));
  HttpResponse response = responses_.at(0);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(response.body, kResult);
  EXPECT_EQ(response.header("Cache-Control"), "public, max-age=600");
  ASSERT_EQ(acked.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(acked.get().isOk());
  EXPECT_EQ(router_->waiting(), 0u);
  EXPECT_TRUE(lease->ack().isOk());
}

TEST_F(CompileRouterTest, TextClientsGetTheTextRendering) {
  start();
  QueueMessage message =
      sendAndTake("prod-blue", post("/api/compiler/g122/compile", kSource,
                                    {{"Content-Type", kJsonType}, {"Accept", "text/plain"}}));
  publish(message.guid, kResult);
  ASSERT_TRUE(responses_.waitFor(1));
  EXPECT_EQ(responses_.at(0).status, 200);
  EXPECT_EQ(responses_.at(0).header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(responses_.at(0).body, "# cex test\nmain:\n        ret\n");
}

TEST_F(CompileRouterTest, ARefusalStaysJsonForTextClients) {
  start();
  QueueMessage message = sendAndTake(
      "prod-blue", post("/api/compiler/g122/compile", kSource, {{"Content-Type", kJsonType}}));
  std::string refusal = R"({"code":-1,"stdout":[],"stderr":[{"text":"Bad options: -fplugin"}]})";
  publish(message.guid, refusal);
  ASSERT_TRUE(responses_.waitFor(1));
  EXPECT_EQ(responses_.at(0).header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(responses_.at(0).body, refusal);
}

TEST_F(CompileRouterTest, AnEnvironmentPrefixRoutesToThatEnvironmentsQueue) {
  start();
  QueueMessage message = sendAndTake("beta-blue", post("/beta/api/compiler/g122/compile", kSource));
  EXPECT_EQ(message.compiler_id, "g122");
  EXPECT_EQ(waitingOn("prod-blue"), 0u);
}

TEST_F(CompileRouterTest, AColourSwitchSendsNewRequestsToTheOtherQueue) {
  start();
  sendAndTake("prod-blue");

  ActiveColours admin(backends_.kv);
  ASSERT_TRUE(admin.set("prod", "green").isOk());
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (colours_->colour("prod") != "green") {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the switch never arrived";
    std::this_thread::sleep_for(milliseconds(2));
  }
  QueueMessage message = sendAndTake("prod-green");
  EXPECT_EQ(message.compiler_id, "g122");
  EXPECT_EQ(waitingOn("prod-blue"), 0u);
}

TEST_F(CompileRouterTest, ACachedResultAnswersWithoutQueueing) {
  start();
  QueueMessage message = sendAndTake("prod-blue");
  ASSERT_FALSE(message.cache_key.empty());
  // A worker stores its result under the key the router chose.
  cache_->put(message.cache_key, kResult);
  publish(message.guid, kResult);
  ASSERT_TRUE(responses_.waitFor(1));

  send(post("/api/compiler/g122/compile", kSource));
  ASSERT_TRUE(responses_.waitFor(2));
  HttpResponse cached = responses_.at(1);
  EXPECT_EQ(cached.status, 200);
  EXPECT_NE(cached.body.find("\"retreivedFromCache\":true}"), std::string::npos) << cached.body;
  EXPECT_EQ(responses_.at(0).body.find("retreivedFromCache"), std::string::npos);
  EXPECT_EQ(waitingOn("prod-blue"), 0u);
  EXPECT_EQ(router_->waiting(), 0u);

  // Another body is another key.
  send(post("/api/compiler/g122/compile",
            R"({"source": "int other;", "options": {"userArguments": "-O2"}})"));
  EXPECT_NE(leaseJob("prod-blue"), nullptr);
}

TEST_F(CompileRouterTest, AFullQueueAnswers503WithRetryAfter) {
  RouterOptions options;
  options.backlog_limit = 2;
  options.retry_after_seconds = 7;
  start(options);
  for (const char* id : {"backlog-1", "backlog-2"}) {
    Job job;
    job.id = id;
    job.payload = "{}";
    job.deadline = std::chrono::system_clock::now() + std::chrono::minutes(1);
    ASSERT_TRUE(backends_.queue->enqueue("prod-blue", job).isOk());
  }

  send(post("/api/compiler/g122/compile", kSource));
  ASSERT_TRUE(responses_.waitFor(1));
  EXPECT_EQ(responses_.at(0).status, 503);
  EXPECT_EQ(responses_.at(0).header("Retry-After"), "7");
  EXPECT_EQ(waitingOn("prod-blue"), 2u);
  EXPECT_EQ(router_->waiting(), 0u);
}

TEST_F(CompileRouterTest, NoResultInTimeAnswers408) {
  RouterOptions options;
  options.wait_timeout = milliseconds(300);
  start(options);
  QueueMessage message = sendAndTake("prod-blue");
  ASSERT_TRUE(responses_.waitFor(1));
  EXPECT_EQ(responses_.at(0).status, 408);
  EXPECT_EQ(router_->waiting(), 0u);

  // The result that comes too late is dropped.
  router_->resultHandler()(message.guid, withGuid(message.guid, kResult));
  EXPECT_EQ(responses_.count(), 1u);
}

TEST_F(CompileRouterTest, ASecondResultForAGuidIsIgnored) {
  start();
  QueueMessage message = sendAndTake("prod-blue");
  publish(message.guid, kResult);
  ASSERT_TRUE(responses_.waitFor(1));

  // A redelivered job's result, straight to the router (the hub would drop it already).
  router_->resultHandler()(message.guid, withGuid(message.guid, R"({"code":1})"));
  router_->resultHandler()("not-waited-for", R"({"guid":"not-waited-for"})");
  EXPECT_EQ(responses_.count(), 1u);
  EXPECT_EQ(responses_.at(0).body, kResult);
}

TEST_F(CompileRouterTest, ALargeRequestTravelsThroughTheBlobStore) {
  RouterOptions options;
  options.inline_request_limit = 16;
  start(options);
  send(post("/api/compiler/g122/compile", kSource));
  std::unique_ptr<JobLease> lease = leaseJob("prod-blue");
  ASSERT_NE(lease, nullptr);
  std::string key = "request." + lease->job().id;
  EXPECT_NE(lease->job().payload.find("\"blobKey\":\"" + key + "\""), std::string::npos);

  auto stored = backends_.blobs->get(key);
  ASSERT_TRUE(stored.ok() && stored->has_value()) << stored.status().toString();
  std::optional<QueueMessage> message = parseQueueMessage(**stored);
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->guid, lease->job().id);
  EXPECT_EQ(message->compiler_id, "g122");
}

TEST_F(CompileRouterTest, AQueueThatRefusesTheJobAnswers503) {
  // Queue names cannot hold spaces, so the enqueue fails after the subscription.
  addQueueRoute("prod", "broken", "bad queue");
  start();
  send(post("/api/compiler/broken/compile", kSource));
  ASSERT_TRUE(responses_.waitFor(1));
  EXPECT_EQ(responses_.at(0).status, 503);
  EXPECT_TRUE(responses_.at(0).header("Retry-After").has_value());
  EXPECT_EQ(router_->waiting(), 0u);
}

TEST_F(CompileRouterTest, ClearingTheCacheNeedsTheAdminToken) {
  RouterOptions options;
  options.admin_token = "s3cret";
  start(options);
  cache_->put("key", "{}");

  send(post("/admin/clear-cache", "", {}));
  send(post("/admin/clear-cache", "", {{"Authorization", "Bearer wrong"}}));
  ASSERT_TRUE(responses_.waitFor(2));
  EXPECT_EQ(responses_.at(0).status, 403);
  EXPECT_EQ(responses_.at(1).status, 403);
  EXPECT_TRUE(cache_->get("key").has_value());

  send(post("/admin/clear-cache", "", {{"Authorization", "Bearer s3cret"}}));
  ASSERT_TRUE(responses_.waitFor(3));
  EXPECT_EQ(responses_.at(2).status, 200);
  EXPECT_EQ(responses_.at(2).body, "{\"cleared\":true}");
  EXPECT_FALSE(cache_->get("key").has_value());
}

TEST_F(CompileRouterTest, WithoutATokenTheCacheCannotBeCleared) {
  start();
  send(post("/admin/clear-cache", "", {{"Authorization", "Bearer "}}));
  ASSERT_TRUE(responses_.waitFor(1));
  EXPECT_EQ(responses_.at(0).status, 403);
}

TEST_F(CompileRouterTest, HealthFollowsTheEventsLinkAndShutdown) {
  start();
  HttpRequest health = post("/healthcheck", "");
  health.method = "GET";
  send(health);
  ASSERT_TRUE(responses_.waitFor(1));
  EXPECT_EQ(responses_.at(0).status, 200);
  EXPECT_NE(responses_.at(0).body.find("\"events\":true"), std::string::npos);

  router_->shutdown(milliseconds(0));
  send(health);
  ASSERT_TRUE(responses_.waitFor(2));
  EXPECT_EQ(responses_.at(1).status, 503);
}

TEST_F(CompileRouterTest, ShutdownAnswersWaitingRequestsWith503) {
  start();
  sendAndTake("prod-blue");
  ASSERT_EQ(router_->waiting(), 1u);
  router_->shutdown(milliseconds(0));
  ASSERT_TRUE(responses_.waitFor(1));
  EXPECT_EQ(responses_.at(0).status, 503);
  EXPECT_TRUE(responses_.at(0).header("Retry-After").has_value());
  EXPECT_EQ(router_->waiting(), 0u);

  // New requests are turned away at once.
  send(post("/api/compiler/g122/compile", kSource));
  ASSERT_TRUE(responses_.waitFor(2));
  EXPECT_EQ(responses_.at(1).status, 503);
  EXPECT_EQ(waitingOn("prod-blue"), 0u);
}

class ForwardingTest : public CompileRouterTest {
 protected:
  void SetUp() override {
    CompileRouterTest::SetUp();
    RouteEntry entry;
    entry.type = RouteEntry::Type::Url;
    entry.compile_url = upstream_.base() + "/gpu/api/compiler/nvcc/compile";
    entry.cmake_url = upstream_.base() + "/gpu/api/compiler/nvcc/cmake";
    entry.build_url = upstream_.base() + "/gpu/api/compiler/nvcc/build/{system}";
    entry.environment = "gpu";
    addRoute("prod", "nvcc", entry);
    start();
  }

  Upstream upstream_;
};

TEST_F(ForwardingTest, ACompileGoesToTheCompileUrlWithoutHopByHopHeaders) {
  send(post("/api/compiler/nvcc/compile?skipAsm=false", kSource,
            {{"Content-Type", kJsonType},
             {"Accept", kJsonType},
             {"X-Request-Id", "abc"},
             {"Proxy-Authorization", "Basic c2VjcmV0"},
             {"TE", "trailers"}}));
  ASSERT_TRUE(responses_.waitFor(1));
  HttpResponse response = responses_.at(0);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "{\"from\":\"upstream\"}");
  EXPECT_EQ(response.header("X-Upstream"), "yes");
  EXPECT_FALSE(response.header("Content-Length").has_value());

  HttpRequest seen = upstream_.last();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/gpu/api/compiler/nvcc/compile");
  EXPECT_EQ(seen.query, "skipAsm=false");
  EXPECT_EQ(seen.body, kSource);
  EXPECT_EQ(seen.header("X-Request-Id"), "abc");
  EXPECT_EQ(seen.header("Content-Type"), kJsonType);
  EXPECT_FALSE(seen.header("Proxy-Authorization").has_value());
  EXPECT_FALSE(seen.header("TE").has_value());
  EXPECT_EQ(router_->waiting(), 0u);
  EXPECT_EQ(waitingOn("prod-blue"), 0u);
}

TEST_F(ForwardingTest, CmakeAndBuildsKeepTheirKindAndTheStatusPassesThrough) {
  const std::string build_body = R"({"source": "", "options": {}, "files": []})";
  send(post("/api/compiler/nvcc/cmake", build_body));
  ASSERT_TRUE(responses_.waitFor(1));
  EXPECT_EQ(upstream_.last().path, "/gpu/api/compiler/nvcc/cmake");
  EXPECT_EQ(responses_.at(0).status, 422);

  send(post("/api/compiler/nvcc/build/cargo", build_body));
  ASSERT_TRUE(responses_.waitFor(2));
  EXPECT_EQ(upstream_.last().path, "/gpu/api/compiler/nvcc/build/cargo");
  EXPECT_EQ(responses_.at(1).status, 200);
}

TEST_F(ForwardingTest, AnUnreachableEnvironmentAnswers502) {
  RouteEntry entry;
  entry.type = RouteEntry::Type::Url;
  // Port 1 on the loopback refuses connections.
  entry.compile_url = "http://127.0.0.1:1/gpu/api/compiler/gone/compile";
  addRoute("prod", "gone", entry);
  send(post("/api/compiler/gone/compile", kSource));
  send(post("/api/compiler/gone/cmake", R"({"source": "", "options": {}, "files": []})"));
  ASSERT_TRUE(responses_.waitFor(2));
  // The order of the two answers is not fixed: the second fails at once, without a URL.
  EXPECT_EQ(responses_.at(0).status, 502);
  EXPECT_EQ(responses_.at(1).status, 502);
}

}  // namespace
}  // namespace cex

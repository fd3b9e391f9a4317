// The NATS backend across server trouble: a restart under an active consumer and watch, a
// server that comes up after cex, operations while it is down, and processes racing to
// create the same queue.

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "backends/backends.h"
#include "base/files.h"
#include "event_log.h"
#include "nats_test_server.h"

namespace cex {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kLease{2500};
// A restarted server reads back when it delivered each pending job in whole seconds, so a
// lease that spans a restart may end up to a second early.
constexpr milliseconds kRestartSlack{1000};

milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

Job makeJob(const std::string& id) {
  Job job;
  job.id = id;
  job.payload = "payload of " + id;
  job.deadline = std::chrono::system_clock::now() + std::chrono::seconds(60);
  return job;
}

class NatsRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NatsTestServer::installed()) {
      GTEST_SKIP() << "nats-server is not installed";
    }
    Result<TempDir> dir = TempDir::create("/tmp", "cex-nats-");
    ASSERT_TRUE(dir.ok()) << dir.status().toString();
    dir_ = std::make_unique<TempDir>(std::move(dir).value());
  }

  NatsOptions optionsFor(const std::string& url) {
    NatsOptions options;
    options.url = url;
    options.queue.lease = kLease;
    options.reconnect_wait = milliseconds(100);
    options.reconnect_jitter = milliseconds(50);
    options.request_timeout = milliseconds(2000);
    return options;
  }

  std::unique_ptr<TempDir> dir_;
  NatsTestServer server_;
};

TEST_F(NatsRestartTest, ConsumerAndWatchResumeAfterARestart) {
  ASSERT_TRUE(server_.start(dir_->path()));
  Result<Backends> made = makeNatsBackends(optionsFor(server_.url()));
  ASSERT_TRUE(made.ok()) << made.status().toString();
  Backends backends = std::move(made).value();
  ASSERT_TRUE(backends.healthy());

  // A watch with one value, and a job leased but never settled.
  ASSERT_TRUE(backends.kv->put("routes", "prod.a", "1").isOk());
  EventLog log;
  auto watch = backends.kv->watch("routes", "prod.", [&](const auto& key, const auto& value) {
    log.add(key + "=" + value.value_or("<deleted>"));
  });
  ASSERT_TRUE(watch.ok()) << watch.status().toString();
  ASSERT_TRUE((*watch)->waitUntilCurrent(milliseconds(5000)));
  ASSERT_TRUE(backends.queue->enqueue("prod-blue", makeJob("unacked")).isOk());
  auto first = backends.queue->lease("prod-blue", milliseconds(5000));
  ASSERT_TRUE(first.ok() && *first != nullptr) << first.status().toString();
  Clock::time_point leased_at = Clock::now();
  first->reset();

  // While the server is away, operations fail at once instead of hanging.
  server_.stop();
  ASSERT_TRUE(eventually([&] { return !backends.healthy(); }));
  Clock::time_point start = Clock::now();
  EXPECT_EQ(backends.queue->enqueue("prod-blue", makeJob("lost")).code(), StatusCode::Unavailable);
  EXPECT_EQ(backends.kv->put("routes", "prod.x", "1").code(), StatusCode::Unavailable);
  EXPECT_EQ(backends.pubsub->publish("events.x", "1").code(), StatusCode::Unavailable);
  EXPECT_EQ(backends.blobs->get("blob").status().code(), StatusCode::Unavailable);
  EXPECT_LT(since(start), milliseconds(500));

  ASSERT_TRUE(server_.start(dir_->path(), server_.port()));
  ASSERT_TRUE(eventually([&] { return backends.healthy(); }, milliseconds(10000)));

  // The watch goes on, without repeating what it had passed on.
  ASSERT_TRUE(eventually([&] { return backends.kv->put("routes", "prod.b", "2").isOk(); }));
  ASSERT_TRUE(log.waitForEvent("prod.b=2", milliseconds(10000)));
  EXPECT_EQ(log.events(), (std::vector<std::string>{"prod.a=1", "prod.b=2"}));

  // The job leased before the restart comes back once its lease has run out.
  auto again = backends.queue->lease("prod-blue", milliseconds(10000));
  ASSERT_TRUE(again.ok()) << again.status().toString();
  ASSERT_NE(*again, nullptr);
  EXPECT_EQ((*again)->job().id, "unacked");
  EXPECT_EQ((*again)->job().delivery, 2);
  EXPECT_GE(since(leased_at), kLease - kRestartSlack);
  EXPECT_TRUE((*again)->ack().isOk());

  // And new work flows.
  ASSERT_TRUE(backends.queue->enqueue("prod-blue", makeJob("after")).isOk());
  auto after = backends.queue->lease("prod-blue", milliseconds(5000));
  ASSERT_TRUE(after.ok() && *after != nullptr);
  EXPECT_EQ((*after)->job().id, "after");
  EXPECT_TRUE((*after)->ack().isOk());
}

TEST_F(NatsRestartTest, WatchCatchesUpOnChangesMadeWhileItWasAway) {
  ASSERT_TRUE(server_.start(dir_->path()));
  // The watching process reconnects slowly, the writing one quickly, so the writes land
  // while the watch is still away.
  NatsOptions slow = optionsFor(server_.url());
  slow.reconnect_wait = milliseconds(2500);
  slow.reconnect_jitter = milliseconds(1);
  Result<Backends> watcher = makeNatsBackends(slow);
  Result<Backends> writer = makeNatsBackends(optionsFor(server_.url()));
  ASSERT_TRUE(watcher.ok() && writer.ok());
  ASSERT_TRUE(writer->kv->put("routes", "prod.a", "1").isOk());
  ASSERT_TRUE(writer->kv->put("routes", "prod.b", "2").isOk());
  EventLog log;
  auto watch = watcher->kv->watch("routes", "prod.", [&](const auto& key, const auto& value) {
    log.add(key + "=" + value.value_or("<deleted>"));
  });
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE((*watch)->waitUntilCurrent(milliseconds(5000)));

  server_.stop();
  ASSERT_TRUE(eventually([&] { return !watcher->healthy() && !writer->healthy(); }));
  ASSERT_TRUE(server_.start(dir_->path(), server_.port()));
  ASSERT_TRUE(eventually([&] { return writer->healthy(); }, milliseconds(10000)));
  ASSERT_FALSE(watcher->healthy()) << "the watching process came back too early for this test";
  ASSERT_TRUE(writer->kv->erase("routes", "prod.a").isOk());
  ASSERT_TRUE(writer->kv->put("routes", "prod.c", "3").isOk());

  ASSERT_TRUE(
      log.waitFor([](const auto& events) { return events.size() >= 4; }, milliseconds(10000)));
  std::vector<std::string> events = log.events();
  std::vector<std::string> caught_up(events.begin() + 2, events.end());
  std::sort(caught_up.begin(), caught_up.end());
  EXPECT_EQ(caught_up, (std::vector<std::string>{"prod.a=<deleted>", "prod.c=3"}));
}

TEST_F(NatsRestartTest, SubscriptionResumesAfterARestart) {
  ASSERT_TRUE(server_.start(dir_->path()));
  Result<Backends> made = makeNatsBackends(optionsFor(server_.url()));
  ASSERT_TRUE(made.ok()) << made.status().toString();
  EventLog log;
  auto sub = made->pubsub->subscribe(
      "events.>", [&](const std::string&, std::string&& data) { log.add(data); });
  ASSERT_TRUE(sub.ok());
  auto dropped = made->pubsub->subscribe("other.>", [](const std::string&, std::string&&) {});
  auto watch = made->kv->watch("routes", "", [](const auto&, const auto&) {});
  ASSERT_TRUE(dropped.ok() && watch.ok());

  // A subscription or watch given up while the server is away goes at once.
  server_.stop();
  ASSERT_TRUE(eventually([&] { return !made->healthy(); }));
  Clock::time_point start = Clock::now();
  dropped->reset();
  watch->reset();
  EXPECT_LT(since(start), milliseconds(1000));
  ASSERT_TRUE(server_.start(dir_->path(), server_.port()));
  ASSERT_TRUE(eventually([&] { return made->healthy(); }, milliseconds(10000)));

  // The library subscribes again on reconnect; publish until the first message gets through.
  int sent = 0;
  EXPECT_TRUE(eventually([&] {
    made->pubsub->publish("events.prod", "after-" + std::to_string(sent++));
    return !log.events().empty();
  }));
}

TEST_F(NatsRestartTest, BackendsComeUpWhenTheServerStartsLater) {
  // A port nobody listens on yet.
  ASSERT_TRUE(server_.start(dir_->path()));
  uint16_t port = server_.port();
  server_.stop();

  Result<Backends> made = makeNatsBackends(optionsFor(server_.url()));
  ASSERT_TRUE(made.ok()) << made.status().toString();
  EXPECT_FALSE(made->healthy());
  Clock::time_point start = Clock::now();
  auto lease = made->queue->lease("prod-blue", milliseconds(300));
  EXPECT_EQ(lease.status().code(), StatusCode::Unavailable);
  EXPECT_GE(since(start), milliseconds(250));
  EXPECT_LT(since(start), milliseconds(2000));

  ASSERT_TRUE(server_.start(dir_->path(), port));
  ASSERT_TRUE(eventually([&] { return made->healthy(); }, milliseconds(10000)));
  ASSERT_TRUE(made->queue->enqueue("prod-blue", makeJob("first")).isOk());
  auto job = made->queue->lease("prod-blue", milliseconds(5000));
  ASSERT_TRUE(job.ok() && *job != nullptr) << job.status().toString();
  EXPECT_TRUE((*job)->ack().isOk());
}

TEST_F(NatsRestartTest, ProcessesRacingToCreateAQueueShareIt) {
  ASSERT_TRUE(server_.start(dir_->path()));
  std::vector<Backends> processes;
  for (int i = 0; i < 4; ++i) {
    Result<Backends> made = makeNatsBackends(optionsFor(server_.url()));
    ASSERT_TRUE(made.ok()) << made.status().toString();
    processes.push_back(std::move(made).value());
  }

  // All create the queue at once, each enqueueing its own job.
  std::vector<std::thread> threads;
  std::vector<Status> results(processes.size());
  for (size_t i = 0; i < processes.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = processes[i].queue->enqueue("race-blue", makeJob("job-" + std::to_string(i)));
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (const Status& result : results) {
    EXPECT_TRUE(result.isOk()) << result.toString();
  }

  // One consumer sees every job, whichever process enqueued it.
  std::vector<std::string> seen;
  for (size_t i = 0; i < processes.size(); ++i) {
    auto lease = processes[1].queue->lease("race-blue", milliseconds(2000));
    ASSERT_TRUE(lease.ok() && *lease != nullptr) << lease.status().toString();
    seen.push_back((*lease)->job().id);
    EXPECT_TRUE((*lease)->ack().isOk());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"job-0", "job-1", "job-2", "job-3"}));
}

}  // namespace
}  // namespace cex

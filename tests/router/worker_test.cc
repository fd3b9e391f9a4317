// A worker on the embedded queue and an in-process events hub, compiling with the machine's
// g++ (no sandbox): the test enqueues jobs as a router would and subscribes to their results.

#include "worker/worker.h"

#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "api/queue_message.h"
#include "backends/backends.h"
#include "base/files.h"
#include "compile/compile_service.h"
#include "compilers/registry.h"
#include "events/events_client.h"
#include "events/events_hub.h"
#include "events/result_reference.h"
#include "router/shared_result_cache.h"
#include "sandbox/sandbox.h"

namespace cex {
namespace {

using std::chrono::milliseconds;
using SystemClock = std::chrono::system_clock;

constexpr milliseconds kWait{10000};
constexpr const char* kGxx = "/usr/bin/g++";

// Polls for state that announces nothing (a worker's counters); false after kWait.
template <typename Condition>
bool eventually(Condition&& condition) {
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

CompilerInfo compiler(std::string id, std::string exe) {
  CompilerInfo c;
  c.id = std::move(id);
  c.exe = std::move(exe);
  c.name = c.id;
  c.lang = "c++";
  c.compiler_type = "gcc";
  c.family = CompilerFamily::Gcc;
  c.supports_execute = false;
  return c;
}

// Results received by a subscriber, which acknowledges each as a router does.
class Results {
 public:
  void add(const std::string& guid, std::string json) {
    std::lock_guard lock(mu_);
    results_[guid] = std::move(json);
    cv_.notify_all();
  }

  std::optional<std::string> waitFor(const std::string& guid) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kWait, [&] { return results_.count(guid) > 0; })) {
      return std::nullopt;
    }
    return results_[guid];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::string> results_;
};

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("/tmp", "cex-worker-");
    ASSERT_TRUE(dir.ok()) << dir.status().toString();
    dir_ = std::make_unique<TempDir>(std::move(dir).value());
    auto backends = makeEmbeddedBackends({});
    ASSERT_TRUE(backends.ok()) << backends.status().toString();
    backends_ = std::move(backends).value();
    auto hub = EventsHub::create({}, nullptr);
    ASSERT_TRUE(hub.ok()) << hub.status().toString();
    hub_ = std::move(hub).value();

    subscriber_ =
        EventsClient::createInProcess(hub_, [this](const std::string& guid, std::string&& json) {
          subscriber_->ack(guid);
          subscriber_->unsubscribe(guid);
          auto whole = resolveResultReference(*backends_.blobs, std::move(json));
          results_.add(guid, whole.ok() ? *whole : "unreadable: " + whole.status().message());
        });
    worker_events_ = EventsClient::createInProcess(hub_, [](const std::string&, std::string&&) {});
    cache_ = makeMemoryResultCache(1 << 20);
    ASSERT_NO_FATAL_FAILURE(makeService());
  }

  void TearDown() override {
    if (worker_) {
      worker_->stop(milliseconds(0));
    }
  }

  // A service with the machine's g++ and a "slow" compiler that waits for a file to appear.
  void makeService() {
    std::string slow = dir_->path() + "/slow-g++";
    release_ = dir_->path() + "/release";
    // Once released it still takes a moment, so a stop() that raced the release has done
    // its part before the compile returns.
    std::string script =
        "#!/bin/sh\nwhile [ ! -e " + release_ + " ]; do sleep 0.01; done\nsleep 0.2\nexit 1\n";
    ASSERT_TRUE(writeFile(slow, script).isOk());
    ASSERT_EQ(::chmod(slow.c_str(), 0755), 0);
    registry_ = std::make_unique<CompilerRegistry>(
        std::vector<CompilerInfo>{compiler("gtest", kGxx), compiler("slow", slow)},
        std::map<std::string, std::vector<Library>>{}, std::map<std::string, std::string>{});

    auto runner = makeProcessRunner("none", SandboxConfig{});
    ASSERT_TRUE(runner.ok()) << runner.status().toString();
    CompileSettings settings;
    settings.temp_root = dir_->path();
    settings.slots = 1;
    auto service = CompileService::create(settings, std::move(runner).value(), registry_.get());
    ASSERT_TRUE(service.ok()) << service.status().toString();
    service_ = std::move(service).value();
  }

  void startWorker(int max_deliveries = 4, milliseconds lease_renewal = milliseconds(5000)) {
    WorkerOptions options;
    options.consumers = 1;
    options.max_deliveries = max_deliveries;
    options.lease_renewal = lease_renewal;
    worker_ = std::make_unique<Worker>(options, backends_.queue, backends_.blobs,
                                       worker_events_.get(), service_.get(), cache_.get());
    worker_->start();
  }

  // Waits for the hub to confirm a subscription, as a router does before it enqueues.
  void subscribe(const std::string& guid) {
    auto done = std::make_shared<std::promise<Status>>();
    std::future<Status> confirmed = done->get_future();
    subscriber_->subscribe(guid, [done](const Status& s) { done->set_value(s); });
    ASSERT_EQ(confirmed.wait_for(kWait), std::future_status::ready);
    ASSERT_TRUE(confirmed.get().isOk());
  }

  // Puts a router's message for `compiler_id` on prod-blue.
  void enqueue(const std::string& guid, const std::string& compiler_id, const std::string& body,
               SystemClock::time_point deadline = SystemClock::now() + std::chrono::minutes(1)) {
    HttpRequest request;
    request.method = "POST";
    request.headers = {{"Content-Type", "application/json"}};
    request.body = body;
    Job job;
    job.id = guid;
    job.payload = buildQueueMessage({guid, compiler_id, "", "key-" + guid, &request});
    job.deadline = deadline;
    ASSERT_TRUE(backends_.queue->enqueue("prod-blue", job).isOk());
  }

  QueueStats queueStats() {
    auto stats = backends_.queue->stats("prod-blue");
    EXPECT_TRUE(stats.ok()) << stats.status().toString();
    return stats.ok() ? *stats : QueueStats{};
  }

  bool queueDrained() {
    QueueStats stats = queueStats();
    return stats.waiting == 0 && stats.in_flight == 0;
  }

  std::unique_ptr<TempDir> dir_;
  std::string release_;
  Backends backends_;
  std::shared_ptr<EventsHub> hub_;
  Results results_;
  std::unique_ptr<EventsClient> subscriber_;
  std::unique_ptr<EventsClient> worker_events_;
  std::unique_ptr<SharedResultCache> cache_;
  std::unique_ptr<CompilerRegistry> registry_;
  std::unique_ptr<CompileService> service_;
  std::unique_ptr<Worker> worker_;
};

constexpr const char* kSquare =
    R"({"source": "int square(int x) { return x * x; }", "options": {"userArguments": "-O2"}})";

TEST_F(WorkerTest, CompilesAJobPublishesTheResultAndAcksTheJob) {
  startWorker();
  EXPECT_EQ(worker_->queueName(), "prod-blue");
  subscribe("job-1");
  enqueue("job-1", "gtest", kSquare);

  std::optional<std::string> result = results_.waitFor("job-1");
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->starts_with("{\"guid\":\"job-1\",")) << *result;
  EXPECT_NE(result->find("\"code\":0"), std::string::npos) << *result;
  EXPECT_NE(result->find("square"), std::string::npos) << *result;

  EXPECT_TRUE(eventually([&] { return worker_->stats().compiled == 1; }));
  EXPECT_TRUE(queueDrained());
  // The result went to the shared cache too, without the guid, for the next router.
  std::optional<std::string> cached = cache_->get("key-job-1");
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ("{\"guid\":\"job-1\"," + cached->substr(1), *result);
}

TEST_F(WorkerTest, AnUnknownCompilerIsAnsweredWithAnError) {
  startWorker();
  subscribe("job-2");
  enqueue("job-2", "nope", kSquare);
  std::optional<std::string> result = results_.waitFor("job-2");
  ASSERT_TRUE(result.has_value());
  EXPECT_NE(result->find("Compiler with ID nope not found"), std::string::npos) << *result;
  EXPECT_NE(result->find("\"code\":-1"), std::string::npos) << *result;
  EXPECT_TRUE(eventually([&] { return queueDrained(); }));
  EXPECT_FALSE(cache_->get("key-job-2").has_value());
}

TEST_F(WorkerTest, AnExpiredJobIsAnsweredWithoutCompiling) {
  subscribe("job-3");
  enqueue("job-3", "slow", kSquare, SystemClock::now() - std::chrono::seconds(3));
  // The slow compiler is never released: compiling would hang the worker.
  startWorker();
  std::optional<std::string> result = results_.waitFor("job-3");
  ASSERT_TRUE(result.has_value());
  EXPECT_NE(result->find("Compilation skipped"), std::string::npos) << *result;

  EXPECT_TRUE(eventually([&] { return worker_->stats().expired == 1; }));
  EXPECT_EQ(worker_->stats().compiled, 0u);
  EXPECT_TRUE(queueDrained());
}

TEST_F(WorkerTest, AJobDeliveredTooOftenIsGivenUp) {
  subscribe("job-4");
  enqueue("job-4", "slow", kSquare);
  // A worker that died with the job: it comes back as its second delivery.
  auto lease = backends_.queue->lease("prod-blue", kWait);
  ASSERT_TRUE(lease.ok() && *lease) << lease.status().toString();
  ASSERT_TRUE((*lease)->nak().isOk());

  startWorker(/*max_deliveries=*/2);
  std::optional<std::string> result = results_.waitFor("job-4");
  ASSERT_TRUE(result.has_value());
  EXPECT_NE(result->find("Compilation failed: 1 workers took the job"), std::string::npos)
      << *result;

  EXPECT_TRUE(eventually([&] { return worker_->stats().given_up == 1; }));
  QueueStats stats = queueStats();
  EXPECT_EQ(stats.waiting, 0u);
  EXPECT_EQ(stats.in_flight, 0u);
  EXPECT_EQ(stats.given_up, 1u);
}

TEST_F(WorkerTest, ACompileLongerThanTheLeaseKeepsItsJob) {
  EmbeddedOptions short_lease;
  short_lease.queue.lease = milliseconds(300);
  auto backends = makeEmbeddedBackends(short_lease);
  ASSERT_TRUE(backends.ok()) << backends.status().toString();
  backends_ = std::move(backends).value();
  subscribe("job-7");
  enqueue("job-7", "slow", kSquare);
  startWorker(4, milliseconds(75));
  ASSERT_TRUE(eventually([&] { return worker_->stats().busy == 1; }));

  std::this_thread::sleep_for(milliseconds(1000));  // three leases long
  QueueStats stats = queueStats();
  EXPECT_EQ(stats.in_flight, 1u);
  EXPECT_EQ(stats.waiting, 0u);  // not handed to anyone else meanwhile

  ASSERT_TRUE(writeFile(release_, "").isOk());
  ASSERT_TRUE(results_.waitFor("job-7").has_value());
  EXPECT_TRUE(eventually([&] { return queueDrained(); }));
  // Counted once the ack is done, a moment after the result went out.
  EXPECT_TRUE(eventually([&] { return worker_->stats().compiled == 1u; }));
}

TEST_F(WorkerTest, StopPastTheDrainHandsTheJobBack) {
  enqueue("job-5", "slow", kSquare);
  startWorker();
  ASSERT_TRUE(eventually([&] { return worker_->stats().busy == 1; }));

  std::thread stopper([&] { worker_->stop(milliseconds(0)); });
  ASSERT_TRUE(eventually([&] { return !worker_->consuming(); }));
  ASSERT_TRUE(writeFile(release_, "").isOk());
  stopper.join();

  WorkerStats stats = worker_->stats();
  EXPECT_EQ(stats.handed_back, 1u);
  EXPECT_EQ(stats.compiled, 0u);
  EXPECT_EQ(stats.busy, 0);
  // Back on the queue for another worker, as its next delivery.
  EXPECT_EQ(queueStats().waiting, 1u);
  auto lease = backends_.queue->lease("prod-blue", kWait);
  ASSERT_TRUE(lease.ok() && *lease);
  EXPECT_EQ((*lease)->job().id, "job-5");
  EXPECT_EQ((*lease)->job().delivery, 2);
}

TEST_F(WorkerTest, StopWithinTheDrainLetsTheJobFinish) {
  subscribe("job-6");
  enqueue("job-6", "slow", kSquare);
  startWorker();
  ASSERT_TRUE(eventually([&] { return worker_->stats().busy == 1; }));

  std::thread stopper([&] { worker_->stop(kWait); });
  ASSERT_TRUE(eventually([&] { return !worker_->consuming(); }));
  ASSERT_TRUE(writeFile(release_, "").isOk());
  stopper.join();

  // The slow compiler fails, which is still a result.
  ASSERT_TRUE(results_.waitFor("job-6").has_value());
  WorkerStats stats = worker_->stats();
  EXPECT_EQ(stats.compiled, 1u);
  EXPECT_EQ(stats.handed_back, 0u);
  EXPECT_TRUE(queueDrained());
}

}  // namespace
}  // namespace cex

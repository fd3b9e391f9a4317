// The behaviour every backend must share, run against each of them: the embedded one in
// memory and with files, and NATS JetStream against a nats-server started for each test.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
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

constexpr milliseconds kLease{500};

QueueSettings testQueueSettings() {
  QueueSettings settings;
  settings.lease = kLease;
  settings.max_age = milliseconds(60000);
  settings.dedup_window = milliseconds(60000);
  settings.max_deliveries = 3;
  return settings;
}

Job makeJob(const std::string& id, const std::string& payload = "payload") {
  Job job;
  job.id = id;
  job.payload = payload;
  job.deadline = std::chrono::system_clock::now() + std::chrono::seconds(60);
  return job;
}

milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

class BackendContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("/tmp", "cex-backends-");
    ASSERT_TRUE(dir.ok()) << dir.status().toString();
    dir_ = std::make_unique<TempDir>(std::move(dir).value());
    if (GetParam() == "nats" && !NatsTestServer::installed()) {
      GTEST_SKIP() << "nats-server is not installed";
    }
    Result<Backends> backends = makeBackends();
    ASSERT_TRUE(backends.ok()) << backends.status().toString();
    backends_ = std::move(backends).value();
  }

  void TearDown() override {
    backends_ = Backends();
    server_.stop();
  }

  Result<Backends> makeBackends() {
    if (GetParam() == "nats") {
      return makeNats();
    }
    EmbeddedOptions options;
    options.queue = testQueueSettings();
    options.sweep_interval = milliseconds(200);
    if (GetParam() == "embedded-files") {
      options.sqlite_path = dir_->path() + "/kv.sqlite";
      options.blob_dir = dir_->path() + "/blobs";
    }
    return makeEmbeddedBackends(options);
  }

  Result<Backends> makeNats() {
    if (!server_.start(dir_->path())) {
      return Status::unavailable("nats-server did not start");
    }
    NatsOptions options;
    options.url = server_.url();
    options.queue = testQueueSettings();
    options.reconnect_wait = milliseconds(100);
    options.reconnect_jitter = milliseconds(50);
    return makeNatsBackends(options);
  }

  WorkQueue& queue() { return *backends_.queue; }

  KeyValueStore& kv() { return *backends_.kv; }

  BlobStore& blobs() { return *backends_.blobs; }

  PubSub& pubsub() { return *backends_.pubsub; }

  // Leases one job, failing the test if none comes within `wait`.
  std::unique_ptr<JobLease> leaseOne(const std::string& name, milliseconds wait = kLease * 6) {
    Result<std::unique_ptr<JobLease>> lease = queue().lease(name, wait);
    EXPECT_TRUE(lease.ok()) << lease.status().toString();
    EXPECT_TRUE(lease.ok() && *lease != nullptr) << "no job within " << wait.count() << " ms";
    return lease.ok() ? std::move(lease).value() : nullptr;
  }

  // True if no job is handed out within `wait`.
  bool staysEmpty(const std::string& name, milliseconds wait) {
    Result<std::unique_ptr<JobLease>> lease = queue().lease(name, wait);
    EXPECT_TRUE(lease.ok()) << lease.status().toString();
    return lease.ok() && *lease == nullptr;
  }

  QueueStats statsOf(const std::string& name) {
    Result<QueueStats> stats = queue().stats(name);
    EXPECT_TRUE(stats.ok()) << stats.status().toString();
    return stats.ok() ? *stats : QueueStats();
  }

  std::unique_ptr<TempDir> dir_;
  NatsTestServer server_;
  Backends backends_;
};

// ----------------------------------------------------------------------------------------------
// Work queues

TEST_P(BackendContractTest, JobsComeOutInOrderWithTheirFields) {
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(42);
  auto before = std::chrono::system_clock::now();
  for (int i = 0; i < 5; ++i) {
    Job job = makeJob("job-" + std::to_string(i), "payload " + std::to_string(i));
    job.deadline = deadline;
    ASSERT_TRUE(queue().enqueue("prod-blue", job).isOk());
  }
  for (int i = 0; i < 5; ++i) {
    std::unique_ptr<JobLease> lease = leaseOne("prod-blue");
    ASSERT_NE(lease, nullptr);
    const Job& job = lease->job();
    EXPECT_EQ(job.id, "job-" + std::to_string(i));
    EXPECT_EQ(job.payload, "payload " + std::to_string(i));
    EXPECT_EQ(job.delivery, 1);
    EXPECT_LE(std::chrono::abs(job.deadline - deadline), milliseconds(1));
    EXPECT_GE(job.enqueued_at, before - milliseconds(1000));
    EXPECT_LE(job.enqueued_at, std::chrono::system_clock::now() + milliseconds(1000));
    EXPECT_TRUE(lease->ack().isOk());
  }
}

TEST_P(BackendContractTest, PayloadsOfAnyBytesSurvive) {
  static constexpr char kText[] = "\0\x01\xff{\"source\": \"int main() {}\"}\n";
  std::string payload(kText, sizeof(kText) - 1);
  payload += std::string(size_t{200} * 1024, 'x');
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("big", payload)).isOk());
  std::unique_ptr<JobLease> lease = leaseOne("prod-blue");
  ASSERT_NE(lease, nullptr);
  EXPECT_EQ(lease->job().payload, payload);
}

TEST_P(BackendContractTest, SameIdWithinTheWindowIsOneJob) {
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("guid-1", "first")).isOk());
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("guid-1", "second")).isOk());
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("guid-2", "other")).isOk());

  std::unique_ptr<JobLease> first = leaseOne("prod-blue");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->job().payload, "first");
  std::unique_ptr<JobLease> second = leaseOne("prod-blue");
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->job().id, "guid-2");
  EXPECT_TRUE(staysEmpty("prod-blue", milliseconds(200)));

  // Acked, the id is still inside the window: a retry must not run the job again.
  EXPECT_TRUE(first->ack().isOk());
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("guid-1", "retry")).isOk());
  EXPECT_TRUE(staysEmpty("prod-blue", milliseconds(200)));
}

TEST_P(BackendContractTest, ExpiredLeaseIsDeliveredAgainWithItsCount) {
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("guid-1")).isOk());
  std::unique_ptr<JobLease> first = leaseOne("prod-blue");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->job().delivery, 1);

  // The consumer "dies": nobody settles the lease, so the job comes back after it.
  Clock::time_point leased = Clock::now();
  std::unique_ptr<JobLease> second = leaseOne("prod-blue");
  ASSERT_NE(second, nullptr);
  EXPECT_GE(since(leased), kLease - milliseconds(50));
  EXPECT_EQ(second->job().id, "guid-1");
  EXPECT_EQ(second->job().delivery, 2);
  EXPECT_TRUE(second->ack().isOk());
}

TEST_P(BackendContractTest, AckedJobIsGone) {
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("guid-1")).isOk());
  std::unique_ptr<JobLease> lease = leaseOne("prod-blue");
  ASSERT_NE(lease, nullptr);
  ASSERT_TRUE(lease->ack().isOk());
  EXPECT_TRUE(staysEmpty("prod-blue", kLease * 2));
  EXPECT_TRUE(eventually([&] {
    QueueStats stats = statsOf("prod-blue");
    return stats.waiting == 0 && stats.in_flight == 0 && stats.given_up == 0;
  }));
}

TEST_P(BackendContractTest, NakHandsTheJobBackAtOnce) {
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("guid-1")).isOk());
  std::unique_ptr<JobLease> first = leaseOne("prod-blue");
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->nak().isOk());

  // Well before the lease would have run out.
  Clock::time_point start = Clock::now();
  std::unique_ptr<JobLease> second = leaseOne("prod-blue", kLease / 2);
  ASSERT_NE(second, nullptr);
  EXPECT_LT(since(start), kLease / 2);
  EXPECT_EQ(second->job().id, "guid-1");
  EXPECT_EQ(second->job().delivery, 2);
}

TEST_P(BackendContractTest, NakedJobGoesOutBeforeNewerOnes) {
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("old")).isOk());
  std::unique_ptr<JobLease> first = leaseOne("prod-blue");
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("new")).isOk());
  ASSERT_TRUE(first->nak().isOk());

  std::unique_ptr<JobLease> again = leaseOne("prod-blue");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->job().id, "old");
  std::unique_ptr<JobLease> next = leaseOne("prod-blue");
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->job().id, "new");
}

TEST_P(BackendContractTest, TerminatedJobStaysOutAndIsKept) {
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("guid-1")).isOk());
  std::unique_ptr<JobLease> lease = leaseOne("prod-blue");
  ASSERT_NE(lease, nullptr);
  ASSERT_TRUE(lease->terminate().isOk());

  EXPECT_TRUE(staysEmpty("prod-blue", kLease * 2));
  EXPECT_TRUE(eventually([&] {
    QueueStats stats = statsOf("prod-blue");
    return stats.given_up == 1 && stats.waiting == 0 && stats.in_flight == 0;
  }));
}

TEST_P(BackendContractTest, JobIsGivenUpAfterMaxDeliveries) {
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("poison")).isOk());
  for (int delivery = 1; delivery <= testQueueSettings().max_deliveries; ++delivery) {
    std::unique_ptr<JobLease> lease = leaseOne("prod-blue");
    ASSERT_NE(lease, nullptr);
    EXPECT_EQ(lease->job().delivery, delivery);
  }
  EXPECT_TRUE(staysEmpty("prod-blue", kLease * 3));
  EXPECT_TRUE(eventually([&] {
    QueueStats stats = statsOf("prod-blue");
    return stats.given_up == 1 && stats.waiting == 0 && stats.in_flight == 0;
  }));
}

TEST_P(BackendContractTest, ExtendKeepsTheLease) {
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("slow")).isOk());
  std::unique_ptr<JobLease> lease = leaseOne("prod-blue");
  ASSERT_NE(lease, nullptr);

  // Extended at 60% of the lease twice, the job is held well past its first lease.
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(kLease * 6 / 10);
    ASSERT_TRUE(lease->extend().isOk());
  }
  EXPECT_TRUE(staysEmpty("prod-blue", kLease / 2));
  EXPECT_TRUE(lease->ack().isOk());
  EXPECT_TRUE(staysEmpty("prod-blue", kLease * 2));
}

TEST_P(BackendContractTest, ConcurrentConsumersGetDistinctJobs) {
  constexpr int kJobs = 40;
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("job-" + std::to_string(i))).isOk());
  }
  std::mutex mu;
  std::multiset<std::string> seen;
  std::atomic<int> failures{0};
  std::vector<std::thread> consumers;
  consumers.reserve(4);
  for (int c = 0; c < 4; ++c) {
    consumers.emplace_back([&] {
      while (true) {
        Result<std::unique_ptr<JobLease>> lease = queue().lease("prod-blue", milliseconds(300));
        if (!lease.ok() || *lease == nullptr) {
          failures += lease.ok() ? 0 : 1;
          return;
        }
        {
          std::lock_guard lock(mu);
          seen.insert((*lease)->job().id);
        }
        failures += (*lease)->ack().isOk() ? 0 : 1;
      }
    });
  }
  for (std::thread& consumer : consumers) {
    consumer.join();
  }
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), static_cast<size_t>(kJobs));
}

TEST_P(BackendContractTest, StatsCountWaitingAndInFlight) {
  QueueStats empty = statsOf("prod-blue");
  EXPECT_EQ(empty.waiting, 0u);
  EXPECT_EQ(empty.in_flight, 0u);
  EXPECT_EQ(empty.oldest_age, milliseconds(0));

  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("job-" + std::to_string(i))).isOk());
  }
  std::this_thread::sleep_for(milliseconds(100));
  QueueStats three = statsOf("prod-blue");
  EXPECT_EQ(three.waiting, 3u);
  EXPECT_EQ(three.in_flight, 0u);
  EXPECT_GE(three.oldest_age, milliseconds(90));
  EXPECT_LT(three.oldest_age, milliseconds(5000));

  std::unique_ptr<JobLease> lease = leaseOne("prod-blue");
  ASSERT_NE(lease, nullptr);
  EXPECT_TRUE(eventually([&] {
    QueueStats stats = statsOf("prod-blue");
    return stats.waiting == 2 && stats.in_flight == 1;
  }));
  ASSERT_TRUE(lease->ack().isOk());
  EXPECT_TRUE(eventually([&] {
    QueueStats stats = statsOf("prod-blue");
    return stats.waiting == 2 && stats.in_flight == 0;
  }));
}

TEST_P(BackendContractTest, WaitingConsumerWakesOnEnqueue) {
  std::thread producer([&] {
    std::this_thread::sleep_for(milliseconds(150));
    EXPECT_TRUE(queue().enqueue("prod-blue", makeJob("late")).isOk());
  });
  Clock::time_point start = Clock::now();
  std::unique_ptr<JobLease> lease = leaseOne("prod-blue", milliseconds(10000));
  producer.join();
  ASSERT_NE(lease, nullptr);
  EXPECT_EQ(lease->job().id, "late");
  EXPECT_LT(since(start), milliseconds(2000));
}

TEST_P(BackendContractTest, LeaseOnAnEmptyQueueWaitsItsTime) {
  Clock::time_point start = Clock::now();
  EXPECT_TRUE(staysEmpty("prod-green", milliseconds(300)));
  EXPECT_GE(since(start), milliseconds(250));
  EXPECT_LT(since(start), milliseconds(2000));
}

TEST_P(BackendContractTest, QueuesAreSeparate) {
  ASSERT_TRUE(queue().enqueue("prod-blue", makeJob("blue")).isOk());
  ASSERT_TRUE(queue().enqueue("beta.green", makeJob("green")).isOk());
  std::unique_ptr<JobLease> green = leaseOne("beta.green");
  ASSERT_NE(green, nullptr);
  EXPECT_EQ(green->job().id, "green");
  EXPECT_TRUE(staysEmpty("beta.green", milliseconds(200)));
  EXPECT_TRUE(staysEmpty("staging-blue", milliseconds(100)));
  std::unique_ptr<JobLease> blue = leaseOne("prod-blue");
  ASSERT_NE(blue, nullptr);
  EXPECT_EQ(blue->job().id, "blue");
}

TEST_P(BackendContractTest, BadJobsAndQueueNamesAreRefused) {
  EXPECT_EQ(queue().enqueue("prod-blue", makeJob("")).code(), StatusCode::InvalidArgument);
  EXPECT_EQ(queue().enqueue("", makeJob("x")).code(), StatusCode::InvalidArgument);
  EXPECT_EQ(queue().enqueue("has space", makeJob("x")).code(), StatusCode::InvalidArgument);
  EXPECT_EQ(queue().lease("", milliseconds(10)).status().code(), StatusCode::InvalidArgument);
}

// ----------------------------------------------------------------------------------------------
// Key-value buckets

TEST_P(BackendContractTest, KeyValuesCanBePutReadListedAndErased) {
  ASSERT_TRUE(kv().ensureBucket("routes", milliseconds(0)).isOk());
  ASSERT_TRUE(kv().put("routes", "prod.gcc-12", "queue").isOk());
  ASSERT_TRUE(kv().put("routes", "prod.clang-17", "url").isOk());
  ASSERT_TRUE(kv().put("routes", "beta.gcc-12", "queue").isOk());
  ASSERT_TRUE(kv().put("routes", "prod.gcc-12", "queue-2").isOk());

  Result<std::optional<std::string>> value = kv().get("routes", "prod.gcc-12");
  ASSERT_TRUE(value.ok()) << value.status().toString();
  EXPECT_EQ(*value, std::optional<std::string>("queue-2"));

  using Entries = std::vector<std::pair<std::string, std::string>>;
  Result<Entries> prod = kv().list("routes", "prod.");
  ASSERT_TRUE(prod.ok()) << prod.status().toString();
  EXPECT_EQ(*prod, (Entries{{"prod.clang-17", "url"}, {"prod.gcc-12", "queue-2"}}));
  Result<Entries> all = kv().list("routes", "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);

  ASSERT_TRUE(kv().erase("routes", "prod.gcc-12").isOk());
  EXPECT_EQ(*kv().get("routes", "prod.gcc-12"), std::nullopt);
  EXPECT_EQ(kv().list("routes", "prod.")->size(), 1u);
  EXPECT_TRUE(kv().erase("routes", "never-there").isOk());
  EXPECT_EQ(*kv().get("routes", "never-there"), std::nullopt);
}

TEST_P(BackendContractTest, KeyValueBucketsAreSeparateAndCreatedOnUse) {
  ASSERT_TRUE(kv().put("colours", "prod", "blue").isOk());
  ASSERT_TRUE(kv().put("other", "prod", "green").isOk());
  EXPECT_EQ(*kv().get("colours", "prod"), std::optional<std::string>("blue"));
  EXPECT_EQ(*kv().get("other", "prod"), std::optional<std::string>("green"));
  EXPECT_EQ(*kv().get("unused", "prod"), std::nullopt);
}

TEST_P(BackendContractTest, KeyValuesKeepAnyBytes) {
  std::string binary("\0\x01\xff\n", 4);
  ASSERT_TRUE(kv().put("cache", "binary", binary).isOk());
  ASSERT_TRUE(kv().put("cache", "empty", "").isOk());
  EXPECT_EQ(*kv().get("cache", "binary"), std::optional<std::string>(binary));
  EXPECT_EQ(*kv().get("cache", "empty"), std::optional<std::string>(""));
}

TEST_P(BackendContractTest, BadKeysAndBucketsAreRefused) {
  EXPECT_EQ(kv().put("routes", "", "x").code(), StatusCode::InvalidArgument);
  EXPECT_EQ(kv().put("routes", "prod#gcc", "x").code(), StatusCode::InvalidArgument);
  EXPECT_EQ(kv().put("routes", ".leading", "x").code(), StatusCode::InvalidArgument);
  EXPECT_EQ(kv().put("routes", "a..b", "x").code(), StatusCode::InvalidArgument);
  EXPECT_EQ(kv().put("bad.bucket", "key", "x").code(), StatusCode::InvalidArgument);
  EXPECT_EQ(kv().get("routes", "a b").status().code(), StatusCode::InvalidArgument);
}

TEST_P(BackendContractTest, KeyValuesExpireAfterTheBucketTtl) {
  ASSERT_TRUE(kv().ensureBucket("results", milliseconds(1000)).isOk());
  Clock::time_point put_at = Clock::now();
  ASSERT_TRUE(kv().put("results", "guid-1", "done").isOk());
  EXPECT_EQ(*kv().get("results", "guid-1"), std::optional<std::string>("done"));

  EXPECT_TRUE(eventually([&] { return *kv().get("results", "guid-1") == std::nullopt; },
                         milliseconds(10000)));
  EXPECT_GE(since(put_at), milliseconds(900));
  EXPECT_TRUE(kv().list("results", "")->empty());
}

TEST_P(BackendContractTest, WatchPassesCurrentValuesThenChanges) {
  ASSERT_TRUE(kv().put("routes", "prod.a", "1").isOk());
  ASSERT_TRUE(kv().put("routes", "prod.b", "2").isOk());
  ASSERT_TRUE(kv().put("routes", "beta.a", "3").isOk());

  EventLog log;
  auto record = [&](const std::string& key, const std::optional<std::string>& value) {
    log.add(key + "=" + value.value_or("<deleted>"));
  };
  Result<std::unique_ptr<KeyWatch>> watch = kv().watch("routes", "prod.", record);
  ASSERT_TRUE(watch.ok()) << watch.status().toString();
  ASSERT_TRUE((*watch)->waitUntilCurrent(milliseconds(5000)));
  std::vector<std::string> initial = log.events();
  EXPECT_EQ(std::set<std::string>(initial.begin(), initial.end()),
            (std::set<std::string>{"prod.a=1", "prod.b=2"}));
  EXPECT_EQ(initial.size(), 2u);

  // Later changes arrive in order; other prefixes do not.
  ASSERT_TRUE(kv().put("beta.b", "beta.b", "x").code() == StatusCode::InvalidArgument);
  ASSERT_TRUE(kv().put("routes", "beta.b", "4").isOk());
  ASSERT_TRUE(kv().put("routes", "prod.c", "5").isOk());
  ASSERT_TRUE(kv().erase("routes", "prod.a").isOk());
  ASSERT_TRUE(kv().put("routes", "prod.b", "6").isOk());
  ASSERT_TRUE(log.waitFor([](const auto& events) { return events.size() >= 5; }));
  std::vector<std::string> events = log.events();
  EXPECT_EQ(std::vector<std::string>(events.begin() + 2, events.end()),
            (std::vector<std::string>{"prod.c=5", "prod.a=<deleted>", "prod.b=6"}));
}

TEST_P(BackendContractTest, WatchStopsWhenDestroyed) {
  EventLog first_log;
  EventLog second_log;
  Result<std::unique_ptr<KeyWatch>> first =
      kv().watch("routes", "", [&](const std::string& key, const auto&) { first_log.add(key); });
  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_TRUE((*first)->waitUntilCurrent(milliseconds(5000)));
  ASSERT_TRUE(kv().put("routes", "before", "1").isOk());
  ASSERT_TRUE(first_log.waitForEvent("before"));
  first->reset();

  // The second watch sees "after", so the first one would have seen it by then too.
  Result<std::unique_ptr<KeyWatch>> second =
      kv().watch("routes", "", [&](const std::string& key, const auto&) { second_log.add(key); });
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(kv().put("routes", "after", "2").isOk());
  ASSERT_TRUE(second_log.waitForEvent("after"));
  EXPECT_EQ(first_log.events(), std::vector<std::string>{"before"});
}

TEST_P(BackendContractTest, WatchCanBeDestroyedFromItsOwnCallback) {
  std::unique_ptr<KeyWatch> watch;
  std::mutex mu;
  EventLog log;
  Result<std::unique_ptr<KeyWatch>> made =
      kv().watch("routes", "", [&](const std::string& key, const auto&) {
        std::lock_guard lock(mu);
        watch.reset();
        log.add(key);
      });
  ASSERT_TRUE(made.ok());
  {
    std::lock_guard lock(mu);
    watch = std::move(made).value();
  }
  ASSERT_TRUE(kv().put("routes", "one", "1").isOk());
  ASSERT_TRUE(log.waitForEvent("one"));
  std::lock_guard lock(mu);
  EXPECT_EQ(watch, nullptr);
}

// ----------------------------------------------------------------------------------------------
// Blobs

TEST_P(BackendContractTest, BlobsOfAnySizeRoundTrip) {
  std::string large(size_t{20} * 1024 * 1024, '\0');
  for (size_t i = 0; i < large.size(); ++i) {
    large[i] = static_cast<char>((i * 7919) >> 3);
  }
  const std::map<std::string, std::string> blobs_by_key = {
      {"empty", ""},
      {"one", "x"},
      {"sqs-overflow/prod/2024-05-01/guid.json", "{\"source\": \"int main() {}\"}"},
      {"large", large},
  };
  for (const auto& [key, data] : blobs_by_key) {
    ASSERT_TRUE(blobs().put(key, data, milliseconds(60000)).isOk()) << key;
  }
  for (const auto& [key, data] : blobs_by_key) {
    Result<std::optional<std::string>> got = blobs().get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().toString();
    ASSERT_TRUE(got->has_value()) << key;
    EXPECT_EQ(got->value().size(), data.size()) << key;
    EXPECT_TRUE(got->value() == data) << key;
  }
}

TEST_P(BackendContractTest, BlobsCanBeReplacedAndErased) {
  ASSERT_TRUE(
      blobs().put("result", std::string(size_t{3} * 1024 * 1024, 'a'), milliseconds(60000)).isOk());
  ASSERT_TRUE(blobs().put("result", "short", milliseconds(60000)).isOk());
  EXPECT_EQ(*blobs().get("result"), std::optional<std::string>("short"));
  ASSERT_TRUE(blobs().erase("result").isOk());
  EXPECT_EQ(*blobs().get("result"), std::nullopt);
  EXPECT_TRUE(blobs().erase("result").isOk());
  EXPECT_EQ(*blobs().get("never-there"), std::nullopt);
  EXPECT_EQ(blobs().put("", "x", milliseconds(1000)).code(), StatusCode::InvalidArgument);
}

TEST_P(BackendContractTest, BlobsExpireAfterTheirTtl) {
  Clock::time_point put_at = Clock::now();
  ASSERT_TRUE(blobs().put("short", "data", milliseconds(800)).isOk());
  ASSERT_TRUE(blobs().put("long", "data", milliseconds(60000)).isOk());
  EXPECT_EQ(*blobs().get("short"), std::optional<std::string>("data"));
  EXPECT_TRUE(eventually([&] { return *blobs().get("short") == std::nullopt; }));
  EXPECT_GE(since(put_at), milliseconds(700));
  EXPECT_EQ(*blobs().get("long"), std::optional<std::string>("data"));
}

// ----------------------------------------------------------------------------------------------
// Pub/sub

TEST_P(BackendContractTest, SubscriptionsGetWhatTheirPatternsMatch) {
  EventLog all, acks, one;
  auto recorder = [](EventLog& log) {
    return [&log](const std::string& subject, std::string&& data) {
      log.add(subject + ":" + data);
    };
  };
  auto s1 = pubsub().subscribe("events.>", recorder(all));
  auto s2 = pubsub().subscribe("events.*.ack", recorder(acks));
  auto s3 = pubsub().subscribe("events.prod", recorder(one));
  ASSERT_TRUE(s1.ok() && s2.ok() && s3.ok()) << s1.status().toString();

  ASSERT_TRUE(pubsub().publish("events.prod", "r1").isOk());
  ASSERT_TRUE(pubsub().publish("events.prod.ack", "a1").isOk());
  ASSERT_TRUE(pubsub().publish("events.beta.ack.more", "x").isOk());
  ASSERT_TRUE(pubsub().publish("other.prod", "y").isOk());
  ASSERT_TRUE(pubsub().publish("events", "z").isOk());
  // Every subscription matches the last message, so when it arrives the rest has arrived.
  for (const char* subject : {"events.prod", "events.end.ack"}) {
    ASSERT_TRUE(pubsub().publish(subject, "end").isOk());
  }
  ASSERT_TRUE(all.waitForEvent("events.end.ack:end"));
  ASSERT_TRUE(acks.waitForEvent("events.end.ack:end"));
  ASSERT_TRUE(one.waitForEvent("events.prod:end"));
  EXPECT_EQ(all.events(), (std::vector<std::string>{"events.prod:r1", "events.prod.ack:a1",
                                                    "events.beta.ack.more:x", "events.prod:end",
                                                    "events.end.ack:end"}));
  EXPECT_EQ(acks.events(), (std::vector<std::string>{"events.prod.ack:a1", "events.end.ack:end"}));
  EXPECT_EQ(one.events(), (std::vector<std::string>{"events.prod:r1", "events.prod:end"}));
}

TEST_P(BackendContractTest, DestroyedSubscriptionGetsNothingMore) {
  EventLog first, second;
  auto s1 = pubsub().subscribe("results.>",
                               [&](const std::string&, std::string&& data) { first.add(data); });
  ASSERT_TRUE(s1.ok());
  ASSERT_TRUE(pubsub().publish("results.a", "before").isOk());
  ASSERT_TRUE(first.waitForEvent("before"));
  s1->reset();

  auto s2 = pubsub().subscribe("results.>",
                               [&](const std::string&, std::string&& data) { second.add(data); });
  ASSERT_TRUE(s2.ok());
  ASSERT_TRUE(pubsub().publish("results.a", "after").isOk());
  ASSERT_TRUE(second.waitForEvent("after"));
  EXPECT_EQ(first.events(), std::vector<std::string>{"before"});
}

TEST_P(BackendContractTest, BadSubjectsAreRefused) {
  auto ignore = [](const std::string&, std::string&&) {
  };
  EXPECT_EQ(pubsub().publish("events.*", "x").code(), StatusCode::InvalidArgument);
  EXPECT_EQ(pubsub().publish("events..a", "x").code(), StatusCode::InvalidArgument);
  EXPECT_EQ(pubsub().publish("", "x").code(), StatusCode::InvalidArgument);
  EXPECT_EQ(pubsub().subscribe("events.>.a", ignore).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(pubsub().subscribe("a b", ignore).status().code(), StatusCode::InvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendContractTest,
                         ::testing::Values("embedded-memory", "embedded-files", "nats"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

}  // namespace
}  // namespace cex

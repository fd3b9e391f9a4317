// PendingRequests hands every request out exactly once: to take(), to takeAll() or to the
// timeout callback, whichever comes first.

#include "router/pending_requests.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace cex {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kFarAway = std::chrono::hours(1);

// What the timeout callback saw, with a way to wait for it.
class Timeouts {
 public:
  void add(const std::string& guid, int request) {
    std::lock_guard lock(mu_);
    seen_.emplace_back(guid, request);
    at_.push_back(Clock::now());
    cv_.notify_all();
  }

  bool waitForCount(size_t count, milliseconds timeout = milliseconds(5000)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return seen_.size() >= count; });
  }

  std::vector<std::pair<std::string, int>> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

  std::vector<Clock::time_point> times() const {
    std::lock_guard lock(mu_);
    return at_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, int>> seen_;
  std::vector<Clock::time_point> at_;
};

PendingRequests<int>::TimeoutFn recordInto(Timeouts* timeouts) {
  return [timeouts](const std::string& guid, int&& request) {
    timeouts->add(guid, request);
  };
}

TEST(PendingRequestsTest, TakeHandsARequestOutOnce) {
  Timeouts timeouts;
  PendingRequests<int> pending(recordInto(&timeouts));
  pending.add("a", 1, Clock::now() + kFarAway);
  pending.add("b", 2, Clock::now() + kFarAway);
  EXPECT_EQ(pending.size(), 2u);

  EXPECT_EQ(pending.take("a"), std::optional<int>(1));
  EXPECT_EQ(pending.take("a"), std::nullopt);
  EXPECT_EQ(pending.take("unknown"), std::nullopt);
  EXPECT_EQ(pending.size(), 1u);
}

TEST(PendingRequestsTest, TimeoutFiresOnceAfterTheDeadline) {
  Timeouts timeouts;
  auto deadline = Clock::now() + milliseconds(50);
  {
    PendingRequests<int> pending(recordInto(&timeouts));
    pending.add("late", 7, deadline);
    ASSERT_TRUE(timeouts.waitForCount(1));
    EXPECT_EQ(pending.take("late"), std::nullopt);
    EXPECT_EQ(pending.size(), 0u);
  }
  // The destructor joined the timer thread: nothing more can come.
  ASSERT_EQ(timeouts.seen().size(), 1u);
  EXPECT_EQ(timeouts.seen()[0], std::make_pair(std::string("late"), 7));
  EXPECT_GE(timeouts.times()[0], deadline);
}

TEST(PendingRequestsTest, ATakenRequestNeverTimesOut) {
  Timeouts timeouts;
  PendingRequests<int> pending(recordInto(&timeouts));
  pending.add("answered", 1, Clock::now() + milliseconds(200));
  ASSERT_EQ(pending.take("answered"), std::optional<int>(1));

  // Deadlines expire in order, so once the later one has fired the earlier one had its turn.
  pending.add("unanswered", 2, Clock::now() + milliseconds(250));
  ASSERT_TRUE(timeouts.waitForCount(1));
  ASSERT_EQ(timeouts.seen().size(), 1u);
  EXPECT_EQ(timeouts.seen()[0].first, "unanswered");
}

TEST(PendingRequestsTest, EarlierDeadlinesExpireFirstWhateverTheOrderOfAdding) {
  Timeouts timeouts;
  PendingRequests<int> pending(recordInto(&timeouts));
  auto now = Clock::now();
  pending.add("third", 3, now + milliseconds(60));
  pending.add("first", 1, now + milliseconds(20));
  pending.add("second", 2, now + milliseconds(40));
  ASSERT_TRUE(timeouts.waitForCount(3));
  auto seen = timeouts.seen();
  EXPECT_EQ(seen[0].first, "first");
  EXPECT_EQ(seen[1].first, "second");
  EXPECT_EQ(seen[2].first, "third");
}

TEST(PendingRequestsTest, TakeAllEmptiesTheSetAndCancelsTheDeadlines) {
  Timeouts timeouts;
  {
    PendingRequests<int> pending(recordInto(&timeouts));
    pending.add("a", 1, Clock::now() + milliseconds(200));
    pending.add("b", 2, Clock::now() + kFarAway);
    auto all = pending.takeAll();
    ASSERT_EQ(all.size(), 2u);
    int sum = 0;
    for (const auto& [guid, request] : all) {
      sum += request;
    }
    EXPECT_EQ(sum, 3);
    EXPECT_EQ(pending.size(), 0u);
    EXPECT_TRUE(pending.takeAll().empty());

    // A later request still times out, and alone: "a" left with takeAll().
    pending.add("c", 3, Clock::now() + milliseconds(60));
    ASSERT_TRUE(timeouts.waitForCount(1));
  }
  ASSERT_EQ(timeouts.seen().size(), 1u);
  EXPECT_EQ(timeouts.seen()[0].first, "c");
}

// Threads add requests, some with deadlines that expire at once, and take each other's while
// the timer thread expires them; whatever the interleaving, every request goes to exactly one
// of take(), the timeout and the final takeAll().
TEST(PendingRequestsTest, ConcurrentAddsAndTakesHandEachRequestOutOnce) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 1000;
  constexpr int kTotal = kThreads * kPerThread;
  std::vector<std::atomic<int>> handed_out(kTotal);
  auto hand_out = [&](int request) {
    handed_out[request].fetch_add(1);
  };
  {
    PendingRequests<int> pending([&](const std::string&, int&& request) { hand_out(request); });
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int k = 0; k < kPerThread; ++k) {
          int own = t * kPerThread + k;
          auto deadline = Clock::now() + (k % 3 == 0 ? milliseconds(0) : milliseconds(kFarAway));
          pending.add(std::to_string(own), own, deadline);
          int other = ((t + 1) % kThreads) * kPerThread + k;
          if (std::optional<int> taken = pending.take(std::to_string(other))) {
            hand_out(*taken);
          }
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    for (auto& [guid, request] : pending.takeAll()) {
      hand_out(request);
    }
  }
  for (int i = 0; i < kTotal; ++i) {
    ASSERT_EQ(handed_out[i].load(), 1) << "request " << i;
  }
}

}  // namespace
}  // namespace cex

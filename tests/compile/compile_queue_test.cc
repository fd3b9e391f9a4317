#include "compile/compile_queue.h"

#include <atomic>
#include <chrono>
#include <future>
#include <vector>

#include <gtest/gtest.h>

namespace cex {
namespace {

TEST(CompileQueueTest, HighPriorityJobsOvertakeWaitingOnes) {
  std::vector<int> order;
  std::mutex mu;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  {
    CompileQueue queue(1);
    // Occupy the only slot so the next jobs wait.
    queue.submit(CompileQueue::Priority::Normal, [gate] { gate.wait(); });
    while (queue.busy() == 0) {
      std::this_thread::yield();
    }
    for (int i = 1; i <= 2; ++i) {
      queue.submit(CompileQueue::Priority::Normal, [&, i] {
        std::lock_guard lock(mu);
        order.push_back(i);
      });
    }
    queue.submit(CompileQueue::Priority::High, [&] {
      std::lock_guard lock(mu);
      order.push_back(100);
    });
    EXPECT_EQ(queue.waiting(), 3u);
    release.set_value();
  }  // The destructor runs the waiting jobs before joining.
  EXPECT_EQ(order, (std::vector<int>{100, 1, 2}));
}

TEST(CompileQueueTest, RunsJobsConcurrentlyUpToSlots) {
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  {
    CompileQueue queue(3);
    for (int i = 0; i < 9; ++i) {
      queue.submit(CompileQueue::Priority::Normal, [&] {
        int now = ++running;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        --running;
      });
    }
  }
  EXPECT_EQ(peak.load(), 3);
}

}  // namespace
}  // namespace cex

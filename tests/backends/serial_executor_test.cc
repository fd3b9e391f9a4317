#include "backends/serial_executor.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "event_log.h"

namespace cex {
namespace {

TEST(SerialExecutorTest, RunsTasksInOrderOnItsOwnThread) {
  EventLog log;
  std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> other_thread{true};
  SerialExecutor executor("test");
  for (int i = 0; i < 50; ++i) {
    executor.post([&, i] {
      other_thread = other_thread && std::this_thread::get_id() != caller;
      log.add(std::to_string(i));
    });
  }
  ASSERT_TRUE(log.waitForEvent("49"));
  std::vector<std::string> events = log.events();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(events[i], std::to_string(i));
  }
  EXPECT_TRUE(other_thread);
}

TEST(SerialExecutorTest, ThrowingTaskDoesNotStopTheRest) {
  EventLog log;
  SerialExecutor executor("test");
  executor.post([] { throw std::runtime_error("boom"); });
  executor.post([&] { log.add("after"); });
  EXPECT_TRUE(log.waitForEvent("after"));
}

TEST(SerialExecutorTest, DestructionWaitsForTheRunningTaskAndDropsTheRest) {
  std::atomic<int> finished{0};
  EventLog log;
  {
    SerialExecutor executor("test");
    executor.post([&] {
      log.add("started");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ++finished;
    });
    executor.post([&] { ++finished; });
    ASSERT_TRUE(log.waitForEvent("started"));
  }
  EXPECT_EQ(finished, 1);
}

TEST(SerialExecutorTest, CanBeDestroyedFromItsOwnTask) {
  EventLog log;
  auto executor =
      std::make_shared<std::unique_ptr<SerialExecutor>>(std::make_unique<SerialExecutor>("test"));
  (*executor)->post([&, executor] {
    executor->reset();
    log.add("destroyed");
  });
  EXPECT_TRUE(log.waitForEvent("destroyed"));
}

}  // namespace
}  // namespace cex

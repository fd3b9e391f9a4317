#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cex {

// What callbacks on other threads saw, in order, with a way to wait for what a test expects
// instead of sleeping.
class EventLog {
 public:
  // Notifies under the lock, so a waiter that returns and destroys the log cannot race the
  // notification.
  void add(std::string event) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
    changed_.notify_all();
  }

  // Waits until `done` holds for the events so far; false after `timeout`.
  bool waitFor(const std::function<bool(const std::vector<std::string>&)>& done,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return done(events_); });
  }

  // Waits until `event` has been seen.
  bool waitForEvent(const std::string& event,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    return waitFor(
        [&](const std::vector<std::string>& events) {
          for (const std::string& seen : events) {
            if (seen == event) {
              return true;
            }
          }
          return false;
        },
        timeout);
  }

  std::vector<std::string> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> events_;
};

// Polls `condition` every 20 ms until it holds; for state that has no event to wait on (a
// server's counters, a TTL running out). False after `timeout`.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace cex

#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

namespace cex {

// Requests a router waits on, by guid, each with a deadline. `take` hands a request to
// whoever completes it (a result, a shutdown); a timer thread hands expired ones to the
// timeout callback. Every request is handed out exactly once. Thread-safe.
template <typename Request>
class PendingRequests {
 public:
  using Clock = std::chrono::steady_clock;
  using TimeoutFn = std::function<void(const std::string& guid, Request&&)>;

  explicit PendingRequests(TimeoutFn on_timeout) : on_timeout_(std::move(on_timeout)) {
    timer_ = std::thread([this] { timerLoop(); });
  }

  ~PendingRequests() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    timer_.join();
  }

  PendingRequests(const PendingRequests&) = delete;
  PendingRequests& operator=(const PendingRequests&) = delete;

  void add(const std::string& guid, Request request, Clock::time_point deadline) {
    {
      std::lock_guard lock(mu_);
      auto order = deadlines_.emplace(deadline, guid);
      entries_.emplace(guid, Entry{std::move(request), order});
    }
    cv_.notify_all();
  }

  std::optional<Request> take(const std::string& guid) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(guid);
    if (it == entries_.end()) {
      return std::nullopt;
    }
    Request request = std::move(it->second.request);
    deadlines_.erase(it->second.order);
    entries_.erase(it);
    return request;
  }

  // Hands every waiting request out (for a shutdown).
  std::vector<std::pair<std::string, Request>> takeAll() {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, Request>> all;
    for (auto& [guid, entry] : entries_) {
      all.emplace_back(guid, std::move(entry.request));
    }
    entries_.clear();
    deadlines_.clear();
    return all;
  }

  size_t size() const {
    std::lock_guard lock(mu_);
    return entries_.size();
  }

 private:
  struct Entry {
    Request request;
    typename std::multimap<Clock::time_point, std::string>::iterator order;
  };

  void timerLoop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      if (deadlines_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto first = deadlines_.begin();
      if (Clock::now() < first->first) {
        cv_.wait_until(lock, first->first);
        continue;
      }
      std::string guid = first->second;
      deadlines_.erase(first);
      auto it = entries_.find(guid);
      Request request = std::move(it->second.request);
      entries_.erase(it);
      lock.unlock();
      on_timeout_(guid, std::move(request));
      lock.lock();
    }
  }

  TimeoutFn on_timeout_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, Entry> entries_;           // guarded by mu_
  std::multimap<Clock::time_point, std::string> deadlines_;  // guarded by mu_
  bool stopping_ = false;                                    // guarded by mu_
  std::thread timer_;
};

}  // namespace cex

#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cex {

// A fixed number of compile slots fed by a two-level FIFO: high-priority jobs (health checks)
// run before normal ones. Jobs must not throw.
class CompileQueue {
 public:
  enum class Priority { Normal, High };

  explicit CompileQueue(int slots);
  ~CompileQueue();
  CompileQueue(const CompileQueue&) = delete;
  CompileQueue& operator=(const CompileQueue&) = delete;

  void submit(Priority priority, std::function<void()> job);

  int slots() const { return static_cast<int>(workers_.size()); }

  // Jobs waiting for a slot.
  size_t waiting() const;
  // Jobs running now.
  int busy() const;

 private:
  void workerLoop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> high_;    // guarded by mu_
  std::deque<std::function<void()>> normal_;  // guarded by mu_
  int busy_ = 0;                              // guarded by mu_
  bool stopping_ = false;                     // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace cex

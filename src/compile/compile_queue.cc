#include "compile/compile_queue.h"

namespace cex {

CompileQueue::CompileQueue(int slots) {
  for (int i = 0; i < std::max(1, slots); ++i) {
    workers_.emplace_back([this] { workerLoop(); });
  }
}

CompileQueue::~CompileQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& worker : workers_) {
    worker.join();
  }
}

void CompileQueue::submit(Priority priority, std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    (priority == Priority::High ? high_ : normal_).push_back(std::move(job));
  }
  cv_.notify_one();
}

size_t CompileQueue::waiting() const {
  std::lock_guard lock(mu_);
  return high_.size() + normal_.size();
}

int CompileQueue::busy() const {
  std::lock_guard lock(mu_);
  return busy_;
}

void CompileQueue::workerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !high_.empty() || !normal_.empty(); });
    // Queued jobs still run when stopping, so every waiting client gets an answer.
    if (high_.empty() && normal_.empty()) {
      return;
    }
    auto& queue = high_.empty() ? normal_ : high_;
    std::function<void()> job = std::move(queue.front());
    queue.pop_front();
    ++busy_;
    lock.unlock();
    job();
    lock.lock();
    --busy_;
  }
}

}  // namespace cex

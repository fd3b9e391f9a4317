#include "backends/serial_executor.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

namespace cex {

struct SerialExecutor::State {
  std::string name;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> tasks;  // guarded by mu
  bool stopping = false;                    // guarded by mu
  std::thread thread;
};

namespace {

// Runs one task; nothing it throws may end the thread (and with it the process).
void runGuarded(const std::string& name, const std::function<void()>& task) {
  try {
    task();
  } catch (const std::exception& e) {
    spdlog::error("backends callback threw name={} error={}", name, e.what());
  } catch (...) {
    spdlog::error("backends callback threw name={} error=unknown", name);
  }
}

}  // namespace

SerialExecutor::SerialExecutor(std::string name) : state_(std::make_shared<State>()) {
  state_->name = std::move(name);
  // The thread holds its own reference, so the state survives a destructor that detaches.
  state_->thread = std::thread([state = state_] {
    std::unique_lock lock(state->mu);
    while (true) {
      state->cv.wait(lock, [&] { return state->stopping || !state->tasks.empty(); });
      if (state->stopping) {
        return;
      }
      std::function<void()> task = std::move(state->tasks.front());
      state->tasks.pop_front();
      lock.unlock();
      runGuarded(state->name, task);
      // The task's captures are released unlocked: their destructors may post again.
      task = nullptr;
      lock.lock();
    }
  });
}

SerialExecutor::~SerialExecutor() {
  // Dropped tasks are destroyed outside the lock, since their captures may post again.
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    dropped.swap(state_->tasks);
  }
  state_->cv.notify_all();
  dropped.clear();

  // From inside a task, joining would wait for ourselves; the thread ends on its own instead.
  if (state_->thread.get_id() == std::this_thread::get_id()) {
    state_->thread.detach();
  } else {
    state_->thread.join();
  }
}

void SerialExecutor::post(std::function<void()> task) {
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopping) {
      return;
    }
    state_->tasks.push_back(std::move(task));
  }
  state_->cv.notify_one();
}

}  // namespace cex

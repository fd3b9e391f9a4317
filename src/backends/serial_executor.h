#pragma once

#include <functional>
#include <memory>
#include <string>

namespace cex {

// A thread of its own that runs posted tasks one at a time, in order. Watches and
// subscriptions use one each, so a slow callback delays only its own deliveries and a
// callback may call back into the store without deadlocking.
//
// Destroying the executor drops the tasks not yet started and waits for the running one to
// finish; destroying it from inside one of its own tasks does not wait (the thread ends after
// that task). A task that throws is logged and dropped.
class SerialExecutor {
 public:
  // `name` appears in the log line of a task that throws.
  explicit SerialExecutor(std::string name);
  ~SerialExecutor();
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  // Queues `task`; ignored once the executor is being destroyed.
  void post(std::function<void()> task);

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the thread, which may outlive this object
};

}  // namespace cex

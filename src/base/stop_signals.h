#pragma once

#include <functional>
#include <string>
#include <thread>

namespace cex {

// Blocks SIGINT and SIGTERM in this thread, and so in every thread started after it, and
// ignores SIGPIPE: call it before starting any thread. A stop signal that arrives from then on
// waits for a StopWatch.
void blockStopSignals();

// Runs `on_stop` on a thread of its own once SIGINT or SIGTERM arrives. Destroying it ends that
// thread: if no signal came (the server stopped on its own), it raises SIGTERM in this process
// so that `on_stop` still runs once, then joins, so `on_stop` never outlives what it uses.
class StopWatch {
 public:
  StopWatch(std::string role, std::function<void()> on_stop);
  ~StopWatch();
  StopWatch(const StopWatch&) = delete;
  StopWatch& operator=(const StopWatch&) = delete;

 private:
  std::thread thread_;
};

}  // namespace cex

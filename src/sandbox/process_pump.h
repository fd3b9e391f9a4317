#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>

#include "sandbox/process.h"
#include "sandbox/unique_fd.h"

namespace cex {

// Drives one started child to its end: feeds its stdin, collects stdout and stderr up to the
// spec's caps, enforces the timeout and reaps it. Every runner shares this loop; they differ in
// how the child was started and in what "kill everything" means for them.
class ProcessPump {
 public:
  // `pid` is our own child. `kill_all` must end the child and everything it started; it is
  // called on timeout, on output overflow and once the child has exited, possibly more than
  // once. The pipe ends are the parent's: stdin's write end, stdout's and stderr's read ends.
  ProcessPump(const ProcessSpec& spec, pid_t pid, UniqueFd stdin_write, UniqueFd stdout_read,
              UniqueFd stderr_read, std::function<void()> kill_all, ProcessResult* result);

  ProcessPump(const ProcessPump&) = delete;
  ProcessPump& operator=(const ProcessPump&) = delete;

  // Returns once the child is reaped and its output is closed, or a short grace after that
  // when something outside the child's reach still holds the pipes. Fills exit_code,
  // term_signal, timed_out, truncated and the output; `start` is when the timeout began.
  void run(std::chrono::steady_clock::time_point start);

 private:
  using Clock = std::chrono::steady_clock;

  // Collects one output stream up to its cap.
  struct Sink {
    UniqueFd fd;
    std::string* data = nullptr;
    size_t cap = 0;
  };

  void pollOnce(Clock::time_point deadline);
  void readSink(Sink& sink);
  void writeStdin();
  void reap(bool block);
  void killEverything(Clock::time_point now);

  bool finished() const { return reaped_ && !sinks_[0].fd.valid() && !sinks_[1].fd.valid(); }

  const ProcessSpec& spec_;
  pid_t pid_;
  ProcessResult* result_;
  std::function<void()> kill_all_;
  UniqueFd in_;
  Sink sinks_[2];
  UniqueFd pidfd_;  // -1 where pidfd_open is unavailable; exits are then noticed by polling
  size_t stdin_written_ = 0;
  bool reaped_ = false;
  bool killed_ = false;
  Clock::time_point drain_deadline_ = Clock::time_point::max();
};

// The parent writes to pipes whose reader may be gone; that must be an error, not a signal.
void ignoreSigpipeOnce();

}  // namespace cex

#include "sandbox/process_pump.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>

#include <spdlog/spdlog.h>

namespace cex {

namespace {

// After the child ends or is killed, how long we keep reading pipes that something outside
// the child's reach may still hold open.
constexpr std::chrono::milliseconds kDrainGrace{1000};

void setNonBlocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

}  // namespace

void ignoreSigpipeOnce() {
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

ProcessPump::ProcessPump(const ProcessSpec& spec, pid_t pid, UniqueFd stdin_write,
                         UniqueFd stdout_read, UniqueFd stderr_read, std::function<void()> kill_all,
                         ProcessResult* result)
    : spec_(spec), pid_(pid), result_(result), kill_all_(std::move(kill_all)) {
  in_ = std::move(stdin_write);
  sinks_[0] = {std::move(stdout_read), &result->stdout_data, spec.max_stdout};
  sinks_[1] = {std::move(stderr_read), &result->stderr_data, spec.max_stderr};
  for (auto& sink : sinks_) {
    setNonBlocking(sink.fd.get());
  }
  setNonBlocking(in_.get());
  if (spec.stdin_data.empty()) {
    in_.reset(-1);
  }
  pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

void ProcessPump::run(Clock::time_point start) {
  Clock::time_point deadline = start + spec_.timeout;
  while (!finished()) {
    Clock::time_point now = Clock::now();
    if (!killed_ && now >= deadline) {
      result_->timed_out = true;
      killEverything(now);
    }
    if (now >= drain_deadline_) {
      break;  // Something outside the child's reach holds the pipes; stop waiting for it.
    }
    pollOnce(killed_ ? drain_deadline_ : std::min(deadline, drain_deadline_));
  }
  if (!reaped_) {
    killEverything(Clock::now());
    reap(true);
  }
}

void ProcessPump::killEverything(Clock::time_point now) {
  killed_ = true;
  kill_all_();
  drain_deadline_ = std::min(drain_deadline_, now + kDrainGrace);
}

void ProcessPump::pollOnce(Clock::time_point deadline) {
  pollfd fds[4];
  int n = 0;
  for (auto& sink : sinks_) {
    if (sink.fd.valid()) {
      fds[n++] = {sink.fd.get(), POLLIN, 0};
    }
  }
  if (in_.valid()) {
    fds[n++] = {in_.get(), POLLOUT, 0};
  }
  if (!reaped_ && pidfd_.valid()) {
    fds[n++] = {pidfd_.get(), POLLIN, 0};
  }
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  int timeout_ms = static_cast<int>(std::clamp<int64_t>(wait.count() + 1, 0, 60000));
  if (!pidfd_.valid() && !reaped_) {
    timeout_ms = std::min(timeout_ms, 10);  // No pidfd: notice the exit by polling.
  }
  if (::poll(fds, n, timeout_ms) < 0 && errno != EINTR) {
    spdlog::error("process poll failed error={}", errno);
  }
  readSink(sinks_[0]);
  readSink(sinks_[1]);
  writeStdin();
  reap(false);
}

void ProcessPump::readSink(Sink& sink) {
  char buf[65536];
  while (sink.fd.valid()) {
    ssize_t n = ::read(sink.fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      return;
    }
    if (n <= 0) {
      sink.fd.reset(-1);
      return;
    }
    size_t room = sink.cap - std::min(sink.cap, sink.data->size());
    sink.data->append(buf, std::min(room, static_cast<size_t>(n)));
    if (static_cast<size_t>(n) > room && !result_->truncated) {
      // Over the cap: the rest is dropped and the run ends here.
      result_->truncated = true;
      killEverything(Clock::now());
    }
  }
}

void ProcessPump::writeStdin() {
  while (in_.valid()) {
    std::string_view rest = std::string_view(spec_.stdin_data).substr(stdin_written_);
    if (rest.empty()) {
      in_.reset(-1);
      return;
    }
    ssize_t n = ::write(in_.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      return;
    }
    if (n < 0) {
      in_.reset(-1);  // The child closed its stdin; the rest is not wanted.
      return;
    }
    stdin_written_ += static_cast<size_t>(n);
  }
}

void ProcessPump::reap(bool block) {
  if (reaped_) {
    return;
  }
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r != pid_) {
    return;
  }
  reaped_ = true;
  // Whatever the child left behind dies with it.
  kill_all_();
  drain_deadline_ = std::min(drain_deadline_, Clock::now() + kDrainGrace);
  if (WIFEXITED(status)) {
    result_->exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result_->exit_code = -1;
    result_->term_signal = WTERMSIG(status);
  }
}

}  // namespace cex

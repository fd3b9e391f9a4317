#include "sandbox/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include <spdlog/spdlog.h>

namespace cex {

namespace {

using Clock = std::chrono::steady_clock;

// After the child ends or is killed, how long we keep reading pipes that something outside
// the process group may still hold open.
constexpr std::chrono::milliseconds kDrainGrace{1000};

class Fd {
 public:
  Fd() = default;

  explicit Fd(int fd) : fd_(fd) {}

  Fd(Fd&& other) noexcept : fd_(other.release()) {}

  Fd& operator=(Fd&& other) noexcept {
    reset(other.release());
    return *this;
  }

  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  ~Fd() { reset(-1); }

  int get() const { return fd_; }

  bool valid() const { return fd_ >= 0; }

  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

  void reset(int fd) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

Result<Pipe> makePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Status::fromErrno("pipe2", errno);
  }
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

void setNonBlocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// The parent writes to pipes whose reader may be gone; that must be an error, not a signal.
void ignoreSigpipeOnce() {
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

std::vector<char*> cStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) {
    out.push_back(const_cast<char*>(s.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

// Starts the child in a new process group with the three pipe ends as stdin/stdout/stderr,
// default signal dispositions and no other inherited descriptors.
Result<pid_t> spawnChild(const ProcessSpec& spec, int in_fd, int out_fd, int err_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (!spec.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
  }

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t no_signals;
  sigset_t all_signals;
  sigemptyset(&no_signals);
  sigfillset(&all_signals);
  posix_spawnattr_setsigmask(&attr, &no_signals);
  posix_spawnattr_setsigdefault(&attr, &all_signals);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_USEVFORK);

  auto argv = cStrings(spec.argv);
  auto envp = cStrings(spec.env);
  pid_t pid = -1;
  int rc = spec.argv[0].find('/') == std::string::npos
               ? ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data())
               : ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Status::fromErrno("spawn " + spec.argv[0], rc);
  }
  return pid;
}

// Collects one output stream up to its cap.
struct OutputSink {
  Fd fd;
  std::string* data;
  size_t cap;
};

// The state of one run while its pipes are being pumped.
class Pump {
 public:
  Pump(const ProcessSpec& spec, pid_t pid, Pipe& in, Pipe& out, Pipe& err, ProcessResult* result)
      : spec_(spec), pid_(pid), result_(result) {
    in_ = std::move(in.write);
    sinks_[0] = {std::move(out.read), &result->stdout_data, spec.max_stdout};
    sinks_[1] = {std::move(err.read), &result->stderr_data, spec.max_stderr};
    for (auto& sink : sinks_) {
      setNonBlocking(sink.fd.get());
    }
    setNonBlocking(in_.get());
    if (spec.stdin_data.empty()) {
      in_.reset(-1);
    }
    pidfd_ = Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  }

  void run();

 private:
  void pollOnce(Clock::time_point deadline);
  void readSink(OutputSink& sink);
  void writeStdin();
  void reap(bool block);

  void killGroup() { ::kill(-pid_, SIGKILL); }

  bool finished() const { return reaped_ && !sinks_[0].fd.valid() && !sinks_[1].fd.valid(); }

  const ProcessSpec& spec_;
  pid_t pid_;
  ProcessResult* result_;
  Fd in_;
  OutputSink sinks_[2];
  Fd pidfd_;
  size_t stdin_written_ = 0;
  bool reaped_ = false;
  bool killed_ = false;
  Clock::time_point drain_deadline_ = Clock::time_point::max();
};

void Pump::run() {
  Clock::time_point deadline = Clock::now() + spec_.timeout;
  while (!finished()) {
    Clock::time_point now = Clock::now();
    if (!killed_ && now >= deadline) {
      result_->timed_out = true;
      killed_ = true;
      killGroup();
      drain_deadline_ = now + kDrainGrace;
    }
    if (now >= drain_deadline_) {
      break;  // Something outside the group holds the pipes; stop waiting for it.
    }
    pollOnce(killed_ ? drain_deadline_ : std::min(deadline, drain_deadline_));
  }
  if (!reaped_) {
    killGroup();
    reap(true);
  }
}

void Pump::pollOnce(Clock::time_point deadline) {
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

void Pump::readSink(OutputSink& sink) {
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
      killed_ = true;
      killGroup();
      drain_deadline_ = std::min(drain_deadline_, Clock::now() + kDrainGrace);
    }
  }
}

void Pump::writeStdin() {
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

void Pump::reap(bool block) {
  if (reaped_) {
    return;
  }
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r != pid_) {
    return;
  }
  reaped_ = true;
  // Whatever the child left behind in its group dies with it.
  killGroup();
  drain_deadline_ = std::min(drain_deadline_, Clock::now() + kDrainGrace);
  if (WIFEXITED(status)) {
    result_->exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result_->exit_code = -1;
    result_->term_signal = WTERMSIG(status);
  }
}

class DirectRunner : public ProcessRunner {
 public:
  Result<ProcessResult> run(const ProcessSpec& spec) override;

  std::string name() const override { return "none"; }
};

Result<ProcessResult> DirectRunner::run(const ProcessSpec& spec) {
  if (spec.argv.empty()) {
    return Status::invalidArgument("spawn: empty argv");
  }
  ignoreSigpipeOnce();
  auto in = makePipe();
  auto out = makePipe();
  auto err = makePipe();
  if (!in.ok() || !out.ok() || !err.ok()) {
    return !in.ok() ? in.status() : !out.ok() ? out.status() : err.status();
  }

  Clock::time_point start = Clock::now();
  auto pid = spawnChild(spec, in->read.get(), out->write.get(), err->write.get());
  if (!pid.ok()) {
    return pid.status();
  }
  // Only the child keeps these ends; closing ours lets EOF arrive when it exits.
  in->read.reset(-1);
  out->write.reset(-1);
  err->write.reset(-1);

  ProcessResult result;
  Pump pump(spec, *pid, *in, *out, *err, &result);
  pump.run();
  result.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return result;
}

}  // namespace

std::unique_ptr<ProcessRunner> makeDirectRunner() {
  return std::make_unique<DirectRunner>();
}

}  // namespace cex

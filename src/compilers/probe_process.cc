#include "compilers/probe_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string_view>
#include <thread>

#include <fmt/format.h>

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX name

namespace cex {

namespace {

using Clock = std::chrono::steady_clock;

// One end of a pipe, closed when it goes out of scope.
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

  int release() { return std::exchange(fd_, -1); }

  void reset(int fd) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;  // -1 when closed
};

// This process's environment with the locale forced to C, built once.
const std::vector<std::string>& probeEnvironment() {
  static const std::vector<std::string> kEnv = [] {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view var(*e);
      if (var.starts_with("LC_ALL=") || var.starts_with("LANG=") || var.starts_with("LANGUAGE=")) {
        continue;
      }
      env.emplace_back(var);
    }
    env.emplace_back("LC_ALL=C");
    env.emplace_back("LANG=C");
    return env;
  }();
  return kEnv;
}

std::vector<char*> cStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) {
    out.push_back(const_cast<char*>(s.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

// Starts the child in its own process group with stdout/stderr on the given pipe ends.
Result<pid_t> spawnChild(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);

  // A server may block or ignore signals; the child must start with the defaults.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigset_t defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);

  std::vector<char*> args = cStrings(argv);
  std::vector<char*> env = cStrings(probeEnvironment());
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Status::fromErrno("spawn " + argv[0], rc);
  }
  return pid;
}

int millisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// Reads what is ready on `fd` into `sink`; closes `fd` at end of file.
void drain(Fd* fd, std::string* sink) {
  char buf[65536];
  ssize_t n = ::read(fd->get(), buf, sizeof(buf));
  if (n < 0) {
    if (errno != EINTR && errno != EAGAIN) {
      fd->reset(-1);
    }
    return;
  }
  if (n == 0) {
    fd->reset(-1);
    return;
  }
  size_t room = kMaxProbeOutputBytes - std::min(kMaxProbeOutputBytes, sink->size());
  sink->append(buf, std::min(room, static_cast<size_t>(n)));
}

// Collects both streams until both reach end of file (true) or the deadline passes (false).
bool readOutputs(Fd* out_fd, Fd* err_fd, Clock::time_point deadline, ProcessOutput* output) {
  while (out_fd->get() >= 0 || err_fd->get() >= 0) {
    int wait_ms = millisLeft(deadline);
    if (wait_ms == 0) {
      return false;
    }
    // poll() skips negative descriptors, so a stream that ended drops out by itself.
    pollfd fds[2] = {{out_fd->get(), POLLIN, 0}, {err_fd->get(), POLLIN, 0}};
    int ready = ::poll(fds, 2, wait_ms);
    if (ready < 0 && errno != EINTR) {
      return false;
    }
    if (fds[0].fd >= 0 && fds[0].revents != 0) {
      drain(out_fd, &output->out);
    }
    if (fds[1].fd >= 0 && fds[1].revents != 0) {
      drain(err_fd, &output->err);
    }
  }
  return true;
}

// Waits for the child to exit, up to the deadline. Its output has ended, so this is short.
std::optional<int> waitForExit(pid_t pid, Clock::time_point deadline) {
  auto pause = std::chrono::microseconds(200);
  while (true) {
    int status = 0;
    pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) {
      return status;
    }
    if (got < 0 && errno != EINTR) {
      return std::nullopt;
    }
    if (Clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
}

// Kills the child's whole process group (a compiler driver's own children included) and
// reaps the child.
void killAndReap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<ProcessOutput> runProbeProcess(const std::vector<std::string>& argv, int timeout_ms) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return Status::invalidArgument("probe: the program must be an absolute path");
  }
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return Status::fromErrno("probe pipe", errno);
  }
  Fd out_read(out_pipe[0]);
  Fd out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return Status::fromErrno("probe pipe", errno);
  }
  Fd err_read(err_pipe[0]);
  Fd err_write(err_pipe[1]);

  Result<pid_t> pid = spawnChild(argv, out_write.get(), err_write.get());
  if (!pid.ok()) {
    return pid.status();
  }
  // Only the child may hold the write ends, or end of file would never come.
  out_write.reset(-1);
  err_write.reset(-1);

  ProcessOutput output;
  Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::optional<int> status;
  if (readOutputs(&out_read, &err_read, deadline, &output)) {
    status = waitForExit(*pid, deadline);
  }
  if (!status) {
    killAndReap(*pid);
    return Status::timeout(fmt::format("probe {}: no answer within {} ms", argv[0], timeout_ms));
  }
  if (WIFEXITED(*status)) {
    output.exit_code = WEXITSTATUS(*status);
  } else if (WIFSIGNALED(*status)) {
    output.term_signal = WTERMSIG(*status);
  }
  return output;
}

}  // namespace cex

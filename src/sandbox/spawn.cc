#include "sandbox/spawn.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace cex {

namespace {

constexpr size_t kChildStackBytes = 64 * 1024;

// Everything the child reads, prepared by the parent: the child shares our memory until it
// execs, so it must neither allocate nor call anything that takes a lock.
struct ChildContext {
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const int* fds = nullptr;
  int* scratch = nullptr;  // one slot per entry of fds
  int fd_count = 0;
  const Credentials* credentials = nullptr;
  const ResourceLimit* limits = nullptr;
  int limit_count = 0;
  int error = 0;  // set by the child when it fails before or at exec
};

[[noreturn]] void childFail(ChildContext* ctx, int err) {
  ctx->error = err;
  ::_exit(127);
}

// Moves our descriptors to 0..n-1 in two steps: first above n, so that no source is
// overwritten by an earlier target, then down into place.
void childArrangeFds(ChildContext* ctx) {
  for (int i = 0; i < ctx->fd_count; ++i) {
    ctx->scratch[i] = ::fcntl(ctx->fds[i], F_DUPFD, ctx->fd_count);
    if (ctx->scratch[i] < 0) {
      childFail(ctx, errno);
    }
  }
  for (int i = 0; i < ctx->fd_count; ++i) {
    if (::dup2(ctx->scratch[i], i) < 0) {
      childFail(ctx, errno);
    }
  }
  ::syscall(SYS_close_range, ctx->fd_count, ~0U, 0);
}

// Raw system calls only: the libc wrappers for set*id signal every thread of the process,
// and this child shares the parent's threads' memory.
void childSwitchUser(ChildContext* ctx) {
  const Credentials* c = ctx->credentials;
  if (::syscall(SYS_setgroups, 0, nullptr) != 0 ||
      ::syscall(SYS_setresgid, c->gid, c->gid, c->gid) != 0 ||
      ::syscall(SYS_setresuid, c->uid, c->uid, c->uid) != 0) {
    childFail(ctx, errno);
  }
}

void childSetLimits(ChildContext* ctx) {
  for (int i = 0; i < ctx->limit_count; ++i) {
    struct rlimit64 limit = {ctx->limits[i].value, ctx->limits[i].value};
    if (::syscall(SYS_prlimit64, 0, ctx->limits[i].resource, &limit, nullptr) != 0) {
      childFail(ctx, errno);
    }
  }
}

int childMain(void* arg) {
  auto* ctx = static_cast<ChildContext*>(arg);
  // The parent's handlers must not run here, and what it ignores (SIGPIPE) must not be
  // inherited by the sandbox: every disposition goes back to the default.
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    ::sigaction(sig, &dfl, nullptr);
  }
  if (::setpgid(0, 0) != 0) {
    childFail(ctx, errno);
  }
  childArrangeFds(ctx);
  childSetLimits(ctx);
  if (ctx->credentials != nullptr) {
    childSwitchUser(ctx);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(ctx->path, ctx->argv, ctx->envp);
  childFail(ctx, errno);
}

// Starts the child on its own stack. No signal handler may run in it while it shares our
// memory, so every signal stays blocked until it has exec'd (the child unblocks them).
pid_t cloneChild(ChildContext* ctx, int* clone_errno) {
  auto stack = std::make_unique<char[]>(kChildStackBytes);
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid =
      ::clone(childMain, stack.get() + kChildStackBytes, CLONE_VM | CLONE_VFORK | SIGCHLD, ctx);
  *clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return pid;
}

}  // namespace

Result<pid_t> spawnHelper(const SpawnRequest& request) {
  if (request.argv.empty()) {
    return Status::invalidArgument("spawn: empty argv");
  }
  std::vector<char*> argv;
  argv.reserve(request.argv.size() + 1);
  for (const auto& a : request.argv) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  std::vector<int> scratch(request.fds.size());
  ChildContext ctx;
  ctx.path = request.argv[0].c_str();
  ctx.argv = argv.data();
  ctx.envp = envp;
  ctx.fds = request.fds.data();
  ctx.scratch = scratch.data();
  ctx.fd_count = static_cast<int>(request.fds.size());
  ctx.credentials = request.credentials ? &*request.credentials : nullptr;
  ctx.limits = request.limits.data();
  ctx.limit_count = static_cast<int>(request.limits.size());

  int clone_errno = 0;
  pid_t pid = cloneChild(&ctx, &clone_errno);
  if (pid < 0) {
    return Status::fromErrno("clone for " + request.argv[0], clone_errno);
  }
  if (ctx.error != 0) {
    ::waitpid(pid, nullptr, 0);
    return Status::fromErrno("spawn " + request.argv[0], ctx.error);
  }
  return pid;
}

}  // namespace cex

#include "sandbox/seccomp_filter.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

#include <gtest/gtest.h>

namespace cex {
namespace {

// Runs `body` in a child under the filter and returns its exit status: 0 when every check in
// it held, otherwise the number of the first that did not.
int runFiltered(const std::string& program, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    sock_fprog prog = {static_cast<unsigned short>(program.size() / sizeof(sock_filter)),
                       reinterpret_cast<sock_filter*>(const_cast<char*>(program.data()))};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      ::_exit(100);
    }
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

bool failsWith(long rc, int err) {
  return rc == -1 && errno == err;
}

#ifdef __x86_64__
// A call through the i386 entry point, as a 32-bit program makes them.
long int80(long nr) {
  long ret = 0;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(0), "c"(0), "d"(0) : "memory");
  return ret;
}
#endif

TEST(SeccompFilterTest, BuildsAProgramOfWholeInstructions) {
  auto program = buildSeccompFilter({});
  ASSERT_TRUE(program.ok()) << program.status().toString();
  EXPECT_GT(program->size(), 0u);
  EXPECT_EQ(program->size() % sizeof(sock_filter), 0u);
}

TEST(SeccompFilterTest, DeniesEscapesAndKeepsOrdinaryCalls) {
  auto program = buildSeccompFilter({});
  ASSERT_TRUE(program.ok());
  int failed = runFiltered(*program, [] {
    int check = 0;
    for (bool ok : {
             failsWith(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr), EPERM),
             failsWith(::unshare(CLONE_NEWUSER), EPERM),
             failsWith(::syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0), EPERM),
             failsWith(::syscall(SYS_clone3, nullptr, 0), ENOSYS),
             failsWith(::syscall(SYS_keyctl, 0, -4, 0), EPERM),
             failsWith(::ioctl(0, TIOCSTI, "x"), EPERM),
             failsWith(::personality(ADDR_NO_RANDOMIZE), EPERM),
             failsWith(::personality(READ_IMPLIES_EXEC), EPERM),
             failsWith(::personality(0x80400000), EPERM),
             ::personality(0xffffffff) != -1,
             ::personality(PER_LINUX32) != -1,
             ::personality(PER_LINUX) != -1,
             ::getpid() > 0,
         }) {
      ++check;
      if (!ok) {
        return check;
      }
    }
    return 0;
  });
  EXPECT_EQ(failed, 0) << "check number " << failed << " did not hold";
}

TEST(SeccompFilterTest, EveryListedCallFailsWithEperm) {
  auto program = buildSeccompFilter({});
  ASSERT_TRUE(program.ok());
  for (std::string_view name : deniedSyscalls()) {
    int nr = seccomp_syscall_resolve_name(std::string(name).c_str());
    if (nr < 0) {
      continue;  // not a call of this architecture (e.g. vm86 on x86-64)
    }
    // Arguments of -1 are invalid for every listed call, so even a broken filter would let
    // nothing happen; without a controlling terminal vhangup has nothing to hang up.
    int failed = runFiltered(*program, [nr] {
      ::setsid();
      return failsWith(::syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L), EPERM) ? 0 : 1;
    });
    EXPECT_EQ(failed, 0) << name << " was not denied with EPERM";
  }
}

#ifdef __x86_64__
TEST(SeccompFilterTest, The32BitEntryIsFilteredOrClosed) {
  auto with = buildSeccompFilter({true});
  auto without = buildSeccompFilter({false});
  ASSERT_TRUE(with.ok() && without.ok());
  // i386 numbers: 20 getpid, 26 ptrace.
  EXPECT_EQ(runFiltered(*with, [] { return int80(20) > 0 && int80(26) == -EPERM ? 0 : 1; }), 0);
  EXPECT_EQ(runFiltered(*without, [] { return int80(20) == -EPERM ? 0 : 1; }), 0);
}
#endif

}  // namespace
}  // namespace cex

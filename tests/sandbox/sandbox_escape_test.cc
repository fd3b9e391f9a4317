#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <map>

#include <gtest/gtest.h>

#include "base/files.h"
#include "base/strings.h"
#include "sandbox_fixture.h"

namespace cex {
namespace {

using SandboxEscapeTest = SandboxFixture;

// Connects to a host loopback port (argv[1]), the internet and a host abstract unix
// socket (argv[2]), and reports each outcome.
constexpr const char* kNetProbe = R"(
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stdlib.h>
static void try(const char* name, int fd, struct sockaddr* a, socklen_t n) {
  printf("%s=%s\n", name, connect(fd, a, n) == 0 ? "connected" : strerrorname_np(errno));
}
int main(int argc, char** argv) {
  struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  try("loopback", socket(AF_INET, SOCK_STREAM, 0), (struct sockaddr*)&in, sizeof in);
  inet_pton(AF_INET, "1.1.1.1", &in.sin_addr);
  in.sin_port = htons(80);
  try("internet", socket(AF_INET, SOCK_STREAM, 0), (struct sockaddr*)&in, sizeof in);
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  strcpy(un.sun_path + 1, argv[2]);
  try("abstract", socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr*)&un,
      offsetof(struct sockaddr_un, sun_path) + 1 + strlen(argv[2]));
  return 0;
})";

// Tries to attach to, seize and read the memory of its own child, and to be traced.
constexpr const char* kPtraceProbe = R"(
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
static const char* res(long rc) { return rc < 0 ? strerrorname_np(errno) : "ok"; }
int main(void) {
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  char buf[8];
  static char secret[8] = "secret";
  struct iovec local = {buf, sizeof buf}, remote = {secret, sizeof secret};
  printf("attach=%s\n", res(ptrace(PTRACE_ATTACH, child, 0, 0)));
  printf("seize=%s\n", res(ptrace(PTRACE_SEIZE, child, 0, 0)));
  printf("traceme=%s\n", res(ptrace(PTRACE_TRACEME, 0, 0, 0)));
  printf("vm_readv=%s\n", res(process_vm_readv(child, &local, 1, &remote, 1, 0)));
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  return 0;
})";

// Makes the calls the filter denies and a few it must allow, and reports each outcome;
// on x86-64 also through the i386 entry point.
constexpr const char* kSyscallProbe = R"(
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>
static void report(const char* name, long rc) {
  printf("%s=%s\n", name, rc < 0 ? strerrorname_np(errno) : "ok");
}
#ifdef __x86_64__
static long int80(long nr, long a) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(0), "d"(0) : "memory");
  return ret;
}
#endif
int main(void) {
  report("unshare_user", unshare(CLONE_NEWUSER));
  report("unshare_mount", unshare(CLONE_NEWNS));
  report("clone_newnet", syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0));
  report("clone3", syscall(SYS_clone3, NULL, 0));
  report("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
  report("keyctl", syscall(SYS_keyctl, 0, -4, 0));
  report("add_key", syscall(SYS_add_key, "user", "k", "v", 1, -4));
  report("bpf", syscall(SYS_bpf, 0, NULL, 0));
  report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
  report("userfaultfd", syscall(SYS_userfaultfd, 0));
  report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
  report("init_module", syscall(SYS_init_module, NULL, 0, ""));
  report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
  report("reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
  report("settimeofday", syscall(SYS_settimeofday, NULL, NULL));
  report("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
  report("personality_norandom", personality(ADDR_NO_RANDOMIZE));
  report("personality_query", personality(0xffffffff));
  pid_t pid = fork();
  if (pid == 0) {
    _exit(0);
  }
  report("fork", pid);
#ifdef __x86_64__
  long rc = int80(26, 0);  /* i386 ptrace(PTRACE_TRACEME) */
  printf("i386_ptrace=%s\n", rc == -EPERM ? "EPERM" : "allowed");
  printf("i386_getpid=%s\n", int80(20, 0) > 0 ? "ok" : "denied");
#endif
  return 0;
})";

// Detaches from the run the classic way: fork, setsid, fork, close the standard streams.
constexpr const char* kDaemon = R"(
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(void) {
  if (fork() != 0) return 0;           /* the run's process exits at once */
  setsid();
  if (fork() != 0) _exit(0);
  close(0); close(1); close(2);        /* nothing ties it to the run any more */
  for (;;) sleep(1);
})";

// Prints its real and effective uid.
constexpr const char* kShowIds = R"(
#include <stdio.h>
#include <unistd.h>
int main(void) { printf("%d %d\n", (int)getuid(), (int)geteuid()); return 0; })";

// "name=value" lines into a map.
std::map<std::string, std::string> parseReport(const std::string& text) {
  std::map<std::string, std::string> out;
  for (std::string_view line : split(text, '\n')) {
    size_t eq = line.find('=');
    if (eq != std::string_view::npos) {
      out[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    }
  }
  return out;
}

// A world-readable directory with a secret in it, like cex's cache or another request's
// directory: only the mount namespace, not permissions, keeps a run away from it.
std::unique_ptr<TempDir> makeSecretDir(const std::string& prefix) {
  auto dir = TempDir::create("/tmp", prefix);
  EXPECT_TRUE(dir.ok());
  ::chmod(dir->path().c_str(), 0755);
  EXPECT_TRUE(writeFile(dir->path() + "/secret", "top-secret-content\n").isOk());
  ::chmod((dir->path() + "/secret").c_str(), 0644);
  return std::make_unique<TempDir>(std::move(*dir));
}

// Listening sockets on the host that a sandboxed run must not reach.
struct HostListeners {
  int tcp = -1;
  int port = 0;
  int unix_sock = -1;
  std::string abstract_name = "cex-sandbox-test-" + std::to_string(::getpid());

  ~HostListeners() {
    ::close(tcp);
    ::close(unix_sock);
  }

  bool listen() {
    tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(tcp, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(tcp, 8) != 0 ||
        ::getsockname(tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return false;
    }
    port = ntohs(addr.sin_port);
    unix_sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un uaddr{};
    uaddr.sun_family = AF_UNIX;
    std::memcpy(uaddr.sun_path + 1, abstract_name.data(), abstract_name.size());
    auto ulen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract_name.size());
    return ::bind(unix_sock, reinterpret_cast<sockaddr*>(&uaddr), ulen) == 0 &&
           ::listen(unix_sock, 8) == 0;
  }

  // Whether anything connected to either listener.
  bool reached() const {
    return ::accept(tcp, nullptr, nullptr) >= 0 || ::accept(unix_sock, nullptr, nullptr) >= 0;
  }
};

TEST_F(SandboxEscapeTest, HostFilesOutsideTheViewAreAbsent) {
  auto cache = makeSecretDir("cex-cache-");
  auto other_request = makeSecretDir("cex-compile-");
  std::string paths =
      "/etc/shadow /etc/gshadow /etc/sudoers /root /home /var /run /srv /opt "
      "/work /mnt /boot /sys/fs/cgroup /sys/kernel /sys/class " +
      cache->path() + " " + other_request->path();
  auto r = runner().run(shell("for p in " + paths + "; do test -e $p && echo visible:$p; done; " +
                              "cat " + cache->path() + "/secret " + other_request->path() +
                              "/secret 2>&1; " +
                              "ls -A /etc | tr '\\n' ' '; echo; ls -A / | tr '\\n' ' '"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->stdout_data.find("visible:"), std::string::npos) << r->stdout_data;
  EXPECT_EQ(r->stdout_data.find("top-secret-content"), std::string::npos);

  // /etc holds only the synthetic identity files and what the dynamic linker reads.
  auto lines = split(r->stdout_data, '\n');
  ASSERT_GE(lines.size(), 2u) << r->stdout_data;
  for (const auto& name : splitNonEmpty(lines[lines.size() - 2], ' ')) {
    EXPECT_TRUE(name == "passwd" || name == "group" || name.starts_with("ld.so.") ||
                name == "alternatives" || name == "localtime")
        << "unexpected /etc entry " << name;
  }
  for (const auto& name : splitNonEmpty(lines[lines.size() - 1], ' ')) {
    EXPECT_TRUE(name == "usr" || name == "bin" || name == "sbin" || name.starts_with("lib") ||
                name == "etc" || name == "dev" || name == "proc" || name == "tmp" || name == "sys")
        << "unexpected / entry " << name;
  }
}

TEST_F(SandboxEscapeTest, NoNetworkEvenToAHostListenerOnLoopback) {
  // Real listeners on the host: one on loopback and one in the abstract unix namespace.
  HostListeners host;
  ASSERT_TRUE(host.listen()) << "cannot listen on the host";
  std::string exe = compileC("net", kNetProbe);
  ProcessSpec spec = shell("");
  spec.argv = {exe, std::to_string(host.port), host.abstract_name};
  auto r = runner().run(spec);
  auto ifaces = runner().run(shell("cut -d: -f1 /proc/net/dev | tail -n +3 | tr -d ' '"));

  ASSERT_TRUE(r.ok()) << r.status().toString();
  auto report = parseReport(r->stdout_data);
  EXPECT_EQ(report["loopback"], "ECONNREFUSED");  // the sandbox's own, empty loopback
  EXPECT_EQ(report["internet"], "ENETUNREACH");
  EXPECT_EQ(report["abstract"], "ECONNREFUSED");
  EXPECT_FALSE(host.reached()) << "a connection arrived on the host";
  ASSERT_TRUE(ifaces.ok());
  EXPECT_EQ(ifaces->stdout_data, "lo\n");
}

TEST_F(SandboxEscapeTest, KillingEverythingOnlyReachesTheSandbox) {
  // A host process of ours (the same host user as the sandbox when tests run unprivileged).
  pid_t sentinel = 0;
  char arg0[] = "/bin/sleep";
  char arg1[] = "30";
  char* argv[] = {arg0, arg1, nullptr};
  char* envp[] = {nullptr};
  ASSERT_EQ(::posix_spawn(&sentinel, arg0, nullptr, nullptr, argv, envp), 0);

  auto r = runner().run(shell("sleep 8791 & kill -9 -1; kill -9 $PPID; kill -9 1; kill -9 " +
                              std::to_string(sentinel) + " 2>/dev/null; kill -9 " +
                              std::to_string(::getpid()) + " 2>/dev/null; wait; echo alive"));
  bool sentinel_alive = ::kill(sentinel, 0) == 0 && ::waitpid(sentinel, nullptr, WNOHANG) == 0;
  ::kill(sentinel, SIGKILL);
  ::waitpid(sentinel, nullptr, 0);

  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->stdout_data, "alive\n");  // the sandboxed sleep died, the shell went on
  EXPECT_TRUE(sentinel_alive);
}

TEST_F(SandboxEscapeTest, ProcShowsOnlyTheSandboxsProcesses) {
  auto r =
      runner().run(shell("ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '; echo; "
                         "cat /proc/1/cmdline | tr '\\0' ' '"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  auto lines = split(r->stdout_data, '\n');
  ASSERT_GE(lines.size(), 2u);
  auto pids = splitNonEmpty(lines[0], ' ');
  // The sandbox's init, the shell, ls and grep (tr and cat may already be running).
  EXPECT_GE(pids.size(), 3u);
  EXPECT_LE(pids.size(), 6u) << lines[0];
  for (const auto& pid : pids) {
    EXPECT_LE(std::stoi(pid), 10) << lines[0];
  }
  EXPECT_TRUE(lines[1].starts_with("/usr/bin/bwrap ")) << lines[1];  // init is bubblewrap's
}

TEST_F(SandboxEscapeTest, PtraceAndOtherProcessesMemoryAreDenied) {
  std::string exe = compileC("ptrace", kPtraceProbe);
  ProcessSpec spec = shell("");
  spec.argv = {exe};
  auto r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  auto report = parseReport(r->stdout_data);
  EXPECT_EQ(report["attach"], "EPERM") << r->stdout_data;
  EXPECT_EQ(report["seize"], "EPERM");
  EXPECT_EQ(report["traceme"], "EPERM");
  EXPECT_EQ(report["vm_readv"], "EPERM");

  // strace, the everyday use of ptrace, fails the same way.
  if (::access("/usr/bin/strace", X_OK) == 0) {
    auto s = runner().run(shell("strace -f true; echo rc=$?"));
    ASSERT_TRUE(s.ok());
    EXPECT_NE(s->stdout_data, "rc=0\n") << s->stderr_data;
  }
}

TEST_F(SandboxEscapeTest, KernelAttackSurfaceIsDeniedWithErrors) {
  std::string exe = compileC("syscalls", kSyscallProbe);
  ProcessSpec spec = shell("");
  spec.argv = {exe};
  auto r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  auto report = parseReport(r->stdout_data);
  for (const char* name :
       {"unshare_user", "unshare_mount", "clone_newnet", "mount", "keyctl", "add_key", "bpf",
        "perf_event_open", "userfaultfd", "io_uring_setup", "init_module", "kexec_load", "reboot",
        "settimeofday", "open_by_handle_at", "personality_norandom"}) {
    EXPECT_EQ(report[name], "EPERM") << name;
  }
  EXPECT_EQ(report["clone3"], "ENOSYS");
  EXPECT_EQ(report["personality_query"], "ok");
  EXPECT_EQ(report["fork"], "ok");
#ifdef __x86_64__
  // The i386 entry point is filtered too, yet works for ordinary calls.
  EXPECT_EQ(report["i386_ptrace"], "EPERM");
  EXPECT_EQ(report["i386_getpid"], "ok");
#endif
}

TEST_F(SandboxEscapeTest, NoCapabilitiesNoNewPrivilegesAndAFilter) {
  auto r =
      runner().run(shell("grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' "
                         "/proc/self/status | tr -s '\\t ' ' '"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->stdout_data,
            "CapInh: 0000000000000000\nCapPrm: 0000000000000000\nCapEff: 0000000000000000\n"
            "CapBnd: 0000000000000000\nCapAmb: 0000000000000000\nNoNewPrivs: 1\nSeccomp: 2\n");
}

TEST_F(SandboxEscapeTest, SetuidRootBinariesGiveNoPrivilege) {
  // The dynamic linker honours LD_SHOW_AUXV only for an exec that changed no credentials, and
  // then shows the effective uid and AT_SECURE: a setuid-root program of the host is run as
  // the sandbox user.
  std::string setuid_root;
  for (const char* candidate : {"/usr/bin/passwd", "/usr/bin/su", "/usr/bin/mount"}) {
    struct stat st {};

    if (::stat(candidate, &st) == 0 && (st.st_mode & S_ISUID) && st.st_uid == 0) {
      setuid_root = candidate;
      break;
    }
  }
  ASSERT_FALSE(setuid_root.empty()) << "no setuid-root program on this host";
  ProcessSpec spec = shell("");
  spec.env.push_back("LD_SHOW_AUXV=1");
  spec.argv = {setuid_root, "--version"};
  auto r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  std::string auxv = replaceAll(r->stdout_data, " ", "");
  EXPECT_NE(auxv.find("AT_EUID:10240"), std::string::npos) << r->stdout_data;
  EXPECT_NE(auxv.find("AT_SECURE:0"), std::string::npos);

  // With root around, also a setuid-root program of our own, reporting its ids.
  if (::geteuid() != 0) {
    printSkipReason("own setuid-root program: needs root to create one");
    return;
  }
  std::string exe = compileC("ids", kShowIds);
  ASSERT_EQ(::chown(exe.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(exe.c_str(), 04755), 0);
  spec = shell("");
  spec.argv = {exe};
  r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->stdout_data, "10240 10240\n");
}

TEST_F(SandboxEscapeTest, HostSysctlsCannotBeWritten) {
  auto r =
      runner().run(shell("v=$(cat /proc/sys/kernel/printk_ratelimit); "
                         "echo $v > /proc/sys/kernel/printk_ratelimit && echo WROTE; "
                         "echo 1 > /proc/sysrq-trigger 2>/dev/null && echo SYSRQ; echo done"));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->stdout_data, "done\n") << r->stderr_data;
}

TEST_F(SandboxEscapeTest, DaemonsThatDetachAreGoneAfterTheRun) {
  std::string exe = compileC("daemon", kDaemon);
  ProcessSpec spec = shell("");
  spec.argv = {exe};
  auto r = runner().run(spec);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_FALSE(r->timed_out);

  auto s =
      runner().run(shell("(setsid sleep 8795 > /dev/null 2>&1 &) ; nohup sleep 8796 "
                         "> /dev/null 2>&1 & echo left"));
  ASSERT_TRUE(s.ok()) << s.status().toString();
  EXPECT_EQ(s->stdout_data, "left\n");
  EXPECT_LT(s->wall_ms, 2000);
  // The fixture checks that neither daemon is still running anywhere.
}

}  // namespace
}  // namespace cex

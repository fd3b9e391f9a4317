#include "sandbox/seccomp_filter.h"

#include <linux/sched.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "sandbox/unique_fd.h"

namespace cex {

namespace {

// Every flag of clone() that creates a namespace; a run stays in the ones it was given.
constexpr uint64_t kNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS,
                                        CLONE_NEWIPC, CLONE_NEWUSER,   CLONE_NEWPID,
                                        CLONE_NEWNET, CLONE_NEWTIME};

// personality() values a program may still set are plain Linux (0), 32-bit Linux (8, as
// setarch i686 does) and the query that changes nothing (0xffffffff, bit 31 set).
constexpr uint64_t kPersonalityLinux32 = 0x8;
constexpr uint64_t kPersonalityQueryBit = 0x80000000;

struct FilterDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

using FilterPtr = std::unique_ptr<void, FilterDeleter>;

Status libseccompError(std::string_view what, int rc) {
  return Status::internal("seccomp " + std::string(what) + ": error " + std::to_string(-rc));
}

Status denyByName(scmp_filter_ctx ctx) {
  for (std::string_view name : deniedSyscalls()) {
    int nr = seccomp_syscall_resolve_name(std::string(name).c_str());
    if (nr == __NR_SCMP_ERROR) {
      continue;  // Not a call of any architecture in the filter.
    }
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
    if (rc != 0) {
      return libseccompError(name, rc);
    }
  }
  return Status::ok();
}

// A rule that looks at arguments: `action` when every comparison holds.
struct ArgumentRule {
  uint32_t action;
  int syscall;
  std::vector<scmp_arg_cmp> args;
};

std::vector<ArgumentRule> argumentRules() {
  std::vector<ArgumentRule> rules;
  for (uint64_t flag : kNamespaceFlags) {
    rules.push_back(
        {SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), {SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)}});
  }
  rules.push_back({SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), {}});
  // Pushing bytes into the input of a terminal the run might share with someone else.
  rules.push_back(
      {SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffff, TIOCSTI)}});
  // Personality flags turn off address randomisation or make data executable. A filter
  // compares each argument once per rule, so "not one of the three" becomes one rule per bit:
  // without bit 31 any bit but 8's is refused, with bit 31 any bit left clear is refused.
  for (uint64_t bit = 1; bit < kPersonalityQueryBit; bit <<= 1) {
    uint64_t mask = bit | kPersonalityQueryBit;
    if (bit != kPersonalityLinux32) {
      rules.push_back(
          {SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), {SCMP_A0(SCMP_CMP_MASKED_EQ, mask, bit)}});
    }
    rules.push_back({SCMP_ACT_ERRNO(EPERM),
                     SCMP_SYS(personality),
                     {SCMP_A0(SCMP_CMP_MASKED_EQ, mask, kPersonalityQueryBit)}});
  }
  return rules;
}

Status denyByArgument(scmp_filter_ctx ctx) {
  for (const ArgumentRule& rule : argumentRules()) {
    int rc = seccomp_rule_add_array(ctx, rule.action, rule.syscall,
                                    static_cast<unsigned>(rule.args.size()), rule.args.data());
    if (rc != 0) {
      return libseccompError("rule for " + std::to_string(rule.syscall), rc);
    }
  }
  return Status::ok();
}

// libseccomp 2.5 writes the program to a descriptor only; a memfd brings it back to memory.
Result<std::string> exportProgram(scmp_filter_ctx ctx) {
  UniqueFd fd(::memfd_create("cex-seccomp", MFD_CLOEXEC));
  if (!fd.valid()) {
    return Status::fromErrno("memfd_create", errno);
  }
  int rc = seccomp_export_bpf(ctx, fd.get());
  if (rc != 0) {
    return libseccompError("export", rc);
  }
  std::string program;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::pread(fd.get(), buf, sizeof buf, static_cast<off_t>(program.size()))) > 0) {
    program.append(buf, static_cast<size_t>(n));
  }
  if (n < 0 || program.empty()) {
    return Status::internal("seccomp export: empty program");
  }
  return program;
}

}  // namespace

const std::vector<std::string_view>& deniedSyscalls() {
  static const std::vector<std::string_view> kDenied = {
      // Reading or steering other processes.
      "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_getfd", "kcmp",
      // Replacing or extending the kernel.
      "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
      "create_module", "query_module", "get_kernel_syms", "uselib",
      // Rearranging mounts and namespaces.
      "mount", "umount", "umount2", "pivot_root", "chroot", "unshare", "setns", "fsopen",
      "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
      // Host state: swap, power, accounting, clocks, names, logs, quotas.
      "swapon", "swapoff", "reboot", "acct", "settimeofday", "stime", "adjtimex", "clock_adjtime",
      "clock_settime", "sethostname", "setdomainname", "syslog", "vhangup", "quotactl",
      "quotactl_fd", "nfsservctl", "_sysctl", "sysfs", "lookup_dcookie",
      // Large kernel attack surface with no use in a compile or a test program.
      "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
      "io_uring_register", "keyctl", "add_key", "request_key", "fanotify_init", "open_by_handle_at",
      "name_to_handle_at",
      // Direct hardware and segment access.
      "ioperm", "iopl", "modify_ldt", "vm86", "vm86old"};
  return kDenied;
}

Result<std::string> buildSeccompFilter(const SeccompOptions& options) {
  FilterPtr ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) {
    return Status::internal("seccomp init failed");
  }
  // A call from an architecture the filter does not cover must not slip through.
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(EPERM));
  // A binary search over call numbers keeps the cost per call flat as the list grows.
  if (rc == 0) {
    rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  }
  if (rc == 0 && options.allow_32bit && seccomp_arch_native() == SCMP_ARCH_X86_64) {
    rc = seccomp_arch_add(ctx.get(), SCMP_ARCH_X86);
  }
  if (rc != 0) {
    return libseccompError("architectures", rc);
  }
  if (Status s = denyByName(ctx.get()); !s.isOk()) {
    return s;
  }
  if (Status s = denyByArgument(ctx.get()); !s.isOk()) {
    return s;
  }
  return exportProgram(ctx.get());
}

}  // namespace cex

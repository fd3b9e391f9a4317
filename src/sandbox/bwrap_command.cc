#include "sandbox/bwrap_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>

namespace cex {

namespace {

// Top-level directories that merged-/usr systems (Debian 12) keep as links into /usr; on
// older layouts they are real directories and get bound instead.
constexpr const char* kRootLinks[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};

// The /etc files a dynamically linked compiler or program reads.
constexpr const char* kEtcFiles[] = {"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                                     "/etc/alternatives", "/etc/localtime"};

void add(std::vector<std::string>& argv, std::initializer_list<std::string> args) {
  argv.insert(argv.end(), args);
}

void addRootLinks(std::vector<std::string>& argv) {
  for (const char* path : kRootLinks) {
    struct stat st {};

    if (::lstat(path, &st) != 0) {
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = ::readlink(path, target, sizeof target - 1);
      if (n > 0) {
        add(argv, {"--symlink", std::string(target, static_cast<size_t>(n)), path});
      }
    } else if (S_ISDIR(st.st_mode)) {
      add(argv, {"--ro-bind", path, path});
    }
  }
}

}  // namespace

BwrapCommand::BwrapCommand(const SandboxConfig& config) : uid_(config.uid), gid_(config.gid) {
  std::vector<std::string>& a = prefix_;
  a.push_back(config.bwrap_path);

  // Namespaces, identity and lifetime: nothing of the host's processes, network, IPC or
  // hostname is visible, the run is an unprivileged user, and it dies with us.
  add(a,
      {"--unshare-user", "--uid", std::to_string(config.uid), "--gid", std::to_string(config.gid)});
  add(a, {"--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup",
          "--hostname", "cex", "--die-with-parent", "--new-session", "--cap-drop", "ALL"});
  add(a, {"--info-fd", std::to_string(kBwrapInfo), "--block-fd", std::to_string(kBwrapBlock),
          "--seccomp", std::to_string(kBwrapSeccomp)});

  // The read-only system view.
  add(a, {"--ro-bind", "/usr", "/usr"});
  addRootLinks(a);
  for (const char* path : kEtcFiles) {
    add(a, {"--ro-bind-try", path, path});
  }
  for (const auto& path : config.readonly_paths) {
    add(a, {"--ro-bind-try", path, path});
  }
  add(a, {"--ro-bind-data", std::to_string(kBwrapPasswd), "/etc/passwd", "--ro-bind-data",
          std::to_string(kBwrapGroup), "/etc/group"});
  add(a, {"--dev", "/dev", "--proc", "/proc"});
}

std::vector<std::string> BwrapCommand::build(const ProcessSpec& spec,
                                             const std::vector<std::string>& command,
                                             const SandboxLimits& limits) const {
  std::vector<std::string> a;
  a.reserve(prefix_.size() + 32 + 3 * spec.env.size() + command.size());
  a = prefix_;

  // Scratch space that vanishes with the run and cannot outgrow its size.
  // TODO(sandbox): bubblewrap 0.8 cannot cap a tmpfs's inodes; without a memory cgroup a run
  // can fill /tmp with empty files (kernel memory) until its timeout.
  std::string tmp_size = std::to_string(limits.tmp_bytes);
  add(a, {"--size", tmp_size, "--perms", "1777", "--tmpfs", "/tmp"});
  add(a, {"--size", tmp_size, "--perms", "1777", "--tmpfs", "/dev/shm"});
  // Compilers size their thread pools from the CPU list.
  if (spec.profile == SandboxProfile::Compiler) {
    add(a, {"--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"});
  }

  // The request's own paths come after /tmp so that a directory under /tmp is still seen.
  for (const auto& path : spec.readonly_paths) {
    add(a, {"--ro-bind-try", path, path});
  }
  for (const auto& path : spec.writable_paths) {
    add(a, {"--bind", path, path});
  }
  // What bubblewrap created for the mount points must not become a place to store data.
  add(a, {"--remount-ro", "/", "--remount-ro", "/dev"});

  a.push_back("--clearenv");
  for (const auto& entry : spec.env) {
    size_t eq = entry.find('=');
    if (eq != std::string::npos && eq > 0) {
      add(a, {"--setenv", entry.substr(0, eq), entry.substr(eq + 1)});
    }
  }
  add(a, {"--chdir", spec.cwd.empty() ? "/" : spec.cwd, "--"});
  a.insert(a.end(), command.begin(), command.end());
  return a;
}

std::string BwrapCommand::passwdFile(const std::string& home) const {
  return "cex:x:" + std::to_string(uid_) + ":" + std::to_string(gid_) + ":cex:" + home +
         ":/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
}

std::string BwrapCommand::groupFile() const {
  return "cex:x:" + std::to_string(gid_) + ":\nnogroup:x:65534:\n";
}

}  // namespace cex

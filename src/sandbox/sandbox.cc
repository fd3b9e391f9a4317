#include "sandbox/sandbox.h"

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <optional>

#include <spdlog/spdlog.h>

#include "base/strings.h"
#include "sandbox/bwrap_command.h"
#include "sandbox/process_pump.h"
#include "sandbox/seccomp_filter.h"
#include "sandbox/spawn.h"
#include "sandbox/unique_fd.h"

namespace cex {

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kMiB = 1024 * 1024;
// How long bubblewrap may take to report the sandbox's first process.
constexpr std::chrono::milliseconds kStartTimeout{10000};
// How long the sandbox's PID namespace may take to empty once its init is gone.
constexpr std::chrono::milliseconds kTeardownTimeout{2000};
// Every message bubblewrap prints about its own failures starts with this.
constexpr std::string_view kBwrapErrorPrefix = "bwrap: ";

// The pipes of one run, the parent's ends and bubblewrap's.
struct RunPipes {
  Pipe in, out, err, info, block, seccomp, passwd, group;
};

Result<RunPipes> makeRunPipes() {
  RunPipes p;
  for (Pipe* pipe : {&p.in, &p.out, &p.err, &p.info, &p.block, &p.seccomp, &p.passwd, &p.group}) {
    auto made = makePipe();
    if (!made.ok()) {
      return made.status();
    }
    *pipe = std::move(*made);
  }
  return p;
}

// The small inputs bubblewrap reads during setup fit a pipe's buffer, so they are written in
// full before it starts and their write ends closed.
Status fillInput(Pipe& pipe, std::string_view data, std::string_view what) {
  Status s = writeAllToFd(pipe.write.get(), data, what);
  pipe.write.reset(-1);
  return s;
}

// The pid (in our namespace) of the sandbox's init, from bubblewrap's {"child-pid": N}.
Result<pid_t> readChildPid(int fd, Clock::time_point deadline) {
  std::string text;
  char buf[512];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd pfd = {fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) == 0) {
      return Status::timeout("sandbox: bubblewrap did not start in time");
    }
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  size_t key = text.find("\"child-pid\":");
  pid_t pid = 0;
  if (key != std::string::npos) {
    std::string_view rest = trim(std::string_view(text).substr(key + 12));
    std::from_chars(rest.data(), rest.data() + rest.size(), pid);
  }
  if (pid <= 0) {
    return Status::unavailable("sandbox: bubblewrap failed before starting the sandbox");
  }
  return pid;
}

// Whether a host user may enter the directory described by `st` (owner bits win over group
// bits, group bits over the rest, as the kernel decides).
bool searchableBy(const struct stat& st, const Credentials& c) {
  if (st.st_uid == c.uid) {
    return (st.st_mode & S_IXUSR) != 0;
  }
  if (st.st_gid == c.gid) {
    return (st.st_mode & S_IXGRP) != 0;
  }
  return (st.st_mode & S_IXOTH) != 0;
}

// bubblewrap resolves every bound path as the host user it runs as, so each directory above
// it must be searchable by that user.
Status checkReachable(const std::string& path, const Credentials& c) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);

    struct stat st = {};
    if (::stat(dir.c_str(), &st) == 0 && !searchableBy(st, c)) {
      return Status::unavailable("sandbox: " + dir + " is not searchable by uid " +
                                 std::to_string(c.uid) + ", so " + path +
                                 " cannot be given to a run");
    }
  }
  return Status::ok();
}

// Where posix_spawnp would find argv[0]; the sandbox shows /usr and the bound paths at the
// same places, so a command missing here is missing there too.
Status findExecutable(const ProcessSpec& spec) {
  const std::string& exe = spec.argv[0];
  if (exe.find('/') != std::string::npos) {
    return ::access(exe.c_str(), X_OK) == 0 ? Status::ok()
                                            : Status::fromErrno("spawn " + exe, errno);
  }
  std::string path = "/usr/bin:/bin";
  for (const auto& entry : spec.env) {
    if (entry.starts_with("PATH=")) {
      path = entry.substr(5);
    }
  }
  for (const auto& dir : splitNonEmpty(path, ':')) {
    if (::access((dir + "/" + exe).c_str(), X_OK) == 0) {
      return Status::ok();
    }
  }
  return Status::notFound("spawn " + exe + ": No such file or directory");
}

// Kills a process through its pidfd, so a recycled pid is never hit.
void killByPidfd(int pidfd) {
  if (pidfd >= 0) {
    ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  }
}

// Waits until the process behind `pidfd` has exited; for the sandbox's init that means the
// whole PID namespace is gone.
void awaitExit(int pidfd, std::chrono::milliseconds timeout) {
  if (pidfd < 0) {
    return;
  }
  pollfd pfd = {pidfd, POLLIN, 0};
  ::poll(&pfd, 1, static_cast<int>(timeout.count()));
}

// Turns what bubblewrap reported into the run's result.
Result<ProcessResult> interpret(ProcessResult result) {
  // bubblewrap reports a death by signal n as 128+n, like a shell.
  if (result.term_signal == 0 && result.exit_code > 128 && result.exit_code < 128 + NSIG) {
    result.term_signal = result.exit_code - 128;
  }
  // A sandbox that could not be set up is an error of cex, not a result of the command.
  if (result.exit_code != 1 || !result.stdout_data.empty() ||
      !result.stderr_data.starts_with(kBwrapErrorPrefix)) {
    return result;
  }
  std::string said(trim(result.stderr_data));
  if (said.find("execvp") != std::string::npos && said.find("No such file") != std::string::npos) {
    return Status::notFound("sandbox: " + said);
  }
  return Status::unavailable("sandbox: " + said);
}

// A process started by bubblewrap, between the spawn and the end of the run.
struct Launch {
  pid_t bwrap = -1;       // our child; its process group holds bubblewrap's processes
  pid_t init = -1;        // the sandbox's first process, in our PID namespace
  UniqueFd init_pidfd;    // for killing and awaiting init without pid reuse races
  UniqueFd in, out, err;  // our ends of the run's stdin, stdout and stderr
};

// Runs processes in a fresh bubblewrap sandbox each; see makeSandboxRunner.
class SandboxRunner : public ProcessRunner {
 public:
  SandboxRunner(const SandboxConfig& config, std::string seccomp_program,
                std::unique_ptr<CgroupManager> cgroups, std::string no_cgroup_reason);

  Result<ProcessResult> run(const ProcessSpec& spec) override;

  std::string name() const override;

  std::string describe() const override;

 private:
  const SandboxLimits& limitsFor(SandboxProfile profile) const {
    return profile == SandboxProfile::UserProgram ? config_.user_program : config_.compiler;
  }

  bool has(CgroupController controller) const {
    return cgroups_ != nullptr && cgroups_->has(controller);
  }

  Status prepare(const ProcessSpec& spec) const;
  Status checkWritable(const std::string& path) const;
  std::vector<ResourceLimit> rlimitsFor(const ProcessSpec& spec, const SandboxLimits& limits) const;
  std::vector<std::string> command(const ProcessSpec& spec, const SandboxLimits& limits) const;
  Result<std::unique_ptr<RunCgroup>> cgroupFor(const SandboxLimits& limits) const;
  Result<RunPipes> pipesFor(const ProcessSpec& spec) const;
  Result<Launch> spawn(const ProcessSpec& spec, const SandboxLimits& limits, RunPipes& p) const;
  Status release(Launch& launch, RunPipes& p, const RunCgroup* cgroup) const;
  Status abandon(Launch& launch, Status why) const;
  ProcessResult pump(Launch& launch, const ProcessSpec& spec, const RunCgroup* cgroup,
                     Clock::time_point start) const;

  SandboxConfig config_;
  BwrapCommand command_;
  std::string seccomp_program_;
  std::unique_ptr<CgroupManager> cgroups_;  // null: limits by rlimits only
  std::string no_cgroup_reason_;
  std::optional<Credentials> credentials_;  // set when cex is root: the host user of runs
};

SandboxRunner::SandboxRunner(const SandboxConfig& config, std::string seccomp_program,
                             std::unique_ptr<CgroupManager> cgroups, std::string no_cgroup_reason)
    : config_(config),
      command_(config),
      seccomp_program_(std::move(seccomp_program)),
      cgroups_(std::move(cgroups)),
      no_cgroup_reason_(std::move(no_cgroup_reason)) {
  if (::geteuid() == 0) {
    credentials_ = Credentials{config.host_uid, config.host_gid};
  }
}

std::string SandboxRunner::name() const {
  if (!cgroups_) {
    return "bwrap+rlimits";
  }
  return cgroups_->version() == CgroupVersion::V2 ? "bwrap+cgroup-v2" : "bwrap+cgroup-v1";
}

std::string SandboxRunner::describe() const {
  uid_t host_uid = credentials_ ? credentials_->uid : ::geteuid();
  std::string limits =
      cgroups_ ? cgroups_->describe()
               : "no cgroup (" + no_cgroup_reason_ +
                     "): memory by RLIMIT_AS (address space, not use), processes by "
                     "RLIMIT_NPROC (counted per user namespace, set inside the sandbox), CPU "
                     "by RLIMIT_CPU per process";
  return "sandbox " + name() + ": " + config_.bwrap_path + ", uid " + std::to_string(config_.uid) +
         " inside (host uid " + std::to_string(host_uid) + "), seccomp denies " +
         std::to_string(deniedSyscalls().size()) + " calls; " + limits;
}

Status SandboxRunner::prepare(const ProcessSpec& spec) const {
  if (spec.argv.empty()) {
    return Status::invalidArgument("spawn: empty argv");
  }
  if (Status s = findExecutable(spec); !s.isOk()) {
    return s;
  }
  for (const auto& path : spec.writable_paths) {
    if (Status s = checkWritable(path); !s.isOk()) {
      return s;
    }
  }
  if (!credentials_) {
    return Status::ok();
  }

  // Runs are another host user than cex: it must reach every path, and own the writable ones.
  for (const auto* paths : {&spec.writable_paths, &spec.readonly_paths}) {
    for (const auto& path : *paths) {
      if (Status s = checkReachable(path, *credentials_); !s.isOk()) {
        return s;
      }
    }
  }
  for (const auto& path : spec.writable_paths) {
    if (::chown(path.c_str(), credentials_->uid, credentials_->gid) != 0) {
      return Status::fromErrno("sandbox: chown " + path, errno);
    }
  }
  return Status::ok();
}

// A writable path must be a private directory: a shared one (/tmp, a home) would hand the run
// more than its own files, and giving it to the run's host user would change the host. When
// cex is root only directories it made itself (or already gave away) qualify.
Status SandboxRunner::checkWritable(const std::string& path) const {
  struct stat st = {};
  if (!path.starts_with('/') || ::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
      (st.st_mode & S_IWOTH) != 0) {
    return Status::invalidArgument("sandbox: writable path " + path +
                                   " must be an existing private directory (absolute, not a "
                                   "link, not writable by others)");
  }
  if (credentials_ && st.st_uid != credentials_->uid && st.st_uid != ::geteuid()) {
    return Status::invalidArgument("sandbox: writable path " + path + " belongs to another user");
  }
  return Status::ok();
}

Result<RunPipes> SandboxRunner::pipesFor(const ProcessSpec& spec) const {
  auto pipes = makeRunPipes();
  if (!pipes.ok()) {
    return pipes.status();
  }
  RunPipes& p = *pipes;
  Status s = fillInput(p.seccomp, seccomp_program_, "seccomp program");
  if (s.isOk()) {
    s = fillInput(p.passwd, command_.passwdFile(spec.cwd.empty() ? "/" : spec.cwd), "passwd");
  }
  if (s.isOk()) {
    s = fillInput(p.group, command_.groupFile(), "group");
  }
  if (!s.isOk()) {
    return s;
  }
  return pipes;
}

Result<Launch> SandboxRunner::spawn(const ProcessSpec& spec, const SandboxLimits& limits,
                                    RunPipes& p) const {
  SpawnRequest request;
  request.argv = command_.build(spec, command(spec, limits), limits);
  request.limits = rlimitsFor(spec, limits);
  request.fds = {p.in.read.get(),    p.out.write.get(),    p.err.write.get(),   p.info.write.get(),
                 p.block.read.get(), p.seccomp.read.get(), p.passwd.read.get(), p.group.read.get()};
  request.credentials = credentials_;
  auto pid = spawnHelper(request);
  if (!pid.ok()) {
    return pid.status();
  }

  // From here on only bubblewrap holds its ends; ours close so that EOF means it is gone.
  Launch launch;
  launch.bwrap = *pid;
  launch.in = std::move(p.in.write);
  launch.out = std::move(p.out.read);
  launch.err = std::move(p.err.read);
  for (UniqueFd* theirs : {&p.in.read, &p.out.write, &p.err.write, &p.info.write, &p.block.read,
                           &p.seccomp.read, &p.passwd.read, &p.group.read}) {
    theirs->reset(-1);
  }
  return launch;
}

Status SandboxRunner::release(Launch& launch, RunPipes& p, const RunCgroup* cgroup) const {
  auto init = readChildPid(p.info.read.get(), Clock::now() + kStartTimeout);
  if (!init.ok()) {
    return init.status();
  }
  launch.init = *init;
  launch.init_pidfd = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, *init, 0)));

  // Every process of the run will descend from the init, still waiting before the command.
  if (cgroup != nullptr) {
    if (Status s = cgroup->addProcess(launch.init); !s.isOk()) {
      return s;
    }
  }
  return writeAllToFd(p.block.write.get(), "x", "sandbox release");
}

// The rlimits of a run, set before bubblewrap starts so that every process inherits them.
// Where a cgroup controller is missing its rlimit stand-in is added; RLIMIT_NPROC is not
// among them (see command()).
std::vector<ResourceLimit> SandboxRunner::rlimitsFor(const ProcessSpec& spec,
                                                     const SandboxLimits& limits) const {
  std::vector<ResourceLimit> out = {
      {RLIMIT_FSIZE, limits.file_size_bytes}, {RLIMIT_NOFILE, limits.open_files}, {RLIMIT_CORE, 0}};
  if (!has(CgroupController::Memory)) {
    out.push_back({RLIMIT_AS, limits.memory_bytes});
  }
  if (!has(CgroupController::Cpu)) {
    // CPU seconds per process: the timeout times the profile's share of a core, rounded up.
    double seconds = std::chrono::duration<double>(spec.timeout).count() *
                     static_cast<double>(limits.cpu_millis_per_second) / 1000.0;
    out.push_back({RLIMIT_CPU, static_cast<uint64_t>(std::ceil(seconds)) + 1});
  }
  return out;
}

// The command the sandbox runs. Without a pids controller the process limit is RLIMIT_NPROC,
// set inside the sandbox by util-linux's prlimit: the kernel counts it per user and user
// namespace, so set outside it would count every process of the host user on the machine.
std::vector<std::string> SandboxRunner::command(const ProcessSpec& spec,
                                                const SandboxLimits& limits) const {
  if (has(CgroupController::Pids)) {
    return spec.argv;
  }
  std::vector<std::string> argv = {config_.prlimit_path,
                                   "--nproc=" + std::to_string(limits.max_processes), "--"};
  argv.insert(argv.end(), spec.argv.begin(), spec.argv.end());
  return argv;
}

// Ends a launch that failed before the command ran and explains why, with what bubblewrap
// said about it.
Status SandboxRunner::abandon(Launch& launch, Status why) const {
  ::kill(-launch.bwrap, SIGKILL);
  killByPidfd(launch.init_pidfd.get());
  ::waitpid(launch.bwrap, nullptr, 0);
  char buf[4096];
  pollfd pfd = {launch.err.get(), POLLIN, 0};
  ssize_t n = ::poll(&pfd, 1, 1000) == 1 ? ::read(launch.err.get(), buf, sizeof buf) : 0;
  std::string said =
      n > 0 ? std::string(trim(std::string_view(buf, static_cast<size_t>(n)))) : std::string();
  if (said.empty()) {
    return why;
  }
  return Status::unavailable(why.message() + ": " + said);
}

ProcessResult SandboxRunner::pump(Launch& launch, const ProcessSpec& spec, const RunCgroup* cgroup,
                                  Clock::time_point start) const {
  ProcessResult result;
  pid_t group = launch.bwrap;
  int init_pidfd = launch.init_pidfd.get();
  // Killing bubblewrap's init ends the PID namespace and so every process of the run; the
  // cgroup catches anything the kernel has not finished yet.
  auto kill_all = [group, init_pidfd, cgroup] {
    ::kill(-group, SIGKILL);
    killByPidfd(init_pidfd);
    if (cgroup != nullptr) {
      cgroup->killAll();
    }
  };
  ProcessPump loop(spec, launch.bwrap, std::move(launch.in), std::move(launch.out),
                   std::move(launch.err), kill_all, &result);
  loop.run(start);
  awaitExit(init_pidfd, kTeardownTimeout);
  return result;
}

Result<std::unique_ptr<RunCgroup>> SandboxRunner::cgroupFor(const SandboxLimits& limits) const {
  if (!cgroups_) {
    return std::unique_ptr<RunCgroup>();
  }
  // The sandbox's own init is one more process than the run asked for.
  return cgroups_->createRun(
      {limits.memory_bytes, limits.max_processes + 1, limits.cpu_millis_per_second});
}

Result<ProcessResult> SandboxRunner::run(const ProcessSpec& spec) {
  if (Status s = prepare(spec); !s.isOk()) {
    return s;
  }
  ignoreSigpipeOnce();
  const SandboxLimits& limits = limitsFor(spec.profile);
  auto cgroup = cgroupFor(limits);
  if (!cgroup.ok()) {
    return cgroup.status();
  }

  Clock::time_point start = Clock::now();
  auto pipes = pipesFor(spec);
  if (!pipes.ok()) {
    return pipes.status();
  }
  auto launched = spawn(spec, limits, *pipes);
  if (!launched.ok()) {
    return launched.status();
  }
  if (Status s = release(*launched, *pipes, cgroup->get()); !s.isOk()) {
    return abandon(*launched, s);
  }
  ProcessResult result = pump(*launched, spec, cgroup->get(), start);
  result.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();

  if (*cgroup) {
    CgroupUsage usage = (*cgroup)->usage();
    result.oom_killed = usage.oom_killed;
    result.process_limit_hit = usage.process_limit_hit;
    cgroup->reset();  // kills stragglers and removes the cgroup before we answer
  }
  return interpret(std::move(result));
}

// What a run must see for the sandbox to count as working, checked once at creation.
constexpr const char* kIsolationProbe =
    "id -u; "
    "while read -r line; do case $line in *:*) echo \"net:${line%%:*}\";; esac; done "
    "< /proc/net/dev; "
    "while read -r line; do case $line in CapEff:*|NoNewPrivs:*|Seccomp:*) echo $line;; esac; "
    "done < /proc/self/status; "
    "for p in /etc/shadow /root /home /var /run /sys/fs /proc/1/root/etc/shadow; do "
    "test -e $p && echo \"visible:$p\"; done; "
    "echo done";

// Compares the probe's output with what isolation must look like; names the first breach.
Status checkProbeOutput(const std::string& output, uid_t uid) {
  std::vector<std::string> expected = {
      std::to_string(uid), "net:lo",     "CapEff: 0000000000000000",
      "NoNewPrivs: 1",     "Seccomp: 2", "done"};
  std::vector<std::string> lines;
  for (std::string_view line : split(output, '\n')) {
    std::string normal = replaceAll(trim(line), "\t", " ");
    if (!normal.empty()) {
      lines.push_back(normal);
    }
  }
  if (lines != expected) {
    return Status::unavailable("sandbox: isolation check failed: expected \"" +
                               join(expected, "; ") + "\", got \"" + join(lines, "; ") + "\"");
  }
  return Status::ok();
}

// Hints for the start-up error when bubblewrap itself cannot set up a sandbox.
std::string hintFor(const std::string& bwrap_said, uid_t host_uid) {
  if (bwrap_said.find("namespace") != std::string::npos ||
      bwrap_said.find("uid map") != std::string::npos ||
      bwrap_said.find("Operation not permitted") != std::string::npos) {
    return " (user namespaces look unavailable to uid " + std::to_string(host_uid) +
           ": check sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone and "
           "AppArmor's restrict_unprivileged_userns)";
  }
  return "";
}

// Runs /bin/true and the isolation probe through a new runner.
Status selfTest(ProcessRunner& runner, const SandboxConfig& config) {
  uid_t host_uid = ::geteuid() == 0 ? config.host_uid : ::geteuid();
  ProcessSpec spec;
  spec.argv = {"/bin/true"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.timeout = std::chrono::seconds(10);
  auto r = runner.run(spec);
  if (!r.ok()) {
    return Status::unavailable(r.status().message() + hintFor(r.status().message(), host_uid));
  }
  if (r->exit_code != 0) {
    std::string said(trim(r->stderr_data));
    return Status::unavailable(
        "sandbox: /bin/true failed in the sandbox exit=" + std::to_string(r->exit_code) + ": " +
        said + hintFor(said, host_uid));
  }

  spec.argv = {"/bin/sh", "-c", kIsolationProbe};
  r = runner.run(spec);
  if (!r.ok()) {
    return r.status();
  }
  return checkProbeOutput(r->stdout_data, config.uid);
}

// The cgroup manager the policy asks for, or null with the reason there is none.
Result<std::unique_ptr<CgroupManager>> cgroupsFor(const SandboxConfig& config,
                                                  std::string* no_cgroup_reason) {
  if (config.cgroups == CgroupPolicy::Off) {
    *no_cgroup_reason = "cgroups turned off";
    return std::unique_ptr<CgroupManager>();
  }
  auto manager = CgroupManager::create(config.cgroup_options);
  if (manager.ok()) {
    return manager;
  }
  if (config.cgroups == CgroupPolicy::Required) {
    return Status::unavailable("sandbox: cgroups required but unusable: " +
                               manager.status().message());
  }
  *no_cgroup_reason = manager.status().message();
  return std::unique_ptr<CgroupManager>();
}

}  // namespace

Result<std::unique_ptr<ProcessRunner>> makeSandboxRunner(const SandboxConfig& config) {
  if (::access(config.bwrap_path.c_str(), X_OK) != 0) {
    return Status::unavailable("sandbox: bubblewrap not found at " + config.bwrap_path +
                               " (Debian package bubblewrap)");
  }
  auto program = buildSeccompFilter({config.allow_32bit_syscalls});
  if (!program.ok()) {
    return program.status();
  }
  std::string no_cgroup_reason;
  auto cgroups = cgroupsFor(config, &no_cgroup_reason);
  if (!cgroups.ok()) {
    return cgroups.status();
  }
  bool pids = *cgroups && (*cgroups)->has(CgroupController::Pids);
  if (!pids && ::access(config.prlimit_path.c_str(), X_OK) != 0) {
    return Status::unavailable("sandbox: no pids cgroup, and no " + config.prlimit_path +
                               " (util-linux) to limit processes with");
  }

  auto runner = std::make_unique<SandboxRunner>(config, std::move(*program), std::move(*cgroups),
                                                no_cgroup_reason);
  if (Status s = selfTest(*runner, config); !s.isOk()) {
    return s;
  }
  if (!no_cgroup_reason.empty()) {
    spdlog::warn("sandbox degraded: no cgroup, limits by rlimits only reason=\"{}\"",
                 no_cgroup_reason);
  }
  return std::unique_ptr<ProcessRunner>(std::move(runner));
}

namespace {

// The development mode: runs directly and says so on every run, so nobody mistakes it for a
// deployment.
class UnisolatedRunner : public ProcessRunner {
 public:
  UnisolatedRunner() : direct_(makeDirectRunner()) {}

  Result<ProcessResult> run(const ProcessSpec& spec) override {
    spdlog::warn("sandbox none: running without isolation exe={}", spec.argv.front());
    return direct_->run(spec);
  }

  std::string name() const override { return "none"; }

  std::string describe() const override {
    return "sandbox none: compilers and programs run as cex's own user, without isolation";
  }

 private:
  std::unique_ptr<ProcessRunner> direct_;
};

}  // namespace

Result<std::unique_ptr<ProcessRunner>> makeProcessRunner(std::string_view mode,
                                                         const SandboxConfig& config) {
  if (mode == "none") {
    spdlog::warn("sandbox none: compilers and programs run without isolation");
    return std::unique_ptr<ProcessRunner>(std::make_unique<UnisolatedRunner>());
  }
  if (mode == "bwrap") {
    return makeSandboxRunner(config);
  }
  return Status::invalidArgument("sandbox: unknown mode " + std::string(mode) +
                                 " (expected none or bwrap)");
}

SandboxLimits defaultCompilerLimits() {
  return {1280 * kMiB, 72, 1000, 1024 * kMiB, 300, 512 * kMiB};
}

SandboxLimits defaultUserProgramLimits() {
  return {200 * kMiB, 14, 500, 16 * kMiB, 100, 20 * kMiB};
}

}  // namespace cex

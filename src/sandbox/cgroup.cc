#include "sandbox/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <map>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "base/files.h"
#include "base/strings.h"
#include "sandbox/unique_fd.h"

namespace cex {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kRunPrefix = "run-";
// CFS bandwidth period; the quota is a share of it.
constexpr int64_t kCpuPeriodUs = 100000;
// How long a run's cgroup may take to empty after its processes were killed.
constexpr std::chrono::milliseconds kRemoveTimeout{2000};
// Passes over a v1 cgroup.procs list; each kills what the previous one missed.
constexpr int kKillPasses = 20;

// A mounted cgroup hierarchy, from /proc/self/mountinfo.
struct CgroupMount {
  bool v2 = false;
  std::string root;                  // the directory of the hierarchy shown at `point`, usually "/"
  std::string point;                 // where it is mounted
  std::vector<std::string> options;  // super options; v1 names its controllers here
};

std::string_view controllerName(CgroupController c) {
  switch (c) {
    case CgroupController::Memory:
      return "memory";
    case CgroupController::Pids:
      return "pids";
    case CgroupController::Cpu:
      return "cpu";
  }
  return "?";
}

// mountinfo escapes blanks and backslashes in paths as \ooo.
std::string unescapeOctal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int value = 0;
      auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 4, value, 8);
      if (ec == std::errc() && end == s.data() + i + 4) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::optional<CgroupMount> parseMountLine(std::string_view line) {
  size_t dash = line.find(" - ");
  if (dash == std::string_view::npos) {
    return std::nullopt;
  }
  auto before = split(line.substr(0, dash), ' ');
  auto after = split(line.substr(dash + 3), ' ');
  if (before.size() < 5 || after.size() < 3) {
    return std::nullopt;
  }
  if (after[0] != "cgroup" && after[0] != "cgroup2") {
    return std::nullopt;
  }
  CgroupMount m;
  m.v2 = after[0] == "cgroup2";
  m.root = unescapeOctal(before[3]);
  m.point = unescapeOctal(before[4]);
  m.options = splitNonEmpty(after[2], ',');
  return m;
}

std::vector<CgroupMount> readCgroupMounts() {
  std::vector<CgroupMount> mounts;
  auto text = readFile("/proc/self/mountinfo");
  if (!text.ok()) {
    return mounts;
  }
  for (std::string_view line : split(*text, '\n')) {
    if (auto m = parseMountLine(line)) {
      mounts.push_back(std::move(*m));
    }
  }
  return mounts;
}

// Our own cgroup in each hierarchy: v1 lines are keyed by each of their controllers, the v2
// line by "".
std::map<std::string, std::string> readOwnCgroups() {
  std::map<std::string, std::string> own;
  auto text = readFile("/proc/self/cgroup");
  if (!text.ok()) {
    return own;
  }
  for (std::string_view line : split(*text, '\n')) {
    auto fields = split(line, ':');
    if (fields.size() < 3) {
      continue;
    }
    std::string path(line.substr(fields[0].size() + fields[1].size() + 2));
    if (fields[1].empty()) {
      own[""] = path;
    }
    for (const auto& name : splitNonEmpty(fields[1], ',')) {
      own[name] = path;
    }
  }
  return own;
}

// The directory where hierarchy path `rel` ("/a/b") appears under a mount; nullopt when the
// mount shows only a part of the hierarchy that does not contain it.
std::optional<std::string> directoryFor(const CgroupMount& m, std::string rel) {
  std::string root = m.root == "/" ? "" : m.root;
  if (!rel.starts_with(root + "/") && rel != root) {
    return std::nullopt;
  }
  rel = rel.substr(root.size());
  while (rel.ends_with('/')) {
    rel.pop_back();
  }
  return m.point + rel;
}

std::string joinPath(const std::string& dir, std::string_view name) {
  return dir.ends_with('/') ? dir + std::string(name) : dir + "/" + std::string(name);
}

Status writeCgroupFile(const std::string& path, std::string_view value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Status::fromErrno("open " + path, errno);
  }
  if (::write(fd.get(), value.data(), value.size()) < 0) {
    return Status::fromErrno("write " + path, errno);
  }
  return Status::ok();
}

Status makeCgroupDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::fromErrno("cgroup: cannot create " + path, errno);
  }
  if (::access(joinPath(path, "cgroup.procs").c_str(), W_OK) != 0) {
    return Status::fromErrno("cgroup: cannot move processes into " + path, errno);
  }
  return Status::ok();
}

// A counter from a "key value" file such as memory.events; 0 when absent.
uint64_t readCounter(const std::string& path, std::string_view key) {
  auto text = readFile(path, 65536);
  if (!text.ok()) {
    return 0;
  }
  for (std::string_view line : split(*text, '\n')) {
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ' ') {
      uint64_t value = 0;
      std::string_view digits = trim(line.substr(key.size() + 1));
      std::from_chars(digits.data(), digits.data() + digits.size(), value);
      return value;
    }
  }
  return 0;
}

std::vector<pid_t> readProcs(const std::string& dir) {
  std::vector<pid_t> pids;
  auto text = readFile(joinPath(dir, "cgroup.procs"), 1 << 20);
  if (!text.ok()) {
    return pids;
  }
  for (std::string_view line : split(*text, '\n')) {
    pid_t pid = 0;
    if (std::from_chars(line.data(), line.data() + line.size(), pid).ec == std::errc()) {
      pids.push_back(pid);
    }
  }
  return pids;
}

// The pid that created a run cgroup, from its name "run-<pid>-<n>"; 0 for other names.
pid_t creatorOf(std::string_view name) {
  if (!name.starts_with(kRunPrefix)) {
    return 0;
  }
  name.remove_prefix(kRunPrefix.size());
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  return ec == std::errc() && end != name.data() + name.size() && *end == '-' ? pid : 0;
}

std::vector<std::string> listRunDirs(const std::string& parent) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(parent.c_str());
  if (dir == nullptr) {
    return names;
  }
  while (dirent* entry = ::readdir(dir)) {
    if (creatorOf(entry->d_name) != 0) {
      names.emplace_back(entry->d_name);
    }
  }
  ::closedir(dir);
  return names;
}

// Turns on each controller for the children of `dir`; one at a time so a missing cpu
// controller does not stop memory and pids.
void enableControllers(const std::string& dir) {
  for (auto c : {CgroupController::Memory, CgroupController::Pids, CgroupController::Cpu}) {
    Status s = writeCgroupFile(joinPath(dir, "cgroup.subtree_control"),
                               "+" + std::string(controllerName(c)));
    if (!s.isOk()) {
      spdlog::debug("cgroup enable failed controller={} error=\"{}\"", controllerName(c),
                    s.message());
    }
  }
}

std::vector<CgroupController> enabledControllers(const std::string& dir) {
  std::vector<CgroupController> out;
  auto text = readFile(joinPath(dir, "cgroup.subtree_control"), 65536);
  if (!text.ok()) {
    return out;
  }
  auto names = splitNonEmpty(replaceAll(*text, "\n", " "), ' ');
  for (auto c : {CgroupController::Memory, CgroupController::Pids, CgroupController::Cpu}) {
    if (std::find(names.begin(), names.end(), controllerName(c)) != names.end()) {
      out.push_back(c);
    }
  }
  return out;
}

// The unified hierarchy, when it carries the memory and pids controllers; on hybrid hosts
// (v2 mounted beside v1) the v1 hierarchies hold them and this finds nothing.
std::optional<std::string> findV2Mount() {
  for (const auto& m : readCgroupMounts()) {
    if (!m.v2 || m.root != "/") {
      continue;
    }
    auto text = readFile(joinPath(m.point, "cgroup.controllers"), 65536);
    auto names =
        text.ok() ? splitNonEmpty(replaceAll(*text, "\n", " "), ' ') : std::vector<std::string>();
    if (std::count(names.begin(), names.end(), "memory") &&
        std::count(names.begin(), names.end(), "pids")) {
      return m.point;
    }
  }
  return std::nullopt;
}

std::string parentOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

}  // namespace

// --- RunCgroup ---

RunCgroup::~RunCgroup() {
  Clock::time_point deadline = Clock::now() + kRemoveTimeout;
  auto pause = std::chrono::microseconds(200);
  killAll();
  for (const auto& dir : dirs_) {
    // Killed processes leave the cgroup only once the kernel has finished them.
    while (::rmdir(dir.c_str()) != 0 && errno == EBUSY && Clock::now() < deadline) {
      killAll();
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(10000));
    }
    if (::access(dir.c_str(), F_OK) == 0) {
      owner_->deferRemoval(dir);
    }
  }
}

Status RunCgroup::addProcess(pid_t pid) const {
  std::string value = std::to_string(pid);
  for (const auto& dir : dirs_) {
    if (Status s = writeCgroupFile(joinPath(dir, "cgroup.procs"), value); !s.isOk()) {
      return s;
    }
  }
  return Status::ok();
}

void RunCgroup::killAll() const {
  if (version_ == CgroupVersion::V2 && !dirs_.empty() &&
      writeCgroupFile(joinPath(dirs_[0], "cgroup.kill"), "1").isOk()) {
    return;
  }
  killListed();
}

void RunCgroup::killListed() const {
  for (int pass = 0; pass < kKillPasses; ++pass) {
    bool found = false;
    for (const auto& dir : dirs_) {
      for (pid_t pid : readProcs(dir)) {
        ::kill(pid, SIGKILL);
        found = true;
      }
    }
    if (!found) {
      return;
    }
  }
}

CgroupUsage RunCgroup::usage() const {
  CgroupUsage usage;
  if (!memory_dir_.empty()) {
    std::string file = version_ == CgroupVersion::V2 ? "memory.events" : "memory.oom_control";
    usage.oom_killed = readCounter(joinPath(memory_dir_, file), "oom_kill") > 0;
  }
  if (!pids_dir_.empty()) {
    usage.process_limit_hit = readCounter(joinPath(pids_dir_, "pids.events"), "max") > 0;
  }
  return usage;
}

// --- CgroupManager ---

Result<std::unique_ptr<CgroupManager>> CgroupManager::create(const CgroupOptions& options) {
  std::optional<std::string> v2_mount = findV2Mount();
  Result<std::unique_ptr<CgroupManager>> manager =
      !options.v2_mount_for_test.empty() ? createV2(options.v2_mount_for_test, options, false)
      : v2_mount                         ? createV2(*v2_mount, options, true)
                                         : createV1(options);
  if (!manager.ok()) {
    return manager.status();
  }

  // Prove that a run cgroup with limits can be made and removed before anyone relies on it.
  (*manager)->sweepStale();
  auto probe = (*manager)->createRun({64 << 20, 8, 500});
  if (!probe.ok()) {
    return probe.status();
  }
  return manager;
}

Result<std::unique_ptr<CgroupManager>> CgroupManager::createV1(const CgroupOptions& options) {
  auto mounts = readCgroupMounts();
  auto own = readOwnCgroups();
  std::vector<Hierarchy> hierarchies;
  for (auto c : {CgroupController::Memory, CgroupController::Pids, CgroupController::Cpu}) {
    std::string name(controllerName(c));
    auto mount = std::find_if(mounts.begin(), mounts.end(), [&](const CgroupMount& m) {
      return !m.v2 && std::find(m.options.begin(), m.options.end(), name) != m.options.end();
    });
    std::optional<std::string> dir;
    if (mount != mounts.end()) {
      dir = directoryFor(*mount,
                         options.parent.empty() ? joinPath(own[name], "cex") : options.parent);
    }
    Status s = !dir ? Status::unavailable("cgroup v1: no usable " + name + " hierarchy")
                    : makeCgroupDir(*dir);
    if (!s.isOk() && c == CgroupController::Cpu) {
      spdlog::warn("cgroup cpu controller unusable, runs get no cpu share error=\"{}\"",
                   s.message());
      continue;
    }
    if (!s.isOk()) {
      return s;
    }
    auto same = std::find_if(hierarchies.begin(), hierarchies.end(),
                             [&](const Hierarchy& h) { return h.parent_dir == *dir; });
    if (same != hierarchies.end()) {
      same->controllers.push_back(c);
    } else {
      hierarchies.push_back({*dir, {c}});
    }
  }
  return std::unique_ptr<CgroupManager>(
      new CgroupManager(CgroupVersion::V1, std::move(hierarchies)));
}

Result<std::unique_ptr<CgroupManager>> CgroupManager::createV2(const std::string& mount,
                                                               const CgroupOptions& options,
                                                               bool require_controllers) {
  std::string own = readOwnCgroups()[""];
  std::string rel = options.parent;
  if (rel.empty() && ::geteuid() == 0) {
    rel = "/cex";
  } else if (rel.empty()) {
    // A delegated subtree (systemd Delegate=yes): cex moves itself into a leaf, since v2
    // lets only a cgroup without processes hand controllers to its children.
    std::string own_dir = mount + (own == "/" ? "" : own);
    std::string leaf = joinPath(own_dir, "cex-main");
    Status s = makeCgroupDir(leaf);
    if (s.isOk()) {
      s = writeCgroupFile(joinPath(leaf, "cgroup.procs"), std::to_string(::getpid()));
    }
    if (!s.isOk()) {
      return Status::unavailable("cgroup v2: own cgroup " + own_dir +
                                 " is not delegated to us: " + s.message());
    }
    rel = (own == "/" ? "" : own) + "/cex-runs";
  }

  std::string dir = mount + (rel.starts_with('/') ? rel : "/" + rel);
  if (Status s = makeCgroupDir(dir); !s.isOk()) {
    return s;
  }
  enableControllers(parentOf(dir));
  enableControllers(dir);
  auto controllers = enabledControllers(dir);
  bool has_memory = std::count(controllers.begin(), controllers.end(), CgroupController::Memory);
  bool has_pids = std::count(controllers.begin(), controllers.end(), CgroupController::Pids);
  if (require_controllers && (!has_memory || !has_pids)) {
    return Status::unavailable("cgroup v2: memory and pids controllers cannot be enabled in " +
                               dir);
  }
  std::vector<Hierarchy> hierarchies = {{dir, controllers}};
  return std::unique_ptr<CgroupManager>(
      new CgroupManager(CgroupVersion::V2, std::move(hierarchies)));
}

CgroupManager::~CgroupManager() {
  retryDeferredRemovals();
}

bool CgroupManager::has(CgroupController controller) const {
  for (const auto& h : hierarchies_) {
    if (std::find(h.controllers.begin(), h.controllers.end(), controller) != h.controllers.end()) {
      return true;
    }
  }
  return false;
}

std::string CgroupManager::describe() const {
  std::vector<std::string> parts;
  for (const auto& h : hierarchies_) {
    std::vector<std::string> names;
    for (auto c : h.controllers) {
      names.emplace_back(controllerName(c));
    }
    parts.push_back((names.empty() ? "no controllers" : join(names, ",")) + " under " +
                    h.parent_dir);
  }
  return std::string(version_ == CgroupVersion::V1 ? "cgroup v1 " : "cgroup v2 ") +
         join(parts, "; ");
}

Result<std::unique_ptr<RunCgroup>> CgroupManager::createRun(const CgroupLimits& limits) {
  retryDeferredRemovals();
  std::string name = std::string(kRunPrefix) + std::to_string(::getpid()) + "-" +
                     std::to_string(next_run_.fetch_add(1));
  std::unique_ptr<RunCgroup> run(new RunCgroup(this, version_));
  for (const auto& h : hierarchies_) {
    std::string dir = joinPath(h.parent_dir, name);
    if (::mkdir(dir.c_str(), 0755) != 0) {
      return Status::fromErrno("mkdir " + dir, errno);  // The destructor removes the rest.
    }
    run->dirs_.push_back(dir);
    if (Status s = writeLimits(h, dir, limits); !s.isOk()) {
      return s;
    }
    for (auto c : h.controllers) {
      if (c == CgroupController::Memory) {
        run->memory_dir_ = dir;
      } else if (c == CgroupController::Pids) {
        run->pids_dir_ = dir;
      }
    }
  }
  return run;
}

Status CgroupManager::writeLimits(const Hierarchy& h, const std::string& dir,
                                  const CgroupLimits& l) const {
  bool v2 = version_ == CgroupVersion::V2;
  for (auto c : h.controllers) {
    Status s;
    if (c == CgroupController::Memory && l.memory_bytes > 0) {
      std::string bytes = std::to_string(l.memory_bytes);
      s = writeCgroupFile(joinPath(dir, v2 ? "memory.max" : "memory.limit_in_bytes"), bytes);
      // Swap would let a run go past its limit at the host's expense; the files are absent
      // where swap accounting is off, which is fine.
      if (s.isOk()) {
        writeCgroupFile(joinPath(dir, v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes"),
                        v2 ? "0" : bytes);
      }
    } else if (c == CgroupController::Pids && l.max_processes > 0) {
      s = writeCgroupFile(joinPath(dir, "pids.max"), std::to_string(l.max_processes));
    } else if (c == CgroupController::Cpu && l.cpu_millis_per_second > 0) {
      int64_t quota = l.cpu_millis_per_second * kCpuPeriodUs / 1000;
      if (v2) {
        s = writeCgroupFile(joinPath(dir, "cpu.max"),
                            std::to_string(quota) + " " + std::to_string(kCpuPeriodUs));
      } else {
        s = writeCgroupFile(joinPath(dir, "cpu.cfs_period_us"), std::to_string(kCpuPeriodUs));
        s = s.isOk() ? writeCgroupFile(joinPath(dir, "cpu.cfs_quota_us"), std::to_string(quota))
                     : s;
      }
    }
    if (!s.isOk()) {
      return s;
    }
  }
  return Status::ok();
}

void CgroupManager::sweepStale() const {
  int removed = 0;
  for (const auto& h : hierarchies_) {
    for (const auto& name : listRunDirs(h.parent_dir)) {
      pid_t creator = creatorOf(name);
      if (creator == ::getpid() || ::kill(creator, 0) == 0 || errno != ESRCH) {
        continue;  // Ours, or its cex is still alive.
      }
      std::string dir = joinPath(h.parent_dir, name);
      for (int pass = 0; pass < kKillPasses && !readProcs(dir).empty(); ++pass) {
        for (pid_t pid : readProcs(dir)) {
          ::kill(pid, SIGKILL);
        }
      }
      removed += ::rmdir(dir.c_str()) == 0 ? 1 : 0;
    }
  }
  if (removed > 0) {
    spdlog::info("cgroup removed cgroups of exited cex processes count={}", removed);
  }
}

void CgroupManager::deferRemoval(const std::string& dir) {
  spdlog::warn("cgroup still busy after the run, removal deferred dir={}", dir);
  std::lock_guard lock(mutex_);
  deferred_removals_.push_back(dir);
}

void CgroupManager::retryDeferredRemovals() {
  std::lock_guard lock(mutex_);
  std::erase_if(deferred_removals_, [](const std::string& dir) {
    for (pid_t pid : readProcs(dir)) {
      ::kill(pid, SIGKILL);
    }
    return ::rmdir(dir.c_str()) == 0 || errno == ENOENT;
  });
}

}  // namespace cex

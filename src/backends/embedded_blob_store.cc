#include "backends/embedded_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "backends/naming.h"
#include "base/files.h"
#include "base/hash.h"

namespace cex {

namespace {

using SystemClock = std::chrono::system_clock;

// Temporary files of a crashed writer are removed once they are this old.
constexpr auto kStaleTemporary = std::chrono::hours(1);
constexpr size_t kMaxFileName = 200;
constexpr const char* kTemporaryPrefix = ".tmp-";

// Where blobs live; the two kinds below.
class Storage {
 public:
  virtual ~Storage() = default;
  virtual Status put(std::string_view key, std::string_view data,
                     SystemClock::time_point expires) = 0;
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  virtual Status erase(std::string_view key) = 0;
  virtual size_t sweep() = 0;
};

// Blobs in a map; each value shares its bytes, so get() copies outside the lock.
class MemoryStorage final : public Storage {
 public:
  Status put(std::string_view key, std::string_view data,
             SystemClock::time_point expires) override {
    auto bytes = std::make_shared<const std::string>(data);
    std::lock_guard lock(mu_);
    blobs_[std::string(key)] = Blob{std::move(bytes), expires};
    return Status::ok();
  }

  Result<std::optional<std::string>> get(std::string_view key) override {
    std::shared_ptr<const std::string> bytes;
    {
      std::lock_guard lock(mu_);
      auto it = blobs_.find(std::string(key));
      if (it == blobs_.end() || it->second.expires <= SystemClock::now()) {
        return std::optional<std::string>();
      }
      bytes = it->second.bytes;
    }
    return std::optional<std::string>(*bytes);
  }

  Status erase(std::string_view key) override {
    std::lock_guard lock(mu_);
    blobs_.erase(std::string(key));
    return Status::ok();
  }

  size_t sweep() override {
    std::lock_guard lock(mu_);
    return std::erase_if(blobs_, [now = SystemClock::now()](const auto& entry) {
      return entry.second.expires <= now;
    });
  }

 private:
  struct Blob {
    std::shared_ptr<const std::string> bytes;
    SystemClock::time_point expires;
  };

  std::mutex mu_;
  std::unordered_map<std::string, Blob> blobs_;  // guarded by mu_
};

// The file name for `key`: letters, digits, '_' and '-' as they are, anything else as %XX, so
// no name starts with '.'; a name that would be too long becomes '~' and the key's digest.
std::string fileNameFor(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string name;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '_' || c == '-') {
      name += static_cast<char>(c);
    } else {
      name += '%';
      name += kHex[c >> 4];
      name += kHex[c & 15];
    }
  }
  return name.size() <= kMaxFileName ? name : "~" + hash128(key).toHex();
}

SystemClock::time_point mtimeOf(const struct stat& st) {
  return SystemClock::time_point(std::chrono::duration_cast<SystemClock::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

struct timespec timespecOf(SystemClock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

Status writeAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Status::fromErrno("blob write " + path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

Status readAll(int fd, size_t size, std::string& out, const std::string& path) {
  out.resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, out.data() + done, size - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Status::fromErrno("blob read " + path, errno);
    }
    if (n == 0) {
      break;
    }
    done += static_cast<size_t>(n);
  }
  // A file cut short under us (replaced meanwhile) reads as what was there.
  out.resize(done);
  return Status::ok();
}

// Blobs as files in one directory; the modification time of each is its expiry.
class DirectoryStorage final : public Storage {
 public:
  explicit DirectoryStorage(std::string dir) : dir_(std::move(dir)) {}

  Status put(std::string_view key, std::string_view data,
             SystemClock::time_point expires) override {
    std::string temporary = dir_ + "/" + kTemporaryPrefix + "XXXXXX";
    int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
    if (fd < 0) {
      return Status::fromErrno("blob create " + temporary, errno);
    }
    Status s = writeAll(fd, data, temporary);
    struct timespec times[2] = {{0, UTIME_OMIT}, timespecOf(expires)};
    if (s.isOk() && ::futimens(fd, times) != 0) {
      s = Status::fromErrno("blob set expiry " + temporary, errno);
    }
    if (::close(fd) != 0 && s.isOk()) {
      s = Status::fromErrno("blob close " + temporary, errno);
    }

    // The rename publishes the whole blob at once.
    std::string path = pathFor(key);
    if (s.isOk() && ::rename(temporary.c_str(), path.c_str()) != 0) {
      s = Status::fromErrno("blob rename " + path, errno);
    }
    if (!s.isOk()) {
      ::unlink(temporary.c_str());
    }
    return s;
  }

  Result<std::optional<std::string>> get(std::string_view key) override {
    std::string path = pathFor(key);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) {
        return std::optional<std::string>();
      }
      return Status::fromErrno("blob open " + path, errno);
    }

    struct stat st {};

    Status s = ::fstat(fd, &st) == 0 ? Status::ok() : Status::fromErrno("blob stat " + path, errno);
    std::string data;
    bool live = s.isOk() && mtimeOf(st) > SystemClock::now();
    if (live) {
      s = readAll(fd, static_cast<size_t>(st.st_size), data, path);
    }
    ::close(fd);
    if (!s.isOk()) {
      return s;
    }
    return live ? std::optional<std::string>(std::move(data)) : std::nullopt;
  }

  Status erase(std::string_view key) override {
    std::string path = pathFor(key);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::fromErrno("blob erase " + path, errno);
    }
    return Status::ok();
  }

  size_t sweep() override {
    DIR* dir = ::opendir(dir_.c_str());
    if (dir == nullptr) {
      spdlog::warn("blob sweep failed error={}", Status::fromErrno(dir_, errno).message());
      return 0;
    }
    size_t removed = 0;
    SystemClock::time_point now = SystemClock::now();
    // NOLINTNEXTLINE(concurrency-mt-unsafe): one thread reads this DIR stream.
    while (const dirent* entry = ::readdir(dir)) {
      std::string_view name = entry->d_name;
      if (name == "." || name == ".." || !isStale(name, now)) {
        continue;
      }
      if (::unlinkat(::dirfd(dir), entry->d_name, 0) == 0) {
        ++removed;
      }
    }
    ::closedir(dir);
    return removed;
  }

 private:
  std::string pathFor(std::string_view key) const { return dir_ + "/" + fileNameFor(key); }

  // An expired blob, or a temporary file whose writer must have died.
  bool isStale(std::string_view name, SystemClock::time_point now) const {
    struct stat st {};

    std::string path = dir_ + "/" + std::string(name);
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return false;
    }
    if (name.starts_with(kTemporaryPrefix)) {
      auto changed = SystemClock::from_time_t(st.st_ctim.tv_sec);
      return changed + kStaleTemporary < now;
    }
    return mtimeOf(st) <= now;
  }

  std::string dir_;
};

}  // namespace

struct EmbeddedBlobStore::Impl {
  std::unique_ptr<Storage> storage;

  // The sweeper: wakes every sweep_interval, or when stopping.
  std::chrono::milliseconds sweep_interval{60000};
  std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;  // guarded by mu
  std::thread sweeper;

  void sweepLoop() {
    std::unique_lock lock(mu);
    while (!wake.wait_for(lock, sweep_interval, [this] { return stopping; })) {
      lock.unlock();
      if (size_t removed = storage->sweep(); removed > 0) {
        spdlog::debug("blob sweep removed={}", removed);
      }
      lock.lock();
    }
  }
};

Result<std::unique_ptr<EmbeddedBlobStore>> EmbeddedBlobStore::open(
    const std::string& dir, std::chrono::milliseconds sweep_interval) {
  auto impl = std::make_unique<Impl>();
  impl->sweep_interval = sweep_interval;
  if (dir.empty()) {
    impl->storage = std::make_unique<MemoryStorage>();
  } else {
    if (Status s = makeDirectories(dir); !s.isOk()) {
      return s;
    }
    impl->storage = std::make_unique<DirectoryStorage>(dir);
  }
  impl->sweeper = std::thread([raw = impl.get()] { raw->sweepLoop(); });
  return std::unique_ptr<EmbeddedBlobStore>(new EmbeddedBlobStore(std::move(impl)));
}

EmbeddedBlobStore::EmbeddedBlobStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EmbeddedBlobStore::~EmbeddedBlobStore() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->sweeper.join();
}

Status EmbeddedBlobStore::put(std::string_view key, std::string_view data,
                              std::chrono::milliseconds ttl) {
  if (Status s = checkBlobKey(key); !s.isOk()) {
    return s;
  }
  if (ttl.count() <= 0) {
    return Status::invalidArgument("blob put: ttl must be positive");
  }
  return impl_->storage->put(key, data, SystemClock::now() + ttl);
}

Result<std::optional<std::string>> EmbeddedBlobStore::get(std::string_view key) {
  if (Status s = checkBlobKey(key); !s.isOk()) {
    return s;
  }
  return impl_->storage->get(key);
}

Status EmbeddedBlobStore::erase(std::string_view key) {
  if (Status s = checkBlobKey(key); !s.isOk()) {
    return s;
  }
  return impl_->storage->erase(key);
}

size_t EmbeddedBlobStore::sweep() {
  return impl_->storage->sweep();
}

}  // namespace cex

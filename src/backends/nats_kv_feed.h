#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "backends/nats_connection.h"
#include "base/status.h"

namespace cex {

// One key-value entry read from a NatsKvFeed.
struct KvFeedEntry {
  std::string key;
  std::optional<std::string> value;  // nullopt when the key was deleted or purged
};

// The entries of a KV bucket as they are stored: first the latest entry of every key that
// matches a pattern, then every later change. It is an ephemeral push consumer on the
// bucket's stream that cex makes and removes itself, delivering to a synchronous
// subscription, rather than the client library's watcher, whose consumer reset on reconnect
// races with its own teardown. A feed does not survive a reconnect: open a new one. Not
// thread-safe, except interrupt().
class NatsKvFeed {
 public:
  // Reads keys matching `pattern` (">" for all, "prod.>" for the keys below "prod.").
  static Result<std::unique_ptr<NatsKvFeed>> open(std::shared_ptr<NatsConnection> connection,
                                                  const std::string& bucket,
                                                  const std::string& pattern);
  // Unsubscribes and removes the consumer (the server drops it anyway once nobody listens).
  ~NatsKvFeed();
  NatsKvFeed(const NatsKvFeed&) = delete;
  NatsKvFeed& operator=(const NatsKvFeed&) = delete;

  // Whether every entry stored when the feed opened has been read.
  bool caughtUp() const { return caught_up_; }

  // The next entry within `timeout`, or nullopt. Fails when the feed broke (interrupted, a
  // message lost, the connection gone); it cannot be used after that.
  Result<std::optional<KvFeedEntry>> next(std::chrono::milliseconds timeout);

  // Makes a next() that is waiting, or the next one, fail at once. Safe from any thread.
  void interrupt();

 private:
  NatsKvFeed(std::shared_ptr<NatsConnection> connection, std::string bucket);
  Result<std::optional<KvFeedEntry>> decode(natsMsg* msg);

  std::shared_ptr<NatsConnection> connection_;
  std::string bucket_;
  std::string stream_;      // "KV_<bucket>"
  std::string key_prefix_;  // "$KV.<bucket>.", cut from subjects to give keys
  std::string consumer_;    // named by the server
  natsSubscription* sub_ = nullptr;
  uint64_t next_sequence_ = 1;  // the consumer sequence the next message must carry
  bool caught_up_ = false;
};

}  // namespace cex

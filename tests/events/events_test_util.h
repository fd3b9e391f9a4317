#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "backends/blob_store.h"
#include "backends/pub_sub.h"
#include "events/events_client.h"
#include "events/events_hub.h"
#include "events/events_protocol.h"

namespace cex {

inline constexpr std::chrono::milliseconds kTestWait{10'000};

// State under one lock with a condition to wait on: tests wait for what they expect instead of
// sleeping.
class Recorder {
 public:
  template <typename Change>
  void update(Change&& change) {
    {
      std::lock_guard lock(mu_);
      change();
    }
    cv_.notify_all();
  }

  template <typename Predicate>
  bool waitFor(Predicate&& predicate, std::chrono::milliseconds timeout = kTestWait) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, predicate);
  }

  template <typename Read>
  auto read(Read&& read) {
    std::lock_guard lock(mu_);
    return read();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

// Polls `condition` until it holds or `timeout` passes, for state that announces nothing (a
// hub's counters after a message from another hub).
template <typename Condition>
bool eventually(Condition&& condition, std::chrono::milliseconds timeout = kTestWait) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// A hub peer that records what it is sent, as the frames a gateway would write.
class RecordingPeer : public EventsPeer {
 public:
  void subscribed(const std::string& guid) override { add(std::string(kSubscribedPrefix) + guid); }

  void subscribeFailed(const std::string& guid, std::string_view reason) override {
    add(std::string(kSubscribeFailedPrefix) + guid + " " + std::string(reason));
  }

  void result(const std::string& guid, const std::string& json) override { add(json); }

  void acked(const std::string& guid, const std::string& acknowledged_by) override {
    add(ackFrame(guid, acknowledged_by));
  }

  void reply(std::string_view text) override { add(std::string(text)); }

  std::vector<std::string> frames() {
    return recorder_.read([&] { return frames_; });
  }

  // Takes the frames received so far.
  std::vector<std::string> take() {
    return recorder_.read([&] { return std::exchange(frames_, {}); });
  }

  bool waitForCount(size_t count) {
    return recorder_.waitFor([&] { return frames_.size() >= count; });
  }

 private:
  void add(std::string frame) {
    recorder_.update([&] { frames_.push_back(std::move(frame)); });
  }

  Recorder recorder_;
  std::vector<std::string> frames_;
};

// An in-memory PubSub for tests of hubs that share a namespace: delivers on a thread of its own,
// in publishing order, as real implementations do. Subjects match exactly or by a final ">".
class LoopbackPubSub : public PubSub {
 public:
  LoopbackPubSub() : thread_([this] { run(); }) {}

  ~LoopbackPubSub() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  LoopbackPubSub(const LoopbackPubSub&) = delete;
  LoopbackPubSub& operator=(const LoopbackPubSub&) = delete;

  Status publish(std::string_view subject, std::string_view data) override {
    {
      std::lock_guard lock(mu_);
      if (down_) {
        return Status::unavailable("loopback pubsub down");
      }
      queue_.emplace_back(std::string(subject), std::string(data));
      ++published_;
    }
    cv_.notify_all();
    return Status::ok();
  }

  Result<std::unique_ptr<PubSubSubscription>> subscribe(std::string_view subject,
                                                        PubSubCallback callback) override {
    std::lock_guard lock(mu_);
    if (down_) {
      return Status::unavailable("loopback pubsub down");
    }
    uint64_t id = next_id_++;
    subscribers_[id] = {std::string(subject), std::move(callback)};
    return std::unique_ptr<PubSubSubscription>(new Subscription(this, id));
  }

  // While down, publishes and subscribes fail.
  void setDown(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }

  uint64_t published() {
    std::lock_guard lock(mu_);
    return published_;
  }

 private:
  class Subscription : public PubSubSubscription {
   public:
    Subscription(LoopbackPubSub* owner, uint64_t id) : owner_(owner), id_(id) {}

    // Returns once no callback of this subscription runs.
    ~Subscription() override {
      std::lock_guard delivering(owner_->deliver_mu_);
      std::lock_guard lock(owner_->mu_);
      owner_->subscribers_.erase(id_);
    }

   private:
    LoopbackPubSub* owner_;
    uint64_t id_;
  };

  static bool matches(const std::string& pattern, const std::string& subject) {
    if (pattern.size() >= 2 && pattern.ends_with(".>")) {
      return subject.starts_with(pattern.substr(0, pattern.size() - 1));
    }
    return pattern == subject;
  }

  void run() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;
      }
      auto [subject, data] = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      deliver(subject, data);
      lock.lock();
    }
  }

  void deliver(const std::string& subject, const std::string& data) {
    std::lock_guard delivering(deliver_mu_);
    std::vector<PubSubCallback> targets;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, subscriber] : subscribers_) {
        if (matches(subscriber.first, subject)) {
          targets.push_back(subscriber.second);
        }
      }
    }
    for (auto& target : targets) {
      target(subject, std::string(data));
    }
  }

  std::mutex deliver_mu_;  // held while callbacks run
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, std::string>> queue_;
  std::map<uint64_t, std::pair<std::string, PubSubCallback>> subscribers_;
  uint64_t next_id_ = 1;
  uint64_t published_ = 0;
  bool down_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

// Everything one client's callbacks reported.
struct ClientLog : Recorder {
  std::vector<std::pair<std::string, std::string>> results;
  std::vector<std::pair<std::string, Status>> confirmations;
  std::vector<std::pair<std::string, Status>> acks;

  EventsResultHandler resultHandler() {
    return [this](const std::string& guid, std::string&& json) {
      update([&] { results.emplace_back(guid, std::move(json)); });
    };
  }

  EventsDone confirmation(std::string guid) {
    return [this, guid](const Status& status) {
      update([&] { confirmations.emplace_back(guid, status); });
    };
  }

  EventsDone ack(std::string guid) {
    return [this, guid](const Status& status) {
      update([&] { acks.emplace_back(guid, status); });
    };
  }

  // The status reported for `guid` in `list`, once there is one.
  std::optional<Status> waitStatus(std::vector<std::pair<std::string, Status>>& list,
                                   const std::string& guid) {
    std::optional<Status> found;
    waitFor([&] {
      for (const auto& [g, status] : list) {
        if (g == guid) {
          found = status;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  std::optional<std::string> waitResult(const std::string& guid) {
    std::optional<std::string> found;
    waitFor([&] {
      for (const auto& [g, json] : results) {
        if (g == guid) {
          found = json;
          return true;
        }
      }
      return false;
    });
    return found;
  }
};

// A clock that moves only when a test moves it.
class FakeClock {
 public:
  std::chrono::steady_clock::time_point now() {
    std::lock_guard lock(mu_);
    return now_;
  }

  void advance(std::chrono::milliseconds by) {
    std::lock_guard lock(mu_);
    now_ += by;
  }

  std::function<std::chrono::steady_clock::time_point()> function() {
    return [this] {
      return now();
    };
  }

 private:
  std::mutex mu_;
  std::chrono::steady_clock::time_point now_ = std::chrono::steady_clock::now();
};

}  // namespace cex

#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "events/events_client.h"

namespace cex {

// How an EventsClient reaches its hub: a WebSocket connection or direct calls. The core calls
// it from the core's thread only.
class EventsClient::Transport {
 public:
  virtual ~Transport() = default;

  virtual bool connected() const = 0;

  // Each returns false when nothing could be sent (no connection); the core then sends again
  // once connectionOpened() is called.
  virtual bool sendSubscribe(const std::string& guid) = 0;
  virtual bool sendUnsubscribe(const std::string& guid) = 0;
  virtual bool sendAck(const std::string& guid) = 0;
  virtual bool sendPublish(const std::string& guid, const std::string& json) = 0;

  // Ends the connection for good; once it returns the transport calls the core no more, and
  // later sends return false.
  virtual void stop() = 0;
};

// The state shared by both transports: subscriptions still waited for, results still
// unacknowledged, acks not yet sent, and the timers that retry or give up on them. All of it
// lives on one thread of the core's own; the methods below only queue work for it, so any
// thread (the caller's, the transport's) may call them.
class EventsClient::Core {
 public:
  Core(EventsClientOptions options, EventsResultHandler on_result);
  // Stops the thread if stop() was not called.
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;
  Core(Core&&) = delete;
  Core& operator=(Core&&) = delete;

  // Starts the thread; `transport` must outlive stop().
  void start(Transport* transport);

  // Runs what is queued, completes every pending callback with Unavailable and joins the
  // thread. Not from the core's thread.
  void stop();

  // The client's API (see EventsClient).
  void subscribe(std::string guid, EventsDone on_confirmed);
  void unsubscribe(std::string guid);
  void ack(std::string guid);
  void publish(std::string guid, std::string json, EventsDone on_acked);

  // What the transport hears.
  void connectionOpened();
  void subscribed(std::string guid);
  void subscribeFailed(std::string guid, std::string reason);
  void result(std::string guid, std::string&& json);
  void acked(std::string guid);
  // A text frame from a gateway, parsed into one of the above (or ignored).
  void frame(std::string&& text);

 private:
  using Clock = std::chrono::steady_clock;

  struct Subscription {
    EventsDone on_confirmed;  // empty once called
    uint64_t generation = 0;
    bool received = false;
  };

  struct Publication {
    std::string json;
    EventsDone on_acked;
    uint64_t generation = 0;
    uint64_t resend_generation = 0;  // of the one Resend timer that counts
    int sends = 0;                   // on the current connection
  };

  enum class TimerKind { SubscribeTimeout, Resend, PublishDeadline };

  struct Timer {
    Clock::time_point at;
    TimerKind kind;
    std::string guid;
    uint64_t generation;

    bool operator>(const Timer& other) const { return at > other.at; }
  };

  void post(std::function<void()> task);
  void loop();
  void fireTimers();
  void fireTimer(const Timer& timer);
  void failAll();

  // On the core's thread.
  void doSubscribe(std::string guid, EventsDone on_confirmed);
  void doUnsubscribe(const std::string& guid);
  void doAck(std::string guid);
  void doPublish(std::string guid, std::string json, EventsDone on_acked);
  void doConnectionOpened();
  void doSubscribed(const std::string& guid);
  void doSubscribeFailed(const std::string& guid, const std::string& reason);
  void doResult(const std::string& guid, std::string&& json);
  void doAcked(const std::string& guid);
  void doFrame(std::string&& text);
  void sendPublication(const std::string& guid, Publication& publication);
  void resend(const std::string& guid, uint64_t generation);
  void addTimer(Clock::duration after, TimerKind kind, const std::string& guid,
                uint64_t generation);
  static void complete(EventsDone& done, const Status& status);

  const EventsClientOptions options_;
  const EventsResultHandler on_result_;
  Transport* transport_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread thread_;

  // The core's thread only.
  uint64_t next_generation_ = 1;
  std::unordered_map<std::string, Subscription> subscriptions_;
  std::unordered_map<std::string, Publication> publications_;
  std::deque<std::pair<Clock::time_point, std::string>> unsent_acks_;  // oldest first
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
};

}  // namespace cex

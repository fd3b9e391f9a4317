#include "backends/nats_pub_sub.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "backends/naming.h"

namespace cex {

namespace {

// How long destroying a subscription waits for the library to finish with it.
constexpr auto kCompleteWait = std::chrono::seconds(5);

// What a subscription shares with the client library's callbacks. The library holds its own
// reference (the closure), dropped by onComplete, after which it calls nothing more.
struct SubscriptionState {
  std::string pattern;
  PubSubCallback callback;
  std::mutex mu;
  std::condition_variable finished;
  bool complete = false;       // guarded by mu
  std::thread::id delivering;  // guarded by mu: the thread inside the callback
};

using StateRef = std::shared_ptr<SubscriptionState>;

void onMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  SubscriptionState& state = **static_cast<StateRef*>(closure);
  std::string subject = natsMsg_GetSubject(msg);
  std::string data(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
  {
    std::lock_guard lock(state.mu);
    state.delivering = std::this_thread::get_id();
  }
  // Nothing may throw into the C library.
  try {
    state.callback(subject, std::move(data));
  } catch (const std::exception& e) {
    spdlog::error("pubsub callback threw subject={} error={}", subject, e.what());
  } catch (...) {
    spdlog::error("pubsub callback threw subject={}", subject);
  }
  std::lock_guard lock(state.mu);
  state.delivering = std::thread::id();
}

void onComplete(void* closure) {
  auto* ref = static_cast<StateRef*>(closure);
  {
    std::lock_guard lock((*ref)->mu);
    (*ref)->complete = true;
    (*ref)->finished.notify_all();
  }
  delete ref;
}

// Unsubscribes when destroyed, and waits until no callback runs any more (unless destroyed
// from inside the callback).
class NatsSubscription final : public PubSubSubscription {
 public:
  NatsSubscription(std::shared_ptr<NatsConnection> connection, StateRef state,
                   natsSubscription* sub)
      : connection_(std::move(connection)), state_(std::move(state)), sub_(sub) {}

  ~NatsSubscription() override {
    natsSubscription_Unsubscribe(sub_);
    std::unique_lock lock(state_->mu);
    if (state_->delivering != std::this_thread::get_id()) {
      state_->finished.wait_for(lock, kCompleteWait, [&] { return state_->complete; });
    }
    lock.unlock();
    natsSubscription_Destroy(sub_);
  }

  NatsSubscription(const NatsSubscription&) = delete;
  NatsSubscription& operator=(const NatsSubscription&) = delete;

 private:
  std::shared_ptr<NatsConnection> connection_;  // outlives the subscription
  StateRef state_;
  natsSubscription* sub_;
};

}  // namespace

NatsPubSub::NatsPubSub(std::shared_ptr<NatsConnection> connection)
    : connection_(std::move(connection)) {}

NatsPubSub::~NatsPubSub() = default;

Status NatsPubSub::publish(std::string_view subject, std::string_view data) {
  if (Status s = checkSubject(subject, false); !s.isOk()) {
    return s;
  }
  if (Status s = connection_->checkConnected("publish", subject); !s.isOk()) {
    return s;
  }
  natsStatus s = natsConnection_Publish(connection_->raw(), std::string(subject).c_str(),
                                        data.data(), static_cast<int>(data.size()));
  return s == NATS_OK ? Status::ok() : natsError(s, "publish", subject);
}

Result<std::unique_ptr<PubSubSubscription>> NatsPubSub::subscribe(std::string_view subject,
                                                                  PubSubCallback callback) {
  if (Status s = checkSubject(subject, true); !s.isOk()) {
    return s;
  }
  if (Status s = connection_->checkConnected("subscribe", subject); !s.isOk()) {
    return s;
  }
  auto state = std::make_shared<SubscriptionState>();
  state->pattern = std::string(subject);
  state->callback = std::move(callback);
  auto* closure = new StateRef(state);
  natsSubscription* sub = nullptr;
  natsStatus s = natsConnection_Subscribe(&sub, connection_->raw(), state->pattern.c_str(),
                                          onMessage, closure);
  if (s != NATS_OK) {
    delete closure;
    return natsError(s, "subscribe", subject);
  }
  s = natsSubscription_SetOnCompleteCB(sub, onComplete, closure);
  if (s != NATS_OK) {
    // A callback may be running already, so the closure is left to it rather than freed.
    Status failed = natsError(s, "subscribe", subject);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    return failed;
  }
  auto subscription = std::make_unique<NatsSubscription>(connection_, state, sub);

  // A round trip makes sure the server has the interest before anything else is published.
  s = natsConnection_FlushTimeout(connection_->raw(),
                                  connection_->options().request_timeout.count());
  if (s != NATS_OK) {
    return natsError(s, "subscribe", subject);
  }
  return std::unique_ptr<PubSubSubscription>(std::move(subscription));
}

}  // namespace cex

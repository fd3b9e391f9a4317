#include "events/events_client_core.h"

#include <exception>
#include <string_view>

#include <spdlog/spdlog.h>

#include "events/events_protocol.h"
#include "events/frame_fields.h"

namespace cex {

namespace {

// Acks kept for the next connection; beyond this the oldest are dropped (their publishers
// retry, and the hub answers a retry of an acknowledged guid by itself).
constexpr size_t kMaxUnsentAcks = 10'000;

}  // namespace

EventsClient::Core::Core(EventsClientOptions options, EventsResultHandler on_result)
    : options_(options), on_result_(std::move(on_result)) {}

EventsClient::Core::~Core() {
  stop();
}

void EventsClient::Core::start(Transport* transport) {
  transport_ = transport;
  thread_ = std::thread([this] { loop(); });
}

void EventsClient::Core::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void EventsClient::Core::post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_all();
}

// Runs queued work first, then whatever timers are due; sleeps until the next of either.
void EventsClient::Core::loop() {
  std::unique_lock lock(mu_);
  while (true) {
    if (!tasks_.empty()) {
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
      continue;
    }
    if (stopping_) {
      break;
    }
    if (timers_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, timers_.top().at);
    }
    lock.unlock();
    fireTimers();
    lock.lock();
  }
  lock.unlock();
  failAll();
}

void EventsClient::Core::fireTimers() {
  Clock::time_point now = Clock::now();
  while (!timers_.empty() && timers_.top().at <= now) {
    Timer timer = timers_.top();
    timers_.pop();
    fireTimer(timer);
  }
}

void EventsClient::Core::fireTimer(const Timer& timer) {
  switch (timer.kind) {
    case TimerKind::SubscribeTimeout: {
      auto it = subscriptions_.find(timer.guid);
      if (it != subscriptions_.end() && it->second.generation == timer.generation) {
        complete(it->second.on_confirmed,
                 Status::timeout("events subscribe: no confirmation for " + timer.guid));
      }
      return;
    }
    case TimerKind::Resend:
      resend(timer.guid, timer.generation);
      return;
    case TimerKind::PublishDeadline: {
      auto it = publications_.find(timer.guid);
      if (it != publications_.end() && it->second.generation == timer.generation) {
        spdlog::warn("events publish gave up guid={} reason=deadline", timer.guid);
        EventsDone done = std::move(it->second.on_acked);
        publications_.erase(it);
        complete(done, Status::timeout("events publish: no ack for " + timer.guid));
      }
      return;
    }
  }
}

void EventsClient::Core::failAll() {
  for (auto& [guid, subscription] : subscriptions_) {
    complete(subscription.on_confirmed, Status::unavailable("events client stopped"));
  }
  for (auto& [guid, publication] : publications_) {
    complete(publication.on_acked, Status::unavailable("events client stopped"));
  }
  subscriptions_.clear();
  publications_.clear();
}

void EventsClient::Core::complete(EventsDone& done, const Status& status) {
  if (!done) {
    return;
  }
  EventsDone once = std::move(done);
  done = nullptr;
  try {
    once(status);
  } catch (const std::exception& e) {
    spdlog::error("events client callback threw error=\"{}\"", e.what());
  } catch (...) {
    spdlog::error("events client callback threw");
  }
}

void EventsClient::Core::addTimer(Clock::duration after, TimerKind kind, const std::string& guid,
                                  uint64_t generation) {
  timers_.push(Timer{Clock::now() + after, kind, guid, generation});
}

// ----------------------------------------------------------------------------------------------
// The API: queued for the core's thread

void EventsClient::Core::subscribe(std::string guid, EventsDone on_confirmed) {
  post([this, guid = std::move(guid), done = std::move(on_confirmed)]() mutable {
    doSubscribe(std::move(guid), std::move(done));
  });
}

void EventsClient::Core::unsubscribe(std::string guid) {
  post([this, guid = std::move(guid)] { doUnsubscribe(guid); });
}

void EventsClient::Core::ack(std::string guid) {
  post([this, guid = std::move(guid)]() mutable { doAck(std::move(guid)); });
}

void EventsClient::Core::publish(std::string guid, std::string json, EventsDone on_acked) {
  post(
      [this, guid = std::move(guid), json = std::move(json), done = std::move(on_acked)]() mutable {
        doPublish(std::move(guid), std::move(json), std::move(done));
      });
}

void EventsClient::Core::connectionOpened() {
  post([this] { doConnectionOpened(); });
}

void EventsClient::Core::subscribed(std::string guid) {
  post([this, guid = std::move(guid)] { doSubscribed(guid); });
}

void EventsClient::Core::subscribeFailed(std::string guid, std::string reason) {
  post([this, guid = std::move(guid), reason = std::move(reason)] {
    doSubscribeFailed(guid, reason);
  });
}

void EventsClient::Core::result(std::string guid, std::string&& json) {
  post([this, guid = std::move(guid), json = std::move(json)]() mutable {
    doResult(guid, std::move(json));
  });
}

void EventsClient::Core::acked(std::string guid) {
  post([this, guid = std::move(guid)] { doAcked(guid); });
}

void EventsClient::Core::frame(std::string&& text) {
  post([this, text = std::move(text)]() mutable { doFrame(std::move(text)); });
}

// ----------------------------------------------------------------------------------------------
// On the core's thread

void EventsClient::Core::doSubscribe(std::string guid, EventsDone on_confirmed) {
  if (!isValidGuid(guid)) {
    complete(on_confirmed, Status::invalidArgument("events subscribe: bad guid"));
    return;
  }
  Subscription& subscription = subscriptions_[guid];
  complete(subscription.on_confirmed, Status::unavailable("events subscribe: subscribed again"));
  subscription = Subscription{std::move(on_confirmed), next_generation_++, false};
  addTimer(options_.subscribe_timeout, TimerKind::SubscribeTimeout, guid, subscription.generation);
  // Without a connection it goes out once one opens.
  transport_->sendSubscribe(guid);
}

void EventsClient::Core::doUnsubscribe(const std::string& guid) {
  auto it = subscriptions_.find(guid);
  if (it == subscriptions_.end()) {
    return;
  }
  EventsDone done = std::move(it->second.on_confirmed);
  subscriptions_.erase(it);
  complete(done, Status::unavailable("events subscribe: unsubscribed"));
  transport_->sendUnsubscribe(guid);
}

void EventsClient::Core::doAck(std::string guid) {
  if (!isValidGuid(guid) || transport_->sendAck(guid)) {
    return;
  }
  unsent_acks_.emplace_back(Clock::now() + options_.ack_retention, std::move(guid));
  if (unsent_acks_.size() > kMaxUnsentAcks) {
    unsent_acks_.pop_front();
  }
}

void EventsClient::Core::doPublish(std::string guid, std::string json, EventsDone on_acked) {
  if (!isValidGuid(guid)) {
    complete(on_acked, Status::invalidArgument("events publish: bad guid"));
    return;
  }
  Publication& publication = publications_[guid];
  complete(publication.on_acked, Status::unavailable("events publish: published again"));
  publication = Publication{std::move(json), std::move(on_acked), next_generation_++, 0, 0};
  addTimer(options_.publish_deadline, TimerKind::PublishDeadline, guid, publication.generation);
  sendPublication(guid, publication);
}

// Sends the result and arms the timer for the next try; without a connection it waits for one.
void EventsClient::Core::sendPublication(const std::string& guid, Publication& publication) {
  if (!transport_->sendPublish(guid, publication.json)) {
    return;
  }
  ++publication.sends;
  publication.resend_generation = next_generation_++;
  addTimer(options_.ack_wait, TimerKind::Resend, guid, publication.resend_generation);
}

void EventsClient::Core::resend(const std::string& guid, uint64_t generation) {
  auto it = publications_.find(guid);
  if (it == publications_.end() || it->second.resend_generation != generation ||
      !transport_->connected()) {
    return;
  }
  if (it->second.sends < options_.max_sends) {
    spdlog::debug("events publish resent guid={} sends={}", guid, it->second.sends);
    sendPublication(guid, it->second);
    return;
  }
  spdlog::warn("events publish gave up guid={} sends={} reason=no_ack", guid, it->second.sends);
  EventsDone done = std::move(it->second.on_acked);
  publications_.erase(it);
  complete(done, Status::timeout("events publish: no ack for " + guid));
}

// A new connection knows nothing of this client: everything still open goes out again.
void EventsClient::Core::doConnectionOpened() {
  for (const auto& [guid, subscription] : subscriptions_) {
    if (!subscription.received) {
      transport_->sendSubscribe(guid);
    }
  }
  for (auto& [guid, publication] : publications_) {
    publication.sends = 0;
    sendPublication(guid, publication);
  }
  Clock::time_point now = Clock::now();
  std::deque<std::pair<Clock::time_point, std::string>> acks = std::move(unsent_acks_);
  unsent_acks_.clear();
  for (auto& [until, guid] : acks) {
    if (until > now) {
      doAck(std::move(guid));
    }
  }
  spdlog::debug("events client resumed subscriptions={} publications={}", subscriptions_.size(),
                publications_.size());
}

void EventsClient::Core::doSubscribed(const std::string& guid) {
  auto it = subscriptions_.find(guid);
  if (it != subscriptions_.end()) {
    complete(it->second.on_confirmed, Status::ok());
  }
}

void EventsClient::Core::doSubscribeFailed(const std::string& guid, const std::string& reason) {
  auto it = subscriptions_.find(guid);
  if (it == subscriptions_.end()) {
    return;
  }
  spdlog::warn("events subscribe refused guid={} reason=\"{}\"", guid, reason);
  EventsDone done = std::move(it->second.on_confirmed);
  subscriptions_.erase(it);
  complete(done, Status::resourceExhausted("events subscribe: refused: " + reason));
}

void EventsClient::Core::doResult(const std::string& guid, std::string&& json) {
  auto it = subscriptions_.find(guid);
  if (it == subscriptions_.end() || it->second.received) {
    spdlog::debug("events result ignored guid={} reason={}", guid,
                  it == subscriptions_.end() ? "not_subscribed" : "duplicate");
    return;
  }
  // A result proves the subscription, should its confirmation still be on the way.
  complete(it->second.on_confirmed, Status::ok());
  it->second.received = true;
  try {
    on_result_(guid, std::move(json));
  } catch (const std::exception& e) {
    spdlog::error("events result handler threw guid={} error=\"{}\"", guid, e.what());
  } catch (...) {
    spdlog::error("events result handler threw guid={}", guid);
  }
}

void EventsClient::Core::doAcked(const std::string& guid) {
  auto it = publications_.find(guid);
  if (it == publications_.end()) {
    return;
  }
  EventsDone done = std::move(it->second.on_acked);
  publications_.erase(it);
  complete(done, Status::ok());
}

// Frames from a gateway: JSON objects are results or ack notices; text is a reply.
void EventsClient::Core::doFrame(std::string&& text) {
  if (!text.empty() && text[0] == '{') {
    auto fields = scanFrameFields(text);
    if (!fields.ok() || !fields->guid) {
      spdlog::debug("events client ignored object bytes={}", text.size());
      return;
    }
    if (fields->type == "ack" && fields->acknowledged_by) {
      doAcked(*fields->guid);
      return;
    }
    doResult(*fields->guid, std::move(text));
    return;
  }
  std::string_view view = text;
  if (view.starts_with(kSubscribedPrefix)) {
    doSubscribed(std::string(view.substr(kSubscribedPrefix.size())));
    return;
  }
  if (view.starts_with(kSubscribeFailedPrefix)) {
    view.remove_prefix(kSubscribeFailedPrefix.size());
    size_t space = view.find(' ');
    std::string_view reason = space == std::string_view::npos ? "" : view.substr(space + 1);
    doSubscribeFailed(std::string(view.substr(0, space)), std::string(reason));
    return;
  }
  if (view != kPong) {
    spdlog::debug("events client reply text=\"{}\"", view.substr(0, 64));
  }
}

}  // namespace cex

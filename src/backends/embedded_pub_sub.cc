#include "backends/embedded_pub_sub.h"

#include "backends/naming.h"
#include "backends/serial_executor.h"

namespace cex {

namespace {

// One subscription: its pattern, its callback and the thread that runs it.
struct Subscriber {
  std::string pattern;
  PubSubCallback callback;
  std::unique_ptr<SerialExecutor> executor;
};

}  // namespace

struct EmbeddedPubSub::Registry {
  std::mutex mu;
  std::list<std::shared_ptr<Subscriber>> subscribers;  // guarded by mu
};

namespace {

// Unregisters and stops its subscriber when destroyed.
class EmbeddedSubscription final : public PubSubSubscription {
 public:
  EmbeddedSubscription(std::shared_ptr<EmbeddedPubSub::Registry> registry,
                       std::shared_ptr<Subscriber> subscriber)
      : registry_(std::move(registry)), subscriber_(std::move(subscriber)) {}

  ~EmbeddedSubscription() override {
    {
      std::lock_guard lock(registry_->mu);
      registry_->subscribers.remove(subscriber_);
    }
    // Nothing more is posted; this drops what is queued and waits for a running callback.
    subscriber_->executor.reset();
  }

  EmbeddedSubscription(const EmbeddedSubscription&) = delete;
  EmbeddedSubscription& operator=(const EmbeddedSubscription&) = delete;

 private:
  std::shared_ptr<EmbeddedPubSub::Registry> registry_;
  std::shared_ptr<Subscriber> subscriber_;
};

}  // namespace

EmbeddedPubSub::EmbeddedPubSub() : registry_(std::make_shared<Registry>()) {}

EmbeddedPubSub::~EmbeddedPubSub() = default;

Status EmbeddedPubSub::publish(std::string_view subject, std::string_view data) {
  if (Status s = checkSubject(subject, false); !s.isOk()) {
    return s;
  }
  std::string subject_copy(subject);
  std::lock_guard lock(registry_->mu);
  for (const std::shared_ptr<Subscriber>& subscriber : registry_->subscribers) {
    if (!subjectMatches(subscriber->pattern, subject)) {
      continue;
    }
    // The task holds the subscriber, so its callback outlives a subscription destroyed from
    // inside it.
    subscriber->executor->post([subscriber, subject_copy, data = std::string(data)]() mutable {
      subscriber->callback(subject_copy, std::move(data));
    });
  }
  return Status::ok();
}

Result<std::unique_ptr<PubSubSubscription>> EmbeddedPubSub::subscribe(std::string_view subject,
                                                                      PubSubCallback callback) {
  if (Status s = checkSubject(subject, true); !s.isOk()) {
    return s;
  }
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->pattern = std::string(subject);
  subscriber->callback = std::move(callback);
  subscriber->executor = std::make_unique<SerialExecutor>("pubsub " + subscriber->pattern);
  {
    std::lock_guard lock(registry_->mu);
    registry_->subscribers.push_back(subscriber);
  }
  return std::unique_ptr<PubSubSubscription>(
      std::make_unique<EmbeddedSubscription>(registry_, std::move(subscriber)));
}

}  // namespace cex

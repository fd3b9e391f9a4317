#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "backends/pub_sub.h"

namespace cex {

// Pub/sub within this process. Each subscription has a thread of its own that runs its
// callback, so publish() never waits for a subscriber.
class EmbeddedPubSub final : public PubSub {
 public:
  EmbeddedPubSub();
  ~EmbeddedPubSub() override;
  EmbeddedPubSub(const EmbeddedPubSub&) = delete;
  EmbeddedPubSub& operator=(const EmbeddedPubSub&) = delete;

  Status publish(std::string_view subject, std::string_view data) override;
  Result<std::unique_ptr<PubSubSubscription>> subscribe(std::string_view subject,
                                                        PubSubCallback callback) override;

  // The live subscriptions, shared with the subscription handles.
  struct Registry;

 private:
  std::shared_ptr<Registry> registry_;
};

}  // namespace cex

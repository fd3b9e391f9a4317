#pragma once

#include <memory>
#include <string_view>

#include "backends/nats_connection.h"
#include "backends/pub_sub.h"

namespace cex {

// Pub/sub on core NATS subjects. subscribe() returns after a round trip to the server, so the
// subscription is active there when it returns. A subscription survives reconnects (the
// client library subscribes again); messages published while it is away are lost, as the
// interface allows.
class NatsPubSub final : public PubSub {
 public:
  explicit NatsPubSub(std::shared_ptr<NatsConnection> connection);
  ~NatsPubSub() override;
  NatsPubSub(const NatsPubSub&) = delete;
  NatsPubSub& operator=(const NatsPubSub&) = delete;

  Status publish(std::string_view subject, std::string_view data) override;
  Result<std::unique_ptr<PubSubSubscription>> subscribe(std::string_view subject,
                                                        PubSubCallback callback) override;

 private:
  std::shared_ptr<NatsConnection> connection_;
};

}  // namespace cex

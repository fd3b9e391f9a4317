#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cex {

// A running subscription; messages stop arriving when it is destroyed (a callback that is
// running then finishes first, unless it is destroyed from inside its own callback).
class PubSubSubscription {
 public:
  virtual ~PubSubSubscription() = default;
};

using PubSubCallback = std::function<void(const std::string& subject, std::string&& data)>;

// Fire-and-forget messages on subjects, between processes (events gateways share results and
// acks this way). Subjects are non-empty dot-separated tokens of printable ASCII without
// spaces, '*' or '>'. A subscription pattern may use '*' for one whole token and end in ".>"
// (or be ">") to match every subject below it. A message reaches every subscription that
// exists when it is published, at most once; nothing is stored for later subscribers.
// Thread-safe; each subscription's callback runs on a thread of the implementation's, one
// message at a time, in publishing order per publisher.
class PubSub {
 public:
  virtual ~PubSub() = default;
  // Fails with Unavailable when the backend cannot be reached now.
  virtual Status publish(std::string_view subject, std::string_view data) = 0;
  // Returns once the subscription is active: anything published after that reaches it.
  virtual Result<std::unique_ptr<PubSubSubscription>> subscribe(std::string_view subject,
                                                                PubSubCallback callback) = 0;
};

}  // namespace cex

#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cex {

// A running subscription; messages stop arriving when it is destroyed.
class PubSubSubscription {
 public:
  virtual ~PubSubSubscription() = default;
};

using PubSubCallback = std::function<void(const std::string& subject, std::string&& data)>;

// Fire-and-forget messages on subjects, between processes (events gateways share results and
// acks this way). Subjects are dot-separated tokens; a subscription may end in ".>" to match
// every subject below it. Thread-safe; callbacks run on a thread of the implementation's.
class PubSub {
 public:
  virtual ~PubSub() = default;
  virtual Status publish(std::string_view subject, std::string_view data) = 0;
  virtual Result<std::unique_ptr<PubSubSubscription>> subscribe(std::string_view subject,
                                                                PubSubCallback callback) = 0;
};

}  // namespace cex

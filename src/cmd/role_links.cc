#include "cmd/role_links.h"

namespace cex {

Result<Backends> connectBackends(const std::string& nats_url, int lease_seconds,
                                 const std::string& client_name) {
  if (nats_url.empty()) {
    return Status::invalidArgument("--nats nats://host:port is required");
  }
  NatsOptions options;
  options.url = nats_url;
  options.client_name = client_name;
  options.queue.lease = std::chrono::seconds(lease_seconds);
  return makeNatsBackends(options);
}

EventsClientOptions workerEventsOptions() {
  EventsClientOptions options;
  options.publish_deadline = std::chrono::seconds(10);
  return options;
}

}  // namespace cex

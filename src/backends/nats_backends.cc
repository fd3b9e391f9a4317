#include "backends/backends.h"
#include "backends/nats_blob_store.h"
#include "backends/nats_connection.h"
#include "backends/nats_key_value.h"
#include "backends/nats_pub_sub.h"
#include "backends/nats_work_queue.h"

namespace cex {

Result<Backends> makeNatsBackends(const NatsOptions& options) {
  Result<std::shared_ptr<NatsConnection>> connection = NatsConnection::connect(options);
  if (!connection.ok()) {
    return connection.status();
  }
  std::shared_ptr<NatsConnection> shared = std::move(connection).value();
  auto kv = std::make_shared<NatsKeyValueStore>(shared);

  Backends backends;
  backends.queue = std::make_shared<NatsWorkQueue>(shared, options.queue);
  backends.kv = kv;
  backends.blobs = std::make_shared<NatsBlobStore>(kv, options.blob_max_ttl);
  backends.pubsub = std::make_shared<NatsPubSub>(shared);
  backends.description = options.url;
  backends.healthy = [shared] {
    return shared->connected();
  };
  return backends;
}

}  // namespace cex

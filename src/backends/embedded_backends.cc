#include "backends/backends.h"
#include "backends/embedded_blob_store.h"
#include "backends/embedded_pub_sub.h"
#include "backends/embedded_work_queue.h"
#include "backends/sqlite_key_value.h"

namespace cex {

Result<Backends> makeEmbeddedBackends(const EmbeddedOptions& options) {
  Result<std::unique_ptr<SqliteKeyValueStore>> kv =
      SqliteKeyValueStore::open(options.sqlite_path, options.sweep_interval);
  if (!kv.ok()) {
    return kv.status();
  }
  Result<std::unique_ptr<EmbeddedBlobStore>> blobs =
      EmbeddedBlobStore::open(options.blob_dir, options.sweep_interval);
  if (!blobs.ok()) {
    return blobs.status();
  }
  Backends backends;
  backends.queue = std::make_shared<EmbeddedWorkQueue>(options.queue);
  backends.kv = std::move(kv).value();
  backends.blobs = std::move(blobs).value();
  backends.pubsub = std::make_shared<EmbeddedPubSub>();
  backends.description = "embedded";
  return backends;
}

}  // namespace cex

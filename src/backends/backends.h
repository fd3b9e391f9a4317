#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "backends/blob_store.h"
#include "backends/key_value.h"
#include "backends/pub_sub.h"
#include "backends/work_queue.h"
#include "base/status.h"

namespace cex {

// The four services the roles talk to, from one backend. Roles hold only these interfaces.
struct Backends {
  std::shared_ptr<WorkQueue> queue;
  std::shared_ptr<KeyValueStore> kv;
  std::shared_ptr<BlobStore> blobs;
  std::shared_ptr<PubSub> pubsub;
  std::string description;  // for logs and /healthcheck: "embedded", "nats://127.0.0.1:4222"
  // Whether the backend's connection is up now (always true when embedded).
  std::function<bool()> healthy = [] {
    return true;
  };
};

struct EmbeddedOptions {
  // SQLite database for the key-value buckets; empty = in memory only.
  std::string sqlite_path;
  // Directory for blobs (created if missing); empty = in memory.
  std::string blob_dir;
  QueueSettings queue;
  // How often expired key-value entries and blobs are removed from storage (reads never see
  // them either way).
  std::chrono::milliseconds sweep_interval{60000};
};

// Everything in this process: in-memory queues and pub/sub, SQLite key-value buckets with
// in-process watches, blobs in files or memory.
Result<Backends> makeEmbeddedBackends(const EmbeddedOptions& options);

struct NatsOptions {
  std::string url = "nats://127.0.0.1:4222";
  QueueSettings queue;
  // Name of this connection, for the server's monitoring.
  std::string client_name = "cex";
  // Pause between reconnect attempts, plus a random jitter of up to `reconnect_jitter` so
  // that many clients do not return at once.
  std::chrono::milliseconds reconnect_wait{2000};
  std::chrono::milliseconds reconnect_jitter{1000};
  // Limit for one request to the server (stream and consumer management, KV, acks).
  std::chrono::milliseconds request_timeout{5000};
  // TTL of the blob bucket: the longest a blob can live. Longer blob TTLs are capped.
  std::chrono::milliseconds blob_max_ttl{std::chrono::hours(24)};
};

// NATS with JetStream: a work-queue stream per queue with explicit acks, KV buckets with
// watches, blobs chunked into a KV bucket with a TTL, core subjects for pub/sub. The
// connection reconnects forever; `healthy` says whether it is up. When the server cannot be
// reached at start the backends are still returned (unhealthy) and connect once it is up;
// only bad options fail.
Result<Backends> makeNatsBackends(const NatsOptions& options);

}  // namespace cex

#include "backends/backends.h"

namespace cex {

Result<Backends> makeNatsBackends(const NatsOptions& options) {
  // TODO(backends): the JetStream implementation is being written; until then NATS is
  // refused at start-up.
  return Status::unavailable("nats " + options.url + ": backend not built yet");
}

}  // namespace cex

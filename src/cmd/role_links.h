#pragma once

#include <string>

#include "backends/backends.h"
#include "base/status.h"
#include "base/stop_signals.h"
#include "events/events_client.h"

namespace cex {

// The NATS backends for a role, with the queue settings roles share; a clear error when no
// URL was given.
Result<Backends> connectBackends(const std::string& nats_url, int lease_seconds,
                                 const std::string& client_name);

// How a worker's events client publishes: a result nobody acknowledged within 10 s is given up
// there, and its job delivered again while the client still waits.
EventsClientOptions workerEventsOptions();

}  // namespace cex

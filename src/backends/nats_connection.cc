#include "backends/nats_connection.h"

#include <cctype>
#include <condition_variable>
#include <functional>
#include <mutex>

#include <spdlog/spdlog.h>

namespace cex {

namespace {

// How long the destructor waits for the client library to report the connection closed.
constexpr auto kCloseWait = std::chrono::seconds(5);
// Keep-alive pings find a server that vanished without closing the socket.
constexpr int64_t kPingIntervalMs = 10000;
constexpr int kMaxPingsOut = 2;

bool isConnectionTrouble(natsStatus status) {
  switch (status) {
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_SERVER:
    case NATS_NOT_YET_CONNECTED:
    case NATS_NO_RESPONDERS:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
      return true;
    default:
      return false;
  }
}

}  // namespace

Status natsError(natsStatus status, std::string_view operation, std::string_view name,
                 jsErrCode js_error) {
  // The client keeps a more precise text per thread ("stream not found") than the status's.
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  std::string text =
      last != nullptr && *last != '\0' && last_status == status ? last : natsStatus_GetText(status);
  if (js_error != 0) {
    text += " (jetstream error " + std::to_string(static_cast<int>(js_error)) + ")";
  }
  std::string message = "nats: " + std::string(operation) + " " + std::string(name) + ": " + text;

  if (isConnectionTrouble(status)) {
    return Status::unavailable(std::move(message));
  }
  if (status == NATS_TIMEOUT) {
    return Status::timeout(std::move(message));
  }
  if (status == NATS_NOT_FOUND || js_error == JSStreamNotFoundErr ||
      js_error == JSConsumerNotFoundErr) {
    return Status::notFound(std::move(message));
  }
  if (status == NATS_INVALID_ARG) {
    return Status::invalidArgument(std::move(message));
  }
  if (status == NATS_MAX_PAYLOAD) {
    return Status::resourceExhausted(std::move(message));
  }
  return Status::ioError(std::move(message));
}

std::string natsToken(std::string_view name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string token;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '-') {
      token += static_cast<char>(c);
    } else {
      token += '_';
      token += kHex[c >> 4];
      token += kHex[c & 15];
    }
  }
  return token;
}

struct NatsConnection::Events {
  std::string url;
  mutable std::mutex mu;
  mutable std::condition_variable changed;
  bool up = false;       // guarded by mu
  bool closed = false;   // guarded by mu
  bool closing = false;  // guarded by mu; set when cex closes the connection itself
  uint64_t session = 0;  // guarded by mu

  void set(bool now_up, bool now_closed, bool new_session) {
    std::lock_guard lock(mu);
    up = now_up;
    closed = closed || now_closed;
    session += new_session ? 1 : 0;
    changed.notify_all();
  }
};

namespace {

// The client library's callbacks; `closure` is the connection's Events, which outlive them.
// None of them may throw into C code; they only log and flip flags.
void onConnected(natsConnection*, void* closure) {
  auto* events = static_cast<NatsConnection::Events*>(closure);
  spdlog::info("nats connected url={}", events->url);
  events->set(true, false, true);
}

void onDisconnected(natsConnection*, void* closure) {
  auto* events = static_cast<NatsConnection::Events*>(closure);
  bool closing = false;
  {
    std::lock_guard lock(events->mu);
    closing = events->closing;
  }
  if (closing) {
    spdlog::debug("nats disconnected url={} reason=closed", events->url);
  } else {
    spdlog::warn("nats disconnected url={}", events->url);
  }
  events->set(false, false, false);
}

void onReconnected(natsConnection*, void* closure) {
  auto* events = static_cast<NatsConnection::Events*>(closure);
  spdlog::info("nats reconnected url={}", events->url);
  events->set(true, false, true);
}

void onClosed(natsConnection*, void* closure) {
  static_cast<NatsConnection::Events*>(closure)->set(false, true, false);
}

void onAsyncError(natsConnection*, natsSubscription*, natsStatus status, void* closure) {
  auto* events = static_cast<NatsConnection::Events*>(closure);
  spdlog::warn("nats async error url={} error={}", events->url, natsStatus_GetText(status));
}

// Every option of the connection; the first failure wins.
natsStatus configure(natsOptions* opts, const NatsOptions& options,
                     NatsConnection::Events* events) {
  int64_t jitter = options.reconnect_jitter.count();
  const std::function<natsStatus()> steps[] = {
      [&] { return natsOptions_SetURL(opts, options.url.c_str()); },
      [&] { return natsOptions_SetName(opts, options.client_name.c_str()); },
      [&] { return natsOptions_SetMaxReconnect(opts, -1); },
      [&] { return natsOptions_SetReconnectWait(opts, options.reconnect_wait.count()); },
      [&] { return natsOptions_SetReconnectJitter(opts, jitter, jitter); },
      [&] { return natsOptions_SetTimeout(opts, options.request_timeout.count()); },
      [&] { return natsOptions_SetPingInterval(opts, kPingIntervalMs); },
      [&] { return natsOptions_SetMaxPingsOut(opts, kMaxPingsOut); },
      // Requests in flight when the link drops fail at once instead of at their timeout.
      [&] { return natsOptions_SetFailRequestsOnDisconnect(opts, true); },
      [&] { return natsOptions_SetRetryOnFailedConnect(opts, true, onConnected, events); },
      [&] { return natsOptions_SetDisconnectedCB(opts, onDisconnected, events); },
      [&] { return natsOptions_SetReconnectedCB(opts, onReconnected, events); },
      [&] { return natsOptions_SetClosedCB(opts, onClosed, events); },
      [&] { return natsOptions_SetErrorHandler(opts, onAsyncError, events); },
  };
  for (const std::function<natsStatus()>& step : steps) {
    if (natsStatus s = step(); s != NATS_OK) {
      return s;
    }
  }
  return NATS_OK;
}

}  // namespace

NatsConnection::NatsConnection(NatsOptions options, std::unique_ptr<Events> events)
    : options_(std::move(options)), events_(std::move(events)) {}

Result<std::shared_ptr<NatsConnection>> NatsConnection::connect(const NatsOptions& options) {
  auto events = std::make_unique<Events>();
  events->url = options.url;
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) {
    s = configure(opts, options, events.get());
  }
  if (s != NATS_OK) {
    natsOptions_Destroy(opts);
    return natsError(s, "configure", options.url);
  }

  // Not reaching the server yet is fine: the library keeps trying and calls onConnected.
  std::shared_ptr<NatsConnection> connection(new NatsConnection(options, std::move(events)));
  s = natsConnection_Connect(&connection->nc_, opts);
  natsOptions_Destroy(opts);
  if (s == NATS_OK) {
    connection->events_->set(true, false, true);
  } else if (s == NATS_NOT_YET_CONNECTED) {
    spdlog::warn("nats not reachable yet, retrying in the background url={}", options.url);
  } else {
    return natsError(s, "connect", options.url);
  }

  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = options.request_timeout.count();
  s = natsConnection_JetStream(&connection->js_, connection->nc_, &js_options);
  if (s != NATS_OK) {
    return natsError(s, "jetstream context", options.url);
  }
  return connection;
}

NatsConnection::~NatsConnection() {
  jsCtx_Destroy(js_);
  if (nc_ == nullptr) {
    return;
  }
  {
    std::lock_guard lock(events_->mu);
    events_->closing = true;
  }
  natsConnection_Close(nc_);

  // The closed callback may still be on its way; the events must outlive it.
  std::unique_lock lock(events_->mu);
  bool closed = events_->changed.wait_for(lock, kCloseWait, [&] { return events_->closed; });
  lock.unlock();
  natsConnection_Destroy(nc_);
  if (!closed) {
    spdlog::warn("nats close not confirmed url={}", options_.url);
    [[maybe_unused]] Events* leaked = events_.release();
  }
}

bool NatsConnection::connected() const {
  return nc_ != nullptr && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

Status NatsConnection::checkConnected(std::string_view operation, std::string_view name) const {
  if (connected()) {
    return Status::ok();
  }
  return Status::unavailable("nats: " + std::string(operation) + " " + std::string(name) +
                             ": not connected to " + options_.url);
}

bool NatsConnection::waitConnected(std::chrono::milliseconds timeout) const {
  if (connected()) {
    return true;
  }
  std::unique_lock lock(events_->mu);
  events_->changed.wait_for(lock, timeout, [&] { return events_->up || events_->closed; });
  lock.unlock();
  return connected();
}

uint64_t NatsConnection::session() const {
  std::lock_guard lock(events_->mu);
  return events_->session;
}

}  // namespace cex

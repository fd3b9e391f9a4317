#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "backends/blob_store.h"
#include "backends/work_queue.h"
#include "events/events_client.h"
#include "net/http_client.h"
#include "net/http_types.h"
#include "router/pending_requests.h"
#include "router/routing_table.h"
#include "router/shared_result_cache.h"

namespace cex {

struct RouterOptions {
  std::string env = "prod";  // environment of requests without an /<env> prefix
  std::chrono::milliseconds wait_timeout{60000};
  // Jobs waiting on a queue beyond which new requests get 503 with Retry-After at once.
  uint64_t backlog_limit = 200;
  int retry_after_seconds = 5;
  std::string admin_token;  // empty: /admin/clear-cache is refused
  std::string text_banner = "Compilation provided by Compiler Explorer at https://godbolt.org/";
  int api_max_age_secs = 600;
  // Requests larger than this travel to workers through the blob store.
  size_t inline_request_limit = 256 * 1024;
};

// What a router talks to; it owns none of it.
struct RouterLinks {
  std::shared_ptr<WorkQueue> queue;
  std::shared_ptr<BlobStore> blobs;
  RoutingTable* routes = nullptr;
  ActiveColours* colours = nullptr;
  SharedResultCache* cache = nullptr;
  HttpClient* http = nullptr;
  EventsClient* events = nullptr;  // set once the client exists (see resultHandler)
  std::function<bool()> backend_healthy = [] {
    return true;
  };
};

// The compile router: for `POST [/<env>]/api/compiler/<id>/{compile,cmake,build/<system>}` it
// answers from the shared result cache, or looks up where the compiler lives and either
// forwards the request by HTTP to another environment or puts it on the active colour's queue
// and waits for the result through the events hub. Also serves /healthcheck and
// /admin/clear-cache. Thread-safe. A network thread waits
// only on a shared-cache lookup that the near copy missed and on a refresh of the queue's
// length (at most every 250 ms); enqueueing and waiting happen elsewhere.
class CompileRouter {
 public:
  CompileRouter(RouterOptions options, RouterLinks links);
  ~CompileRouter();

  // Whether `path` is one of the router's routes.
  static bool handles(std::string_view path);
  // Whether `path` is a compile, cmake or build request (`[/<env>]/api/compiler/<id>/...`).
  static bool handlesCompile(std::string_view path);

  // The handler to give the events client: results for waited-on guids come in here.
  EventsResultHandler resultHandler();

  void setEventsClient(EventsClient* events) { links_.events = events; }

  void handle(HttpRequest&& request, Responder respond);

  // Answers every request still waiting with 503, after giving them `drain` to finish.
  void shutdown(std::chrono::milliseconds drain);

  size_t waiting() const { return pending_.size(); }

 private:
  struct Target;

  struct Pending {
    Responder respond;
    bool json = true;
    bool filter_ansi = false;
  };

  void route(HttpRequest&& request, const Target& target, Responder respond);
  void forward(HttpRequest&& request, const RouteEntry& entry, const Target& target,
               Responder respond);
  void enqueue(HttpRequest&& request, const Target& target, std::string queue, Pending pending,
               std::string cache_key);
  void onResult(const std::string& guid, std::string&& json);
  void respondResult(Pending&& pending, std::string json, bool from_cache);
  bool backlogged(const std::string& queue);
  void handleHealth(Responder respond);
  void handleClearCache(const HttpRequest& request, Responder respond);
  void addHeaders(HttpResponse* response) const;

  RouterOptions options_;
  RouterLinks links_;
  PendingRequests<Pending> pending_;
  std::mutex stats_mu_;
  std::string stats_queue_;
  QueueStats stats_;                                // guarded by stats_mu_
  std::chrono::steady_clock::time_point stats_at_;  // guarded by stats_mu_
  std::atomic<bool> stopping_{false};
};

}  // namespace cex

#include "router/compile_router.h"

#include <random>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/negotiation.h"
#include "api/queue_message.h"
#include "api/request_parser.h"
#include "api/text_render.h"
#include "base/hash.h"
#include "base/json_writer.h"
#include "base/strings.h"
#include "events/result_reference.h"

namespace cex {

namespace json = boost::json;

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json; charset=utf-8";
constexpr const char* kText = "text/plain; charset=utf-8";

HttpResponse makeResponse(int status, const char* content_type, std::string body) {
  return HttpResponse::make(status, content_type, std::move(body));
}

HttpResponse jsonError(int status, std::string_view message) {
  std::string body;
  JsonWriter w(&body);
  w.beginObject().key("error").boolean(true).key("message").string(message).endObject();
  return makeResponse(status, kJson, std::move(body));
}

// A version 4 UUID, the request's guid.
std::string newGuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
  std::string hex = fmt::format("{:016x}{:016x}", hi, lo);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// Headers that belong to one connection, never forwarded.
bool hopByHop(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
      "te",         "trailer",    "trailers",           "transfer-encoding",
      "upgrade",    "host",       "content-length"};
  for (std::string_view n : kNames) {
    if (iequals(n, name)) {
      return true;
    }
  }
  return false;
}

// Drops the members only the router's side needs from a worker's result.
std::string withoutGuid(std::string json, const std::string& guid) {
  std::string prefix = "{\"guid\":\"" + guid + "\",";
  if (json.starts_with(prefix)) {
    return "{" + json.substr(prefix.size());
  }
  json::error_code ec;
  json::value doc = json::parse(json, ec);
  if (ec || !doc.is_object()) {
    return json;
  }
  doc.get_object().erase("guid");
  return json::serialize(doc);
}

// "...}" -> "...,"retreivedFromCache":true}"
std::string markCached(std::string json) {
  if (json.size() < 2 || json.back() != '}') {
    return json;
  }
  json.pop_back();
  json += json.back() == '{' ? "\"retreivedFromCache\":true}" : ",\"retreivedFromCache\":true}";
  return json;
}

}  // namespace

// Where a request goes: `[/<env>]/api/compiler/<id>/{compile|cmake|build/<system>}`.
struct CompileRouter::Target {
  std::string env;
  std::string compiler_id;
  std::string kind;          // "compile", "cmake" or "build"
  std::string build_system;  // for "build"; "cmake" for "cmake"

  static std::optional<Target> parse(std::string_view path, const std::string& default_env) {
    std::vector<std::string> s;
    for (std::string_view part : split(path, '/')) {
      if (!part.empty()) {
        s.push_back(percentDecode(part));
      }
    }
    size_t api = s.size() > 1 && s[0] != "api" && s[1] == "api" ? 1 : 0;
    if (s.size() < api + 4 || s[api] != "api" || s[api + 1] != "compiler") {
      return std::nullopt;
    }
    Target t{api == 1 ? s[0] : default_env, s[api + 2], s[api + 3], ""};
    size_t rest = s.size() - (api + 4);
    if ((t.kind == "compile" || t.kind == "cmake") && rest == 0) {
      t.build_system = t.kind == "cmake" ? "cmake" : "";
      return t;
    }
    if (t.kind == "build" && rest == 1) {
      t.build_system = s.back();
      return t;
    }
    return std::nullopt;
  }
};

CompileRouter::CompileRouter(RouterOptions options, RouterLinks links)
    : options_(std::move(options)),
      links_(std::move(links)),
      pending_([this](const std::string& guid, Pending&& pending) {
        spdlog::warn("router timeout guid={} waited_ms={}", guid, options_.wait_timeout.count());
        if (links_.events != nullptr) {
          links_.events->unsubscribe(guid);
        }
        pending.respond(jsonError(408, "Compilation timeout: no result within " +
                                           std::to_string(options_.wait_timeout.count() / 1000) +
                                           " s"));
      }) {}

CompileRouter::~CompileRouter() {
  shutdown(std::chrono::milliseconds(0));
}

bool CompileRouter::handles(std::string_view path) {
  return path.starts_with("/healthcheck") || path.starts_with("/admin/") || handlesCompile(path);
}

bool CompileRouter::handlesCompile(std::string_view path) {
  return Target::parse(path, "").has_value();
}

void CompileRouter::addHeaders(HttpResponse* response) const {
  response->setHeader("Access-Control-Allow-Origin", "*");
  response->setHeader("Access-Control-Allow-Headers",
                      "Origin, X-Requested-With, Content-Type, Accept");
  if (!response->header("Cache-Control")) {
    response->setHeader("Cache-Control",
                        "public, max-age=" + std::to_string(options_.api_max_age_secs));
  }
}

EventsResultHandler CompileRouter::resultHandler() {
  return [this](const std::string& guid, std::string&& json) {
    onResult(guid, std::move(json));
  };
}

void CompileRouter::handle(HttpRequest&& request, Responder respond) {
  if (request.path.starts_with("/healthcheck")) {
    handleHealth(std::move(respond));
    return;
  }
  if (request.path.starts_with("/admin/clear-cache")) {
    handleClearCache(request, std::move(respond));
    return;
  }
  Responder with_headers = [this, respond = std::move(respond)](HttpResponse&& r) {
    addHeaders(&r);
    respond(std::move(r));
  };
  if (request.method == "OPTIONS") {
    with_headers(makeResponse(200, kText, "OK"));
    return;
  }
  std::optional<Target> target = Target::parse(request.path, options_.env);
  if (!target) {
    with_headers(makeResponse(404, kText, "Not Found"));
    return;
  }
  if (request.method != "POST") {
    with_headers(makeResponse(405, kText, "Method Not Allowed"));
    return;
  }
  if (stopping_) {
    HttpResponse r = jsonError(503, "the router is shutting down");
    r.setHeader("Retry-After", std::to_string(options_.retry_after_seconds));
    with_headers(std::move(r));
    return;
  }
  route(std::move(request), *target, std::move(with_headers));
}

void CompileRouter::route(HttpRequest&& request, const Target& target, Responder respond) {
  static constexpr std::string_view kSystems[] = {"cmake", "cargo", "maven", "make"};
  if (target.kind == "build" && std::find(std::begin(kSystems), std::end(kSystems),
                                          target.build_system) == std::end(kSystems)) {
    respond(jsonError(404, "Unknown build system '" + target.build_system + "'"));
    return;
  }

  // Refuse what a worker would refuse, before anything is queued.
  bool json_body = isJsonContentType(request.header("Content-Type").value_or(""));
  ParsedRequest parsed =
      json_body ? parseJsonCompileRequest(request.body) : parseTextCompileRequest(request);
  if (!target.build_system.empty() && json_body &&
      request.body.find("\"files\"") == std::string::npos) {
    respond(jsonError(400, "Missing files property"));
    return;
  }
  if (!parsed.request) {
    respond(
        makeResponse(parsed.error.status, parsed.error.content_type.c_str(), parsed.error.body));
    return;
  }

  std::optional<RouteEntry> entry = links_.routes->lookup(target.env, target.compiler_id);
  if (!entry) {
    respond(makeResponse(404, kText, "Not Found"));
    return;
  }
  if (entry->type == RouteEntry::Type::Url) {
    forward(std::move(request), *entry, target, std::move(respond));
    return;
  }

  Pending pending{std::move(respond), prefersJson(request.header("Accept").value_or("")),
                  parsed.request->filter_ansi};
  std::string colour = links_.colours->colour(target.env);
  std::string cache_key =
      fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", target.env, colour, target.compiler_id,
                  target.build_system, json_body, request.query, request.body);
  if (parsed.request->bypass_cache == 0) {
    if (std::optional<std::string> hit = links_.cache->get(cache_key)) {
      respondResult(std::move(pending), std::move(*hit), true);
      return;
    }
  }
  std::string queue = (entry->queue_name.empty() ? target.env : entry->queue_name) + "-" + colour;
  if (backlogged(queue)) {
    HttpResponse r = jsonError(503, "too many compilations are waiting; try again shortly");
    r.setHeader("Retry-After", std::to_string(options_.retry_after_seconds));
    pending.respond(std::move(r));
    return;
  }
  enqueue(std::move(request), target, queue, std::move(pending), std::move(cache_key));
}

void CompileRouter::forward(HttpRequest&& request, const RouteEntry& entry, const Target& target,
                            Responder respond) {
  std::string url = target.kind == "compile" ? entry.compile_url
                    : target.kind == "cmake"
                        ? entry.cmake_url
                        : replaceAll(entry.build_url, "{system}", target.build_system);
  if (url.empty()) {
    respond(jsonError(502, "no " + target.kind + " URL for this compiler"));
    return;
  }
  HttpClientRequest out;
  out.method = "POST";
  out.url = url + (request.query.empty() ? "" : "?" + request.query);
  for (auto& h : request.headers) {
    if (!hopByHop(h.name)) {
      out.headers.push_back(std::move(h));
    }
  }
  out.body = std::move(request.body);
  out.timeout = options_.wait_timeout;
  links_.http->request(
      std::move(out), [respond = std::move(respond), url](Result<HttpClientResponse>&& r) {
        if (!r.ok()) {
          spdlog::warn("router forward failed url={} error=\"{}\"", url, r.status().message());
          respond(jsonError(502, "forwarding failed: " + r.status().message()));
          return;
        }
        HttpResponse response;
        response.status = r->status;
        for (auto& h : r->headers) {
          if (!hopByHop(h.name)) {
            response.headers.push_back(std::move(h));
          }
        }
        response.body = std::move(r->body);
        respond(std::move(response));
      });
}

void CompileRouter::enqueue(HttpRequest&& request, const Target& target, std::string queue,
                            Pending pending, std::string cache_key) {
  std::string guid = newGuid();
  auto deadline_steady = Clock::now() + options_.wait_timeout;
  auto deadline_wall = std::chrono::system_clock::now() + options_.wait_timeout;
  std::string message =
      buildQueueMessage({guid, target.compiler_id, target.build_system, cache_key, &request});
  pending_.add(guid, std::move(pending), deadline_steady);

  // Subscribe first and enqueue only once the hub confirmed, so no result can be missed.
  links_.events->subscribe(guid, [this, guid, queue, message = std::move(message),
                                  deadline_wall](const Status& s) mutable {
    Status enqueued = s;
    if (enqueued.isOk()) {
      Result<std::string> payload =
          referenceLargeRequest(*links_.blobs, guid, std::move(message),
                                options_.inline_request_limit, options_.wait_timeout * 2);
      enqueued = payload.status();
      if (payload.ok()) {
        Job job;
        job.id = guid;
        job.payload = std::move(payload).value();
        job.deadline = deadline_wall;
        enqueued = links_.queue->enqueue(queue, job);
      }
    }
    if (enqueued.isOk()) {
      spdlog::debug("router enqueued guid={} queue={}", guid, queue);
      return;
    }
    spdlog::warn("router enqueue failed guid={} queue={} error=\"{}\"", guid, queue,
                 enqueued.message());
    links_.events->unsubscribe(guid);
    if (std::optional<Pending> p = pending_.take(guid)) {
      HttpResponse r = jsonError(503, "the compile queue is unavailable: " + enqueued.message());
      r.setHeader("Retry-After", std::to_string(options_.retry_after_seconds));
      p->respond(std::move(r));
    }
  });
}

void CompileRouter::onResult(const std::string& guid, std::string&& json) {
  links_.events->ack(guid);
  links_.events->unsubscribe(guid);
  std::optional<Pending> pending = pending_.take(guid);
  if (!pending) {
    return;  // Already answered (timeout) or not ours.
  }
  Result<std::string> whole = resolveResultReference(*links_.blobs, std::move(json));
  if (!whole.ok()) {
    spdlog::warn("router result unreadable guid={} error=\"{}\"", guid, whole.status().message());
    pending->respond(jsonError(502, "the result could not be read: " + whole.status().message()));
    return;
  }
  respondResult(std::move(*pending), withoutGuid(std::move(whole).value(), guid), false);
}

void CompileRouter::respondResult(Pending&& pending, std::string json, bool from_cache) {
  if (from_cache) {
    json = markCached(std::move(json));
  }
  // Refusals ("Bad options: ...") are JSON for every client, as the compile API answers them.
  bool renderable = json.find("\"asm\":") != std::string::npos ||
                    json.find("\"didExecute\":") != std::string::npos;
  if (pending.json || !renderable) {
    pending.respond(makeResponse(200, kJson, std::move(json)));
    return;
  }
  std::optional<std::string> text =
      renderTextFromJson(json, options_.text_banner, pending.filter_ansi);
  pending.respond(text ? makeResponse(200, kText, std::move(*text))
                       : makeResponse(200, kJson, std::move(json)));
}

bool CompileRouter::backlogged(const std::string& queue) {
  std::lock_guard lock(stats_mu_);
  auto now = Clock::now();
  if (queue != stats_queue_ || now - stats_at_ > std::chrono::milliseconds(250)) {
    auto stats = links_.queue->stats(queue);
    stats_ = stats.ok() ? *stats : QueueStats{};
    stats_queue_ = queue;
    stats_at_ = now;
  }
  return stats_.waiting >= options_.backlog_limit;
}

void CompileRouter::handleHealth(Responder respond) {
  bool events = links_.events != nullptr && links_.events->connected();
  bool backend = links_.backend_healthy();
  std::string body;
  JsonWriter w(&body);
  w.beginObject().key("events").boolean(events).key("backend").boolean(backend);
  w.key("waiting").integer(static_cast<int64_t>(pending_.size())).endObject();
  bool ok = events && backend && !stopping_;
  if (!ok) {
    spdlog::warn("router health failed events={} backend={} stopping={}", events, backend,
                 stopping_.load());
  }
  respond(makeResponse(ok ? 200 : 503, kJson, std::move(body)));
}

void CompileRouter::handleClearCache(const HttpRequest& request, Responder respond) {
  std::string expected = "Bearer " + options_.admin_token;
  if (options_.admin_token.empty() || request.header("Authorization") != expected) {
    respond(jsonError(403, "a valid admin token is required"));
    return;
  }
  if (request.method != "POST") {
    respond(makeResponse(405, kText, "Method Not Allowed"));
    return;
  }
  links_.cache->clear();
  spdlog::info("router cache cleared");
  respond(makeResponse(200, kJson, "{\"cleared\":true}"));
}

void CompileRouter::shutdown(std::chrono::milliseconds drain) {
  stopping_ = true;
  auto until = Clock::now() + drain;
  while (pending_.size() > 0 && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& [guid, pending] : pending_.takeAll()) {
    if (links_.events != nullptr) {
      links_.events->unsubscribe(guid);
    }
    HttpResponse r = jsonError(503, "the router is shutting down; try again");
    r.setHeader("Retry-After", std::to_string(options_.retry_after_seconds));
    addHeaders(&r);
    pending.respond(std::move(r));
  }
}

}  // namespace cex

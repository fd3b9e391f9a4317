#include "api/api_handler.h"

#include <cctype>

#include <spdlog/spdlog.h>

#include "api/negotiation.h"
#include "api/request_parser.h"
#include "api/text_render.h"
#include "base/files.h"
#include "base/json_writer.h"
#include "base/strings.h"
#include "compile/popular_arguments.h"
#include "compile/result_json.h"

namespace cex {

namespace {

constexpr const char* kJson = "application/json; charset=utf-8";
constexpr const char* kText = "text/plain; charset=utf-8";
constexpr const char* kHtml = "text/html; charset=utf-8";

HttpResponse makeResponse(int status, const char* content_type, std::string body) {
  return HttpResponse::make(status, content_type, std::move(body));
}

HttpResponse fromApiError(const ApiError& error) {
  return makeResponse(error.status, error.content_type.c_str(), error.body);
}

HttpResponse notFoundPage(const std::string& path) {
  return fromApiError(htmlError(404, "Not Found", "Cannot find " + path));
}

HttpResponse notFoundText() {
  return makeResponse(404, kText, "Not Found");
}

HttpResponse methodNotAllowed() {
  return makeResponse(405, kText, "Method Not Allowed");
}

bool wantsJson(const HttpRequest& request) {
  return prefersJson(request.header("Accept").value_or(""));
}

// Whether every '%' starts a two-digit hex escape.
bool validPercentEncoding(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      return false;
    }
    i += 2;
  }
  return true;
}

// "/api/compilers/c%2B%2B" -> {"api", "compilers", "c++"}.
std::vector<std::string> pathSegments(std::string_view path) {
  std::vector<std::string> segments;
  for (std::string_view part : split(path, '/')) {
    if (!part.empty()) {
      segments.push_back(percentDecode(part));
    }
  }
  return segments;
}

std::string popularArgumentsJson(const std::vector<PopularArgument>& args) {
  std::string out;
  JsonWriter w(&out);
  w.beginObject();
  for (const auto& arg : args) {
    w.key(arg.flag).beginObject();
    w.key("description").string(arg.description).key("timesused").integer(0);
    w.endObject();
  }
  w.endObject();
  return out;
}

// What an executor request gets while this instance cannot run programs: a result that says
// so, with no build claimed.
std::string executionUnavailableMessage(const CompilerInfo& compiler) {
  return "No execution available for " + compiler.instruction_set + "-linux-cpu";
}

std::string executionUnavailableJson(const std::string& message) {
  std::string out;
  JsonWriter w(&out);
  auto message_lines = [&w, &message] {
    w.beginArray().beginObject().key("text").string(message).endObject().endArray();
  };
  w.beginObject();
  w.key("code").integer(-1).key("okToCache").boolean(false).key("timedOut").boolean(false);
  w.key("truncated").boolean(false).key("didExecute").boolean(false);
  w.key("stdout").beginArray().endArray();
  w.key("stderr");
  message_lines();
  w.key("execTime").integer(0);
  w.key("buildResult").beginObject().key("code").integer(-1);
  w.key("stdout").beginArray().endArray().key("stderr");
  message_lines();
  w.endObject();
  w.endObject();
  return out;
}

}  // namespace

ApiHandler::ApiHandler(ApiSettings settings, CompileService* service)
    : settings_(std::move(settings)), service_(service) {
  listing_context_.execution_available = service_->settings().execution_enabled;
}

void ApiHandler::addApiHeaders(HttpResponse* response) const {
  response->setHeader("Access-Control-Allow-Origin", "*");
  response->setHeader("Access-Control-Allow-Headers",
                      "Origin, X-Requested-With, Content-Type, Accept");
  response->setHeader("Cache-Control",
                      "public, max-age=" + std::to_string(settings_.api_max_age_secs));
}

void ApiHandler::handle(HttpRequest&& request, Responder respond) {
  if (request.path.starts_with("/healthcheck")) {
    handleHealth(std::move(respond));
    return;
  }
  if (!validPercentEncoding(request.path)) {
    respond(fromApiError(htmlError(400, "Bad Request", "malformed percent-encoding in the path")));
    return;
  }
  std::vector<std::string> segments = pathSegments(request.path);
  if (!settings_.path_prefix.empty() && segments.size() > 1 &&
      segments[0] == settings_.path_prefix && segments[1] == "api") {
    segments.erase(segments.begin());
  }
  if (segments.empty() || segments[0] != "api") {
    respond(notFoundPage(request.path));
    return;
  }
  if (request.method == "OPTIONS") {
    HttpResponse r = makeResponse(200, kText, "OK");
    r.setHeader("Access-Control-Allow-Origin", "*");
    r.setHeader("Access-Control-Allow-Headers", "Origin, X-Requested-With, Content-Type, Accept");
    respond(std::move(r));
    return;
  }
  // Every answer on /api carries the CORS and caching headers.
  Responder with_headers = [this, respond = std::move(respond)](HttpResponse&& r) {
    addApiHeaders(&r);
    respond(std::move(r));
  };
  handleApi(std::move(request), segments, std::move(with_headers));
}

void ApiHandler::handleApi(HttpRequest&& request, const std::vector<std::string>& segments,
                           Responder respond) {
  const std::string& method = request.method;
  bool get = method == "GET" || method == "HEAD";
  bool post = method == "POST";
  size_t n = segments.size();
  const std::string& what = n > 1 ? segments[1] : segments[0];
  const std::string* arg = n > 2 ? &segments[2] : nullptr;

  if (n == 4 && what == "compiler" && segments[3] == "compile") {
    post ? compile(std::move(request), segments[2], std::move(respond))
         : respond(methodNotAllowed());
    return;
  }
  bool cmake = n == 4 && what == "compiler" && segments[3] == "cmake";
  if (cmake || (n == 5 && what == "compiler" && segments[3] == "build")) {
    post ? buildRequest(segments[2], cmake ? "cmake" : segments[4], std::move(respond))
         : respond(methodNotAllowed());
    return;
  }
  if (n == 3 && what == "noscript" && segments[2] == "compile") {
    post ? noscriptCompile(std::move(request), std::move(respond)) : respond(methodNotAllowed());
    return;
  }
  bool listing = (what == "languages" && n == 2) ||
                 ((what == "compilers" || what == "libraries") && (n == 2 || n == 3));
  bool simple = (what == "tools" && n == 3) ||
                ((what == "formats" || what == "version" || what == "releaseBuild") && n == 2);
  bool args = (what == "popularArguments" || what == "optimizationArguments") && n == 3;
  if (!listing && !simple && !args) {
    respond(notFoundPage(request.path));
    return;
  }
  if (!(get || (args && post))) {
    respond(methodNotAllowed());
    return;
  }
  if (what == "languages") {
    respond(languages(request));
  } else if (what == "compilers") {
    respond(compilers(request, arg));
  } else if (what == "libraries") {
    respond(libraries(request, arg));
  } else if (what == "tools" || what == "formats") {
    respond(makeResponse(200, kJson, "[]"));
  } else if (what == "version" || what == "releaseBuild") {
    respond(makeResponse(200, kHtml, settings_.version));
  } else {
    HttpResponse r = popularArguments(*arg, what == "optimizationArguments");
    respond(std::move(r));
  }
}

HttpResponse ApiHandler::languages(const HttpRequest& request) {
  const CompilerRegistry& registry = service_->registry();
  if (!wantsJson(request)) {
    return makeResponse(200, kText, languagesText(registry));
  }
  auto fields = FieldSelection::parse(request.queryParam("fields").value_or(""));
  return makeResponse(200, kJson, languagesJson(registry, fields, listing_context_));
}

HttpResponse ApiHandler::compilers(const HttpRequest& request, const std::string* lang) {
  std::vector<const CompilerInfo*> selected;
  for (const auto& compiler : service_->registry().compilers()) {
    if (lang == nullptr || compiler.lang == *lang) {
      selected.push_back(&compiler);
    }
  }
  if (!wantsJson(request)) {
    return makeResponse(200, kText, compilersText(selected));
  }
  auto fields = FieldSelection::parse(request.queryParam("fields").value_or(""));
  return makeResponse(200, kJson, compilersJson(selected, fields, listing_context_));
}

HttpResponse ApiHandler::libraries(const HttpRequest& request, const std::string* lang) {
  if (lang == nullptr) {
    return makeResponse(200, kJson, allLibrariesJson(service_->registry()));
  }
  auto fields = FieldSelection::parse(request.queryParam("fields").value_or(""));
  return makeResponse(200, kJson, librariesJson(service_->registry().libraries(*lang), fields));
}

HttpResponse ApiHandler::popularArguments(const std::string& id, bool optimization_only) {
  const CompilerInfo* compiler = service_->registry().find(id);
  if (compiler == nullptr) {
    return notFoundText();
  }
  std::vector<PopularArgument> args = cex::popularArguments(*compiler, {});
  if (optimization_only) {
    std::erase_if(args, [](const PopularArgument& a) {
      return a.description.find("ptimiz") == std::string::npos;
    });
  }
  return makeResponse(200, kJson, popularArgumentsJson(args));
}

void ApiHandler::compile(HttpRequest&& request, const std::string& compiler_id, Responder respond) {
  bool json_body = isJsonContentType(request.header("Content-Type").value_or(""));
  ParsedRequest parsed =
      json_body ? parseJsonCompileRequest(request.body) : parseTextCompileRequest(request);
  if (!parsed.request && parsed.error.status == 400 && parsed.error.content_type == kHtml) {
    respond(fromApiError(parsed.error));  // Malformed JSON fails before any lookup.
    return;
  }
  std::string lang = parsed.request ? parsed.request->lang : "";
  const CompilerInfo* compiler = service_->registry().find(compiler_id, lang);
  if (compiler == nullptr) {
    respond(notFoundText());
    return;
  }
  if (!parsed.request) {
    respond(fromApiError(parsed.error));
    return;
  }
  runCompile(*compiler, std::move(*parsed.request), wantsJson(request), std::move(respond));
}

// A known compiler answers a build with a result that says builds are not run here.
void ApiHandler::buildRequest(const std::string& compiler_id, const std::string& system,
                              Responder respond) {
  if (service_->registry().find(compiler_id) == nullptr) {
    respond(notFoundText());
    return;
  }
  respond(makeResponse(200, kJson, buildUnavailableJson(system)));
}

void ApiHandler::noscriptCompile(HttpRequest&& request, Responder respond) {
  ParsedRequest parsed = parseFormCompileRequest(request.body);
  const CompilerInfo* compiler =
      service_->registry().find(parsed.compiler_id, parsed.request->lang);
  if (compiler == nullptr) {
    respond(notFoundText());
    return;
  }
  runCompile(*compiler, std::move(*parsed.request), false, std::move(respond));
}

void ApiHandler::runCompile(const CompilerInfo& compiler, CompileRequest request, bool json,
                            Responder respond) {
  if (request.executor_request && !service_->settings().execution_enabled) {
    std::string message = executionUnavailableMessage(compiler);
    if (json) {
      respond(makeResponse(200, kJson, executionUnavailableJson(message)));
      return;
    }
    CompileResult text_shape;
    text_shape.code = -1;
    text_shape.stderr_lines.push_back({message, {}});
    respond(makeResponse(200, kText, renderCompileText(text_shape, settings_.text_banner, false)));
    return;
  }
  bool filter_ansi = request.filter_ansi;
  service_->submit(compiler, std::move(request),
                   [this, json, filter_ansi, respond = std::move(respond)](CompileOutcome o) {
                     CompileRequest shape;
                     shape.filter_ansi = filter_ansi;
                     respond(renderOutcome(o, shape, json));
                   });
}

HttpResponse ApiHandler::renderOutcome(const CompileOutcome& outcome, const CompileRequest& request,
                                       bool json) const {
  if (outcome.execution) {
    if (!json) {
      return makeResponse(
          200, kText,
          renderExecutionText(*outcome.execution, settings_.text_banner, request.filter_ansi));
    }
    std::string body;
    writeExecutionResultJson(*outcome.execution, &body);
    return makeResponse(200, kJson, std::move(body));
  }
  if (!outcome.result) {
    return makeResponse(200, kJson, refusalJson(outcome.refusal));
  }
  if (!json) {
    return makeResponse(
        200, kText, renderCompileText(*outcome.result, settings_.text_banner, request.filter_ansi));
  }
  std::string body;
  writeCompileResultJson(*outcome.result, &body);
  return makeResponse(200, kJson, std::move(body));
}

bool ApiHandler::healthy(std::string* reason, std::string* body) const {
  if (health_hook_ && !health_hook_(reason)) {
    return false;
  }
  if (service_->registry().compilers().empty()) {
    *reason = "no compilers";
    return false;
  }
  if (settings_.health_min_free_mib > 0) {
    auto free = freeSpaceMiB(service_->settings().temp_root);
    if (!free.ok() || *free < settings_.health_min_free_mib) {
      *reason =
          free.ok() ? "low disk space free_mib=" + std::to_string(*free) : free.status().message();
      return false;
    }
  }
  if (!settings_.health_file_path.empty()) {
    auto contents = readFile(settings_.health_file_path, 1 << 20);
    if (!contents.ok() || contents->empty()) {
      *reason = "health file missing or empty path=" + settings_.health_file_path;
      return false;
    }
    *body = std::move(contents).value();
    return true;
  }
  *body = "Everything is awesome";
  return true;
}

void ApiHandler::handleHealth(Responder respond) {
  // Waiting for a compile slot first makes a saturated instance answer late, which is what a
  // load balancer's health check should notice.
  service_->submitHealthProbe([this, respond = std::move(respond)] {
    std::string reason;
    std::string body;
    if (healthy(&reason, &body)) {
      respond(makeResponse(200, kHtml, std::move(body)));
      return;
    }
    spdlog::warn("health check failed reason=\"{}\"", reason);
    respond(makeResponse(500, nullptr, ""));
  });
}

}  // namespace cex

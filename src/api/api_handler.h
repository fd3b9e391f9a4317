#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "api/listings.h"
#include "compile/compile_service.h"
#include "net/http_types.h"

namespace cex {

// Settings of the HTTP API that come from configuration.
struct ApiSettings {
  // First line of text compile results ("# <banner>"); empty leaves it out.
  std::string text_banner = "Compilation provided by Compiler Explorer at https://godbolt.org/";
  int api_max_age_secs = 600;
  // /healthcheck fails when the temp root has less free space than this (0 disables).
  uint64_t health_min_free_mib = 100;
  // When set, /healthcheck answers with this file's contents and fails if it is empty.
  std::string health_file_path;
  std::string version = "unknown";
  // An instance of environment E also answers under /E/ (/E/api/compiler/<id>/compile), the
  // address other environments forward to; empty: only at the root.
  std::string path_prefix;
};

// The Compiler Explorer HTTP API on top of a compile service: listings, compiles in the
// three request styles, health. Routes requests to small handlers; every response path
// answers exactly once.
class ApiHandler {
 public:
  ApiHandler(ApiSettings settings, CompileService* service);

  void handle(HttpRequest&& request, Responder respond);

  // An extra condition for /healthcheck (a worker's events link, say): returns false with a
  // reason when the instance must not get traffic. Set before serving.
  void setHealthHook(std::function<bool(std::string* reason)> hook) {
    health_hook_ = std::move(hook);
  }

 private:
  void handleApi(HttpRequest&& request, const std::vector<std::string>& segments,
                 Responder respond);
  void handleHealth(Responder respond);
  HttpResponse languages(const HttpRequest& request);
  HttpResponse compilers(const HttpRequest& request, const std::string* lang);
  HttpResponse libraries(const HttpRequest& request, const std::string* lang);
  HttpResponse popularArguments(const std::string& id, bool optimization_only);
  void compile(HttpRequest&& request, const std::string& compiler_id, Responder respond);
  void buildRequest(const std::string& compiler_id, const std::string& system, Responder respond);
  void noscriptCompile(HttpRequest&& request, Responder respond);
  void runCompile(const CompilerInfo& compiler, CompileRequest request, bool json,
                  Responder respond);
  HttpResponse renderOutcome(const CompileOutcome& outcome, const CompileRequest& request,
                             bool json) const;
  void addApiHeaders(HttpResponse* response) const;
  bool healthy(std::string* reason, std::string* body) const;

  ApiSettings settings_;
  CompileService* service_;
  ListingContext listing_context_;
  std::function<bool(std::string* reason)> health_hook_;
};

}  // namespace cex

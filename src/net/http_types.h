#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cex {

struct HttpHeader {
  std::string name;
  std::string value;
};

// A complete HTTP request as handlers see it. Beast types never leave net/.
struct HttpRequest {
  std::string method;  // upper case: GET, POST, ...
  std::string target;  // as sent: path plus query
  std::string path;    // target without the query, still percent-encoded
  std::string query;   // after '?', still percent-encoded; empty when none
  std::vector<HttpHeader> headers;
  std::string body;
  std::string remote_address;

  // First header with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  // First query parameter with this name, percent-decoded ('+' is a space), or nullopt.
  std::optional<std::string> queryParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<HttpHeader> headers;
  std::string body;

  // A response with this status and body, and a Content-Type unless `content_type` is null.
  static HttpResponse make(int status, const char* content_type, std::string body);

  // Replaces any header with the same name (case-insensitive).
  void setHeader(std::string_view name, std::string_view value);
  std::optional<std::string_view> header(std::string_view name) const;
};

// Completes a request. Must be called exactly once, from any thread; later calls are ignored
// and logged, and if every copy is destroyed uncalled the client gets a 500. Calling it after
// the client has gone, or after the server has stopped or been destroyed, is harmless.
using Responder = std::function<void(HttpResponse&&)>;

// Called on a network thread for each request; may respond at once or hand the responder to
// another thread. Must not block for long. If it throws before responding, the client gets a
// 500 (the exception text is logged, never sent). The server owns Content-Length,
// Transfer-Encoding and Connection; a "Connection: close" from the handler ends the connection.
using HttpHandler = std::function<void(HttpRequest&&, Responder)>;

// Decodes %XX escapes; with `plus_is_space`, '+' becomes ' ' (query strings and forms).
// Malformed escapes are kept as they are.
std::string percentDecode(std::string_view s, bool plus_is_space = false);

// Encodes every byte but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~) as %XX.
std::string percentEncode(std::string_view s);

// Splits "a=1&b=2" into decoded pairs.
std::vector<std::pair<std::string, std::string>> parseQueryString(std::string_view query);

}  // namespace cex

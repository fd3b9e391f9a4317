#include "api/queue_message.h"

#include <boost/json.hpp>

#include "api/lenient_json.h"
#include "api/negotiation.h"
#include "base/strings.h"

namespace cex {

namespace json = boost::json;

namespace {

json::object headersObject(const HttpRequest& request) {
  json::object headers;
  for (const auto& h : request.headers) {
    headers[toLower(h.name)] = h.value;
  }
  return headers;
}

json::object queryObject(const HttpRequest& request) {
  json::object query;
  for (auto& [name, value] : parseQueryString(request.query)) {
    query[name] = value;
  }
  return query;
}

// The client's body as top-level members: a JSON object merged, anything else as `source`.
void mergeBody(const HttpRequest& request, json::object* message) {
  if (isJsonContentType(request.header("Content-Type").value_or(""))) {
    json::error_code ec;
    json::value body = parseJsonLenient(request.body, ec);
    if (!ec && body.is_object()) {
      for (auto& kv : body.get_object()) {
        message->emplace(kv.key(), kv.value());
      }
      return;
    }
  }
  (*message)["source"] = request.body;
}

std::string stringMember(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

HttpRequest textRequestFrom(const json::object& message) {
  HttpRequest http;
  http.body = stringMember(message, "source");
  const json::value* query = message.if_contains("queryStringParameters");
  if (query != nullptr && query->is_object()) {
    std::string q;
    for (const auto& kv : query->get_object()) {
      if (!q.empty()) {
        q.push_back('&');
      }
      std::string value = kv.value().is_string() ? std::string(kv.value().get_string()) : "";
      q += percentEncode(kv.key()) + "=" + percentEncode(value);
    }
    http.query = q;
  }
  return http;
}

}  // namespace

std::string buildQueueMessage(const QueueMessageInput& input) {
  json::object message;
  message["guid"] = input.guid;
  message["compilerId"] = input.compiler_id;
  message["isCMake"] = input.build_system == "cmake";
  if (!input.build_system.empty()) {
    message["buildSystem"] = input.build_system;
  }
  if (!input.cache_key.empty()) {
    message["cacheKey"] = input.cache_key;
  }
  message["headers"] = headersObject(*input.request);
  message["queryStringParameters"] = queryObject(*input.request);
  mergeBody(*input.request, &message);
  return json::serialize(message);
}

std::optional<QueueMessage> parseQueueMessage(std::string_view text) {
  json::error_code ec;
  json::value doc = parseJsonLenient(text, ec);
  if (ec || !doc.is_object() || stringMember(doc.get_object(), "guid").empty()) {
    return std::nullopt;
  }
  const json::object& message = doc.get_object();
  QueueMessage out;
  out.guid = stringMember(message, "guid");
  out.compiler_id = stringMember(message, "compilerId");
  out.build_system = stringMember(message, "buildSystem");
  out.cache_key = stringMember(message, "cacheKey");
  out.lang = stringMember(message, "lang");

  std::string content_type;
  if (const json::value* headers = message.if_contains("headers");
      headers && headers->is_object()) {
    content_type = stringMember(headers->get_object(), "content-type");
  }
  if (isJsonContentType(content_type)) {
    out.parsed = parseJsonCompileRequest(text);
  } else {
    out.parsed = parseTextCompileRequest(textRequestFrom(message));
  }
  return out;
}

}  // namespace cex

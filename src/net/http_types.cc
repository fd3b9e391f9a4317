#include "net/http_types.h"

#include <cctype>

#include "base/strings.h"

namespace cex {

namespace {

// The value of one hex digit, or -1 when `c` is not one.
int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Calls `fn(key, value)` for each non-empty "key=value" piece of a query, both still encoded.
// A piece without '=' has an empty value. Returning true from `fn` stops the walk.
template <typename Fn>
void forEachQueryPair(std::string_view query, Fn&& fn) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) {
      continue;
    }
    size_t eq = piece.find('=');
    std::string_view key = piece.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    if (fn(key, value)) {
      return;
    }
  }
}

}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (iequals(h.name, name)) {
      return std::string_view(h.value);
    }
  }
  return std::nullopt;
}

std::optional<std::string> HttpRequest::queryParam(std::string_view name) const {
  std::optional<std::string> found;
  forEachQueryPair(query, [&](std::string_view key, std::string_view value) {
    if (percentDecode(key, true) != name) {
      return false;
    }
    found = percentDecode(value, true);
    return true;
  });
  return found;
}

HttpResponse HttpResponse::make(int status, const char* content_type, std::string body) {
  HttpResponse r;
  r.status = status;
  if (content_type != nullptr) {
    r.setHeader("Content-Type", content_type);
  }
  r.body = std::move(body);
  return r;
}

void HttpResponse::setHeader(std::string_view name, std::string_view value) {
  for (HttpHeader& h : headers) {
    if (iequals(h.name, name)) {
      h.value = std::string(value);
      return;
    }
  }
  headers.push_back({std::string(name), std::string(value)});
}

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (iequals(h.name, name)) {
      return std::string_view(h.value);
    }
  }
  return std::nullopt;
}

std::string percentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
      continue;
    }

    // A '%' not followed by two hex digits is kept as it is.
    if (c == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 && hexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2])));
      i += 2;
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parseQueryString(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  forEachQueryPair(query, [&](std::string_view key, std::string_view value) {
    pairs.emplace_back(percentDecode(key, true), percentDecode(value, true));
    return false;
  });
  return pairs;
}

std::string percentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

}  // namespace cex

#include "net/url.h"

#include <charconv>

#include "base/strings.h"

namespace cex {

namespace {

uint16_t defaultPort(std::string_view scheme) {
  return scheme == "http" || scheme == "ws" ? 80 : 443;
}

Status badUrl(std::string_view text, std::string_view why) {
  return Status::invalidArgument("url \"" + std::string(text) + "\": " + std::string(why));
}

// Splits "host", "host:port", "[v6]" or "[v6]:port" into `url`; false when malformed.
bool parseAuthority(std::string_view authority, Url& url) {
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return false;
    }
    port = rest.empty() ? rest : rest.substr(1);
  } else {
    size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
    }
  }
  if (url.host.empty()) {
    return false;
  }
  if (port.empty()) {
    return true;
  }
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), url.port);
  return ec == std::errc() && end == port.data() + port.size() && url.port != 0;
}

}  // namespace

std::string Url::hostHeader() const {
  std::string out = host.find(':') == std::string::npos ? host : "[" + host + "]";
  if (port != defaultPort(scheme)) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

Result<Url> parseUrl(std::string_view text) {
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return badUrl(text, "no scheme");
  }
  Url url;
  url.scheme = toLower(text.substr(0, scheme_end));
  if (url.scheme == "https" || url.scheme == "wss") {
    // TODO(net): TLS for https:// and wss:// once instances are reached over the internet.
    return badUrl(text, "TLS is not supported");
  }
  if (url.scheme != "http" && url.scheme != "ws") {
    return badUrl(text, "unknown scheme");
  }

  // The fragment never goes on the wire.
  std::string_view rest = text.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('#'));
  size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  if (authority.find('@') != std::string_view::npos) {
    return badUrl(text, "credentials in URLs are not supported");
  }
  url.port = defaultPort(url.scheme);
  if (!parseAuthority(authority, url)) {
    return badUrl(text, "bad host or port");
  }
  url.target = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (url.target.front() == '?') {
    url.target.insert(0, "/");
  }
  if (url.target.find_first_of(std::string_view(" \r\n\0", 4)) != std::string::npos) {
    return badUrl(text, "blank or control character in the path");
  }
  return url;
}

}  // namespace cex

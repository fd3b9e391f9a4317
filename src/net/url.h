#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cex {

// The parts of an http:// or ws:// URL that a client needs to connect and send a request.
struct Url {
  std::string scheme;  // lower case: "http" or "ws"
  std::string host;    // without the brackets of an IPv6 literal
  uint16_t port = 0;   // the scheme's default when the URL names none
  std::string target;  // path plus query, "/" when the URL has no path; never the fragment

  // "host" or "host:port" (port only when not the default), as the Host header wants it.
  std::string hostHeader() const;
};

// Parses an absolute URL. Only http and ws are accepted: cex does not speak TLS yet.
// Userinfo ("user@host") is refused rather than sent in the clear.
Result<Url> parseUrl(std::string_view text);

}  // namespace cex

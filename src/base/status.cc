#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace cex {

namespace {

const char* codeName(StatusCode code) {
  switch (code) {
    case StatusCode::Ok:
      return "ok";
    case StatusCode::InvalidArgument:
      return "invalid argument";
    case StatusCode::NotFound:
      return "not found";
    case StatusCode::IoError:
      return "io error";
    case StatusCode::Timeout:
      return "timeout";
    case StatusCode::Unavailable:
      return "unavailable";
    case StatusCode::ResourceExhausted:
      return "resource exhausted";
    case StatusCode::Internal:
      return "internal";
  }
  return "unknown";
}

}  // namespace

Status Status::fromErrno(std::string_view context, int err) {
  char buf[128];
  // The GNU strerror_r returns a pointer that may or may not be buf.
  const char* text = strerror_r(err, buf, sizeof buf);
  std::string msg = std::string(context) + ": " + text;
  if (err == ENOENT) {
    return notFound(std::move(msg));
  }
  return ioError(std::move(msg));
}

std::string Status::toString() const {
  if (isOk()) {
    return "ok";
  }
  return std::string(codeName(code_)) + ": " + message_;
}

}  // namespace cex

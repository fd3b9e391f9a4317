#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cex {

// What kind of failure a Status carries; callers branch on this, never on the text.
enum class StatusCode {
  Ok,
  InvalidArgument,
  NotFound,
  IoError,
  Timeout,
  Unavailable,
  ResourceExhausted,
  Internal,
};

// The outcome of an operation that can fail: a code plus a lower-case message that starts
// with its context ("open /tmp/x: no such file"). Errors cross module boundaries as values.
class Status {
 public:
  Status() = default;

  static Status ok() { return {}; }

  static Status invalidArgument(std::string msg) {
    return {StatusCode::InvalidArgument, std::move(msg)};
  }

  static Status notFound(std::string msg) { return {StatusCode::NotFound, std::move(msg)}; }

  static Status ioError(std::string msg) { return {StatusCode::IoError, std::move(msg)}; }

  static Status timeout(std::string msg) { return {StatusCode::Timeout, std::move(msg)}; }

  static Status unavailable(std::string msg) { return {StatusCode::Unavailable, std::move(msg)}; }

  static Status resourceExhausted(std::string msg) {
    return {StatusCode::ResourceExhausted, std::move(msg)};
  }

  static Status internal(std::string msg) { return {StatusCode::Internal, std::move(msg)}; }

  // An I/O failure described by errno, e.g. fromErrno("open /etc/x", ENOENT). ENOENT maps to
  // NotFound so callers can tell a missing file from a broken one.
  static Status fromErrno(std::string_view context, int err);

  bool isOk() const { return code_ == StatusCode::Ok; }

  StatusCode code() const { return code_; }

  const std::string& message() const { return message_; }

  std::string toString() const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}

  StatusCode code_ = StatusCode::Ok;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)

  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }

  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }

  T& value() & { return std::get<0>(v_); }

  const T& value() const& { return std::get<0>(v_); }

  T&& value() && { return std::get<0>(std::move(v_)); }

  T* operator->() { return &value(); }

  const T* operator->() const { return &value(); }

  T& operator*() & { return value(); }

  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cex

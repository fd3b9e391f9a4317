#include "backends/naming.h"

#include <string>

namespace cex {

namespace {

constexpr size_t kMaxQueueName = 200;
constexpr size_t kMaxBlobKey = 1024;
constexpr size_t kMaxJobId = 256;

bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool isPrintableNoSpace(char c) {
  return c > ' ' && c < 0x7f;
}

// Cuts `text` at the next '.', returning the token before it and leaving the rest.
std::string_view nextToken(std::string_view& text) {
  size_t dot = text.find('.');
  std::string_view token = text.substr(0, dot);
  text = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  return token;
}

Status invalid(std::string_view what, std::string_view name, std::string_view why) {
  return Status::invalidArgument(std::string(what) + " '" + std::string(name) +
                                 "': " + std::string(why));
}

}  // namespace

Status checkBucketName(std::string_view bucket) {
  if (bucket.empty()) {
    return invalid("bucket", bucket, "empty");
  }
  for (char c : bucket) {
    if (!isAlnum(c) && c != '_' && c != '-') {
      return invalid("bucket", bucket, "only letters, digits, '_' and '-' are allowed");
    }
  }
  return Status::ok();
}

Status checkKey(std::string_view key) {
  if (key.empty()) {
    return invalid("key", key, "empty");
  }
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c == '.' && (i == 0 || i + 1 == key.size() || key[i - 1] == '.')) {
      return invalid("key", key, "'.' must separate non-empty parts");
    }
    if (!isAlnum(c) && c != '_' && c != '.' && c != '=' && c != '-') {
      return invalid("key", key, "only letters, digits, '_', '.', '=' and '-' are allowed");
    }
  }
  return Status::ok();
}

Status checkQueueName(std::string_view queue) {
  if (queue.empty() || queue.size() > kMaxQueueName) {
    return invalid("queue", queue, "must be 1 to 200 bytes");
  }
  for (char c : queue) {
    if (!isPrintableNoSpace(c)) {
      return invalid("queue", queue, "only printable ASCII without spaces is allowed");
    }
  }
  return Status::ok();
}

Status checkJobId(std::string_view id) {
  if (id.empty() || id.size() > kMaxJobId) {
    return invalid("job id", id, "must be 1 to 256 bytes");
  }
  for (char c : id) {
    if (!isPrintableNoSpace(c)) {
      return invalid("job id", id, "only printable ASCII without spaces is allowed");
    }
  }
  return Status::ok();
}

Status checkBlobKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxBlobKey) {
    return Status::invalidArgument("blob key: must be 1 to 1024 bytes");
  }
  return Status::ok();
}

Status checkSubject(std::string_view subject, bool is_pattern) {
  if (subject.empty()) {
    return invalid("subject", subject, "empty");
  }
  std::string_view rest = subject;
  while (true) {
    bool last = rest.find('.') == std::string_view::npos;
    std::string_view token = nextToken(rest);
    if (token.empty()) {
      return invalid("subject", subject, "empty token");
    }
    // Wildcards are whole tokens, and only in patterns; '>' only at the end.
    bool wildcard = token == "*" || (token == ">" && last);
    if (wildcard && !is_pattern) {
      return invalid("subject", subject, "wildcards are only for subscriptions");
    }
    for (char c : token) {
      if (!isPrintableNoSpace(c) || ((c == '*' || c == '>') && !wildcard)) {
        return invalid("subject", subject, "bad character in a token");
      }
    }
    if (last) {
      return Status::ok();
    }
  }
}

bool subjectMatches(std::string_view pattern, std::string_view subject) {
  while (true) {
    std::string_view want = nextToken(pattern);
    // A final '>' takes the rest of the subject, which must have at least one token.
    if (want == ">") {
      return !subject.empty();
    }
    if (subject.empty()) {
      return false;
    }
    bool subject_ends = subject.find('.') == std::string_view::npos;
    std::string_view got = nextToken(subject);
    if (want != "*" && want != got) {
      return false;
    }
    bool pattern_ends = pattern.empty();
    if (pattern_ends || subject_ends) {
      return pattern_ends && subject_ends;
    }
  }
}

}  // namespace cex

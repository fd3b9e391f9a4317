#pragma once

#include <string_view>

#include "base/status.h"

namespace cex {

// The name rules every backend enforces the same way, so that code which works on the
// embedded backend also works on NATS.

// Bucket names: [A-Za-z0-9_-]+.
Status checkBucketName(std::string_view bucket);

// Key-value keys: [A-Za-z0-9_.=-]+, no leading, trailing or doubled '.'.
Status checkKey(std::string_view key);

// Queue names: non-empty printable ASCII without spaces, at most 200 bytes.
Status checkQueueName(std::string_view queue);

// Job ids (request guids): 1 to 256 bytes of printable ASCII without spaces.
Status checkJobId(std::string_view id);

// Blob keys: non-empty, at most 1024 bytes.
Status checkBlobKey(std::string_view key);

// Subjects to publish on: dot-separated non-empty tokens of printable ASCII without spaces,
// '*' or '>'. Patterns to subscribe to may also have '*' tokens and a final '>' token.
Status checkSubject(std::string_view subject, bool is_pattern);

// Whether `subject` matches `pattern` ('*' = one token, a final '>' = one or more tokens).
// Both are assumed valid.
bool subjectMatches(std::string_view pattern, std::string_view subject);

}  // namespace cex

#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/request_parser.h"
#include "net/http_types.h"

namespace cex {

// What a router puts on a compile queue for one request, in Compiler Explorer's message
// format: `guid`, `compilerId`, `isCMake`/`buildSystem`, the client's `headers` (names in lower
// case) and `queryStringParameters`, then every member of the client's JSON body merged in at
// the top level (a body that is not JSON becomes `source`). cex adds `cacheKey`, under which a
// worker may store the result for other routers.
struct QueueMessageInput {
  std::string guid;
  std::string compiler_id;
  std::string build_system;  // empty for a compile; "cmake", "cargo", ... for builds
  std::string cache_key;     // empty = do not store the result
  const HttpRequest* request = nullptr;
};

std::string buildQueueMessage(const QueueMessageInput& input);

// A queue message as a worker reads it.
struct QueueMessage {
  std::string guid;
  std::string compiler_id;
  std::string build_system;
  std::string cache_key;
  std::string lang;
  // The request as the compile pipeline takes it, or the error the HTTP API would give.
  ParsedRequest parsed;
};

// Parses a message; nullopt when it is not a JSON object with a guid (nothing can be answered).
// JSON style when the client's content type was JSON (with or without a charset), plain-text
// style with the query parameters otherwise.
std::optional<QueueMessage> parseQueueMessage(std::string_view message);

}  // namespace cex

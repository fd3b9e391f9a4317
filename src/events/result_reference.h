#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "backends/blob_store.h"
#include "base/status.h"

namespace cex {

// Results of any size cross the events hub by reference. A publisher whose result is larger
// than an inline limit stores the whole result (the JSON object with its "guid") in the
// BlobStore and publishes only {"guid": <guid>, "blobKey": <key>}; a subscriber that receives an
// object with a "blobKey" member fetches the blob and uses it in place of the frame. The hub
// passes references on like any other result and never looks inside.
//
// The limit defaults to the 31 KiB that Compiler Explorer's publishers use, so frames stay small
// for every gateway (and for the pub/sub link between gateways, whose messages are limited too).
inline constexpr size_t kInlineResultLimit = 31 * 1024;

// How long a referenced result stays in the store: much longer than any subscriber waits.
inline constexpr std::chrono::milliseconds kResultBlobTtl{15 * 60 * 1000};

// The blob key for a guid's result: "events-result.<guid>", with characters outside
// [A-Za-z0-9_-] written as "=XX" (hex) so that every store accepts it.
std::string resultBlobKey(std::string_view guid);

// Returns `json` unchanged when it is at most `inline_limit` bytes; otherwise stores it under
// resultBlobKey(guid) and returns the reference to publish instead.
Result<std::string> referenceLargeResult(BlobStore& blobs, std::string_view guid, std::string json,
                                         size_t inline_limit = kInlineResultLimit,
                                         std::chrono::milliseconds ttl = kResultBlobTtl);

// The same for a queued request that is too large for the queue: stored under
// "request.<guid>" (escaped like resultBlobKey), so that it never meets its own result.
Result<std::string> referenceLargeRequest(BlobStore& blobs, std::string_view guid, std::string json,
                                          size_t inline_limit, std::chrono::milliseconds ttl);

// Returns a received frame's whole result: the frame itself when it is not a reference, or the
// referenced blob. NotFound when the blob is gone (expired, or another store); InvalidArgument
// when the frame is not a JSON object.
Result<std::string> resolveResultReference(BlobStore& blobs, std::string frame);

}  // namespace cex

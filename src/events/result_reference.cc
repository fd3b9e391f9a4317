#include "events/result_reference.h"

#include <fmt/format.h>

#include "base/json_writer.h"
#include "events/frame_fields.h"

namespace cex {

namespace {

// `prefix` and `guid`, with characters of the guid outside [A-Za-z0-9_-] written as "=XX".
std::string blobKey(std::string_view prefix, std::string_view guid) {
  std::string key(prefix);
  for (char c : guid) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-';
    if (plain) {
      key.push_back(c);
    } else {
      key += fmt::format("={:02X}", static_cast<unsigned char>(c));
    }
  }
  return key;
}

Result<std::string> storeAndReference(BlobStore& blobs, std::string_view guid, std::string key,
                                      std::string json, size_t inline_limit,
                                      std::chrono::milliseconds ttl) {
  if (json.size() <= inline_limit) {
    return json;
  }
  Status stored = blobs.put(key, json, ttl);
  if (!stored.isOk()) {
    return stored;
  }
  std::string reference;
  JsonWriter writer(&reference);
  writer.beginObject();
  writer.key("guid").string(guid);
  writer.key("blobKey").string(key);
  writer.endObject();
  return reference;
}

}  // namespace

std::string resultBlobKey(std::string_view guid) {
  return blobKey("events-result.", guid);
}

Result<std::string> referenceLargeResult(BlobStore& blobs, std::string_view guid, std::string json,
                                         size_t inline_limit, std::chrono::milliseconds ttl) {
  return storeAndReference(blobs, guid, resultBlobKey(guid), std::move(json), inline_limit, ttl);
}

Result<std::string> referenceLargeRequest(BlobStore& blobs, std::string_view guid, std::string json,
                                          size_t inline_limit, std::chrono::milliseconds ttl) {
  return storeAndReference(blobs, guid, blobKey("request.", guid), std::move(json), inline_limit,
                           ttl);
}

Result<std::string> resolveResultReference(BlobStore& blobs, std::string frame) {
  auto fields = scanFrameFields(frame);
  if (!fields.ok()) {
    return fields.status();
  }
  if (!fields->blob_key) {
    return frame;
  }
  auto blob = blobs.get(*fields->blob_key);
  if (!blob.ok()) {
    return blob.status();
  }
  if (!blob->has_value()) {
    return Status::notFound("events result reference: no blob " + *fields->blob_key);
  }
  return std::move(**blob);
}

}  // namespace cex

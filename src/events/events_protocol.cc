#include "events/events_protocol.h"

#include "base/json_writer.h"

namespace cex {

bool isValidGuid(std::string_view guid) {
  if (guid.empty() || guid.size() > kMaxGuidBytes) {
    return false;
  }
  for (char c : guid) {
    if (c <= ' ' || c > '~') {
      return false;
    }
  }
  return true;
}

std::string ackFrame(std::string_view guid, std::string_view acknowledged_by) {
  std::string out;
  JsonWriter json(&out);
  json.beginObject();
  json.key("type").string("ack");
  json.key("guid").string(guid);
  json.key("acknowledgedBy").string(acknowledged_by);
  json.endObject();
  return out;
}

}  // namespace cex

#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cex {

// Appends `s` to `out` as a JSON string literal (with quotes). Control characters are escaped
// and byte sequences that are not valid UTF-8 become U+FFFD, so any compiler or program
// output yields valid JSON without losing the surrounding text.
void appendJsonString(std::string* out, std::string_view s);

// A streaming writer of compact JSON (one line, no spaces), for results that our own code
// produces. Commas are inserted automatically. It writes into a caller-owned string; it does
// not check that the document is well formed beyond comma placement.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  // Object member name; the next call writes its value.
  JsonWriter& key(std::string_view name);
  JsonWriter& string(std::string_view value);
  JsonWriter& integer(int64_t value);
  JsonWriter& real(double value);
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  // A value that is already serialised JSON, copied verbatim.
  JsonWriter& raw(std::string_view json);

  std::string* out() { return out_; }

 private:
  // Writes the comma that separates this value from the previous sibling, if any.
  void beforeValue();

  std::string* out_;
  // One entry per open array or object: whether a value has been written in it yet.
  std::vector<bool> has_items_;
  bool after_key_ = false;
};

}  // namespace cex

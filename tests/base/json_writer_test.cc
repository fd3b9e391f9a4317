#include "base/json_writer.h"

#include <gtest/gtest.h>

namespace cex {
namespace {

TEST(JsonWriterTest, WritesCompactNestedDocument) {
  std::string out;
  JsonWriter json(&out);
  json.beginObject();
  json.key("a").integer(1);
  json.key("b").beginArray().string("x").null().boolean(true).endArray();
  json.key("c").beginObject().endObject();
  json.key("d").real(0.5);
  json.endObject();
  EXPECT_EQ(out, R"({"a":1,"b":["x",null,true],"c":{},"d":0.5})");
}

TEST(JsonWriterTest, EscapesControlCharactersAndQuotes) {
  std::string out;
  appendJsonString(&out, std::string("a\"b\\c\n\t\x01", 8) + std::string(1, '\0'));
  EXPECT_EQ(out, R"("a\"b\\c\n\t\u0001\u0000")");
}

TEST(JsonWriterTest, KeepsValidUtf8AndRepairsInvalidBytes) {
  std::string out;
  appendJsonString(&out, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(out, "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");

  out.clear();
  // A lone continuation byte, a truncated sequence, an overlong form and a surrogate.
  appendJsonString(&out,
                   "a\x80"
                   "b\xE2\x82"
                   "c\xC0\xAF"
                   "d\xED\xA0\x80");
  EXPECT_EQ(out,
            "\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD"
            "c\xEF\xBF\xBD\xEF\xBF\xBD"
            "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(JsonWriterTest, NonFiniteNumbersBecomeNull) {
  std::string out;
  JsonWriter json(&out);
  json.beginArray().real(1.0 / 0.0).endArray();
  EXPECT_EQ(out, "[null]");
}

}  // namespace
}  // namespace cex

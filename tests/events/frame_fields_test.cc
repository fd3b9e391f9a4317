#include "events/frame_fields.h"

#include <string>

#include <gtest/gtest.h>

#include "events/events_protocol.h"

namespace cex {
namespace {

TEST(FrameFieldsTest, ReadsTopLevelStringMembers) {
  auto fields = scanFrameFields(
      R"({"guid":"g-1","type":"ack","acknowledgedBy":"gw-2","blobKey":"k","code":0})");
  ASSERT_TRUE(fields.ok()) << fields.status().toString();
  EXPECT_EQ(fields->guid, "g-1");
  EXPECT_EQ(fields->type, "ack");
  EXPECT_EQ(fields->acknowledged_by, "gw-2");
  EXPECT_EQ(fields->blob_key, "k");
  EXPECT_EQ(fields->member_count, 5u);
}

TEST(FrameFieldsTest, NestedMembersDoNotCount) {
  auto fields = scanFrameFields(R"({"asm":[{"guid":"inner"}],"x":{"guid":"deeper"}})");
  ASSERT_TRUE(fields.ok());
  EXPECT_FALSE(fields->guid);
  EXPECT_EQ(fields->member_count, 2u);
}

TEST(FrameFieldsTest, NonStringGuidIsAbsentAndLastRepeatWins) {
  auto number = scanFrameFields(R"({"guid":5})");
  ASSERT_TRUE(number.ok());
  EXPECT_FALSE(number->guid);

  auto repeated = scanFrameFields(R"({"guid":"a","guid":"b"})");
  ASSERT_TRUE(repeated.ok());
  EXPECT_EQ(repeated->guid, "b");

  auto replaced = scanFrameFields(R"({"guid":"a","guid":null})");
  ASSERT_TRUE(replaced.ok());
  EXPECT_FALSE(replaced->guid);
}

TEST(FrameFieldsTest, DecodesEscapes) {
  auto fields = scanFrameFields(R"({"gu\u0069d":"a\"b\\c\/\n\u00e9\ud83d\ude00\udc00"})");
  ASSERT_TRUE(fields.ok()) << fields.status().toString();
  EXPECT_EQ(fields->guid, "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd");
}

TEST(FrameFieldsTest, AcceptsEveryValueKind) {
  auto fields = scanFrameFields(
      " \t\r\n{\"a\":[],\"b\":{},\"c\":[1,-2,3.5,-0.25e+10,6E-2,true,false,null,\"s\",[[]]],"
      "\"guid\":\"x\"} \n");
  ASSERT_TRUE(fields.ok()) << fields.status().toString();
  EXPECT_EQ(fields->guid, "x");
}

TEST(FrameFieldsTest, RejectsMalformedDocuments) {
  for (const char* bad : {
           "",
           "[1]",
           "\"guid\"",
           "{",
           "{\"guid\":\"a\"",
           "{\"guid\":\"a\",}",
           "{\"guid\" \"a\"}",
           "{guid:\"a\"}",
           "{\"a\":01}",
           "{\"a\":1.}",
           "{\"a\":-}",
           "{\"a\":1e}",
           "{\"a\":tru}",
           "{\"a\":[1,]}",
           "{\"a\":[1}",
           "{\"a\":{]}",
           "{\"a\":\"\\x\"}",
           "{\"a\":\"\\u12G4\"}",
           "{\"a\":\"line\nbreak\"}",
           "{\"a\":\"unterminated}",
           "{} {}",
           "{}x",
       }) {
    EXPECT_FALSE(scanFrameFields(bad).ok()) << bad;
  }
}

TEST(FrameFieldsTest, DeepNestingNeedsNoStack) {
  std::string deep = "{\"a\":" + std::string(200'000, '[') + std::string(200'000, ']') + "}";
  EXPECT_TRUE(scanFrameFields(deep).ok());
  std::string unbalanced = "{\"a\":" + std::string(200'000, '[') + "}";
  EXPECT_FALSE(scanFrameFields(unbalanced).ok());
}

TEST(FrameFieldsTest, ErrorsGiveTheOffset) {
  auto fields = scanFrameFields("{\"guid\":\"a\",oops}");
  ASSERT_FALSE(fields.ok());
  EXPECT_EQ(fields.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(fields.status().message().find("byte 12"), std::string::npos)
      << fields.status().message();
}

TEST(EventsProtocolTest, GuidsArePrintableWithoutBlanks) {
  EXPECT_TRUE(isValidGuid("3f2b8c1e-0000-4000-8000-123456789abc"));
  EXPECT_TRUE(isValidGuid("a.b*c>{}"));
  EXPECT_FALSE(isValidGuid(""));
  EXPECT_FALSE(isValidGuid("a b"));
  EXPECT_FALSE(isValidGuid("a\n"));
  EXPECT_FALSE(isValidGuid("caf\xc3\xa9"));
  EXPECT_TRUE(isValidGuid(std::string(kMaxGuidBytes, 'x')));
  EXPECT_FALSE(isValidGuid(std::string(kMaxGuidBytes + 1, 'x')));
}

TEST(EventsProtocolTest, AckFrameHasCompilerExplorersShape) {
  EXPECT_EQ(ackFrame("g\"1", "gw-3"), R"({"type":"ack","guid":"g\"1","acknowledgedBy":"gw-3"})");
}

}  // namespace
}  // namespace cex

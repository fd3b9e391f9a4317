#include "backends/naming.h"

#include <gtest/gtest.h>

namespace cex {
namespace {

TEST(SubjectMatchesTest, ExactSubjects) {
  EXPECT_TRUE(subjectMatches("a.b", "a.b"));
  EXPECT_FALSE(subjectMatches("a.b", "a.c"));
  EXPECT_FALSE(subjectMatches("a.b", "a"));
  EXPECT_FALSE(subjectMatches("a", "a.b"));
  EXPECT_FALSE(subjectMatches("ab", "a"));
}

TEST(SubjectMatchesTest, SingleTokenWildcard) {
  EXPECT_TRUE(subjectMatches("a.*.c", "a.b.c"));
  EXPECT_FALSE(subjectMatches("a.*.c", "a.b.d"));
  EXPECT_FALSE(subjectMatches("a.*", "a"));
  EXPECT_FALSE(subjectMatches("a.*", "a.b.c"));
  EXPECT_TRUE(subjectMatches("*", "a"));
}

TEST(SubjectMatchesTest, TailWildcardNeedsAtLeastOneToken) {
  EXPECT_TRUE(subjectMatches("a.>", "a.b"));
  EXPECT_TRUE(subjectMatches("a.>", "a.b.c.d"));
  EXPECT_FALSE(subjectMatches("a.>", "a"));
  EXPECT_FALSE(subjectMatches("a.>", "b.c"));
  EXPECT_TRUE(subjectMatches(">", "a"));
  EXPECT_TRUE(subjectMatches("*.>", "a.b"));
}

TEST(CheckSubjectTest, WildcardsOnlyInPatternsAndAsWholeTokens) {
  EXPECT_TRUE(checkSubject("events.prod-blue.guid_1", false).isOk());
  EXPECT_TRUE(checkSubject("events.*.>", true).isOk());
  EXPECT_FALSE(checkSubject("events.*", false).isOk());
  EXPECT_FALSE(checkSubject("events.a*", true).isOk());
  EXPECT_FALSE(checkSubject("events.>.a", true).isOk());
  EXPECT_FALSE(checkSubject("events..a", false).isOk());
  EXPECT_FALSE(checkSubject("events.", false).isOk());
  EXPECT_FALSE(checkSubject(".events", false).isOk());
  EXPECT_FALSE(checkSubject("a b", false).isOk());
}

TEST(CheckKeyTest, Rules) {
  EXPECT_TRUE(checkKey("prod.gcc-12=x_y").isOk());
  EXPECT_FALSE(checkKey("").isOk());
  EXPECT_FALSE(checkKey("prod#gcc").isOk());
  EXPECT_FALSE(checkKey("a/b").isOk());
  EXPECT_FALSE(checkKey("a.").isOk());
  EXPECT_FALSE(checkKey("a..b").isOk());
  EXPECT_TRUE(checkBucketName("CEX_routes-1").isOk());
  EXPECT_FALSE(checkBucketName("a.b").isOk());
  EXPECT_TRUE(checkQueueName("prod-blue").isOk());
  EXPECT_FALSE(checkQueueName("prod blue").isOk());
  EXPECT_FALSE(checkQueueName(std::string(201, 'q')).isOk());
}

}  // namespace
}  // namespace cex

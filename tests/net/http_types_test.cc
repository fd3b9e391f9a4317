#include "net/http_types.h"

#include <gtest/gtest.h>

namespace cex {
namespace {

TEST(PercentDecodeTest, DecodesEscapes) {
  EXPECT_EQ(percentDecode("c%2B%2B"), "c++");
  EXPECT_EQ(percentDecode("%2f%2F"), "//");
  EXPECT_EQ(percentDecode("a%20b"), "a b");
  EXPECT_EQ(percentDecode("%00", false), std::string(1, '\0'));
}

TEST(PercentDecodeTest, PlusIsSpaceOnlyWhenAsked) {
  EXPECT_EQ(percentDecode("a+b"), "a+b");
  EXPECT_EQ(percentDecode("a+b", true), "a b");
  EXPECT_EQ(percentDecode("a%2Bb", true), "a+b");
}

TEST(PercentDecodeTest, KeepsMalformedEscapes) {
  EXPECT_EQ(percentDecode("100%"), "100%");
  EXPECT_EQ(percentDecode("%4"), "%4");
  EXPECT_EQ(percentDecode("%zz%41"), "%zzA");
  EXPECT_EQ(percentDecode("%%41"), "%A");
  EXPECT_EQ(percentDecode("%4g"), "%4g");
  EXPECT_EQ(percentDecode(""), "");
}

TEST(ParseQueryStringTest, SplitsAndDecodes) {
  auto pairs = parseQueryString("fields=id,name&lang=c%2B%2B&q=a+b&flag&=v&&x=");
  ASSERT_EQ(pairs.size(), 6u);
  EXPECT_EQ(pairs[0], (std::pair<std::string, std::string>{"fields", "id,name"}));
  EXPECT_EQ(pairs[1], (std::pair<std::string, std::string>{"lang", "c++"}));
  EXPECT_EQ(pairs[2], (std::pair<std::string, std::string>{"q", "a b"}));
  EXPECT_EQ(pairs[3], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(pairs[4], (std::pair<std::string, std::string>{"", "v"}));
  EXPECT_EQ(pairs[5], (std::pair<std::string, std::string>{"x", ""}));
}

TEST(ParseQueryStringTest, ValueMayContainEquals) {
  auto pairs = parseQueryString("a=b=c");
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].second, "b=c");
  EXPECT_TRUE(parseQueryString("").empty());
  EXPECT_TRUE(parseQueryString("&&").empty());
}

TEST(HttpRequestTest, HeaderIsCaseInsensitiveAndFirstWins) {
  HttpRequest request;
  request.headers = {{"Content-Type", "application/json"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_EQ(request.header("content-type"), "application/json");
  EXPECT_EQ(request.header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(request.header("x-A"), "1");
  EXPECT_FALSE(request.header("Accept").has_value());
}

TEST(HttpRequestTest, QueryParamDecodes) {
  HttpRequest request;
  request.query = "fields=id%2Cname&q=hello+world&a%20b=1&empty=&q=second";
  EXPECT_EQ(request.queryParam("fields"), "id,name");
  EXPECT_EQ(request.queryParam("q"), "hello world");
  EXPECT_EQ(request.queryParam("a b"), "1");
  EXPECT_EQ(request.queryParam("empty"), "");
  EXPECT_FALSE(request.queryParam("missing").has_value());
  EXPECT_FALSE(request.queryParam("Fields").has_value());
}

TEST(HttpResponseTest, SetHeaderReplacesCaseInsensitively) {
  HttpResponse response;
  response.setHeader("Content-Type", "text/plain");
  response.setHeader("X-Other", "1");
  response.setHeader("content-type", "application/json");
  ASSERT_EQ(response.headers.size(), 2u);
  EXPECT_EQ(response.header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(response.headers[0].name, "Content-Type");
  EXPECT_FALSE(response.header("Missing").has_value());
}

}  // namespace
}  // namespace cex

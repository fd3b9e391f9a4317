#include "net/url.h"

#include <gtest/gtest.h>

namespace cex {
namespace {

TEST(UrlTest, SplitsHostPortAndTarget) {
  auto url = parseUrl("http://example.com:8080/api/compilers?fields=id,name#top");
  ASSERT_TRUE(url.ok()) << url.status().toString();
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->host, "example.com");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/api/compilers?fields=id,name");
  EXPECT_EQ(url->hostHeader(), "example.com:8080");
}

TEST(UrlTest, DefaultsPortAndPath) {
  auto plain = parseUrl("HTTP://Example.com");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->scheme, "http");
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->target, "/");
  EXPECT_EQ(plain->hostHeader(), "Example.com");

  auto query_only = parseUrl("ws://events:10240?x=1");
  ASSERT_TRUE(query_only.ok());
  EXPECT_EQ(query_only->port, 10240);
  EXPECT_EQ(query_only->target, "/?x=1");
}

TEST(UrlTest, Ipv6LiteralsKeepTheirBracketsOnlyInTheHostHeader) {
  auto url = parseUrl("ws://[::1]:9000/prod");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9000);
  EXPECT_EQ(url->hostHeader(), "[::1]:9000");
  EXPECT_EQ(parseUrl("http://[::1]/")->hostHeader(), "[::1]");
}

TEST(UrlTest, RefusesWhatCexCannotSpeakOrSendSafely) {
  for (const char* text :
       {"https://example.com/", "wss://example.com/", "ftp://x/", "example.com/x", "http://",
        "http://:80/", "http://host:99999/", "http://host:0/", "http://host:8a/",
        "http://user:pw@host/", "http://[::1/", "http://host/a b", "http://host/a\r\nX: y"}) {
    auto url = parseUrl(text);
    EXPECT_FALSE(url.ok()) << text;
    if (!url.ok()) {
      EXPECT_EQ(url.status().code(), StatusCode::InvalidArgument) << text;
    }
  }
}

}  // namespace
}  // namespace cex

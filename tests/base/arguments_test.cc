#include "base/arguments.h"

#include <gtest/gtest.h>

namespace cex {
namespace {

using Args = std::vector<std::string>;

TEST(SplitArgumentsTest, SplitsOnBlanks) {
  EXPECT_EQ(splitArguments("  -O2   -Wall\t-g\n"), (Args{"-O2", "-Wall", "-g"}));
  EXPECT_EQ(splitArguments(""), Args{});
  EXPECT_EQ(splitArguments("   "), Args{});
}

TEST(SplitArgumentsTest, HonoursQuotesAndEscapes) {
  EXPECT_EQ(splitArguments(R"(-DMSG='hello world' -DX="a \"b\"" a\ b)"),
            (Args{"-DMSG=hello world", R"(-DX=a "b")", "a b"}));
  EXPECT_EQ(splitArguments(R"('it''s' "")"), (Args{"its", ""}));
  EXPECT_EQ(splitArguments(R"('\n')"), (Args{R"(\n)"}));
}

TEST(SplitArgumentsTest, UnterminatedQuoteRunsToTheEnd) {
  EXPECT_EQ(splitArguments(R"(-a "b c)"), (Args{"-a", "b c"}));
}

}  // namespace
}  // namespace cex

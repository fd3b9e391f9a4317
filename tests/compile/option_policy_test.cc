#include "compile/option_policy.h"

#include <gtest/gtest.h>

namespace cex {
namespace {

using Args = std::vector<std::string>;

TEST(OptionPolicyTest, DefaultPolicyRefusesDangerousOptions) {
  auto policy = OptionPolicy::create("", "");
  ASSERT_TRUE(policy.ok());
  for (const char* bad :
       {"-fplugin=./x.so", "-specs=evil", "--specs=x", "-wrapper", "@args.txt", "-B/tmp", "-o",
        "-o/etc/passwd", "--sysroot=/", "-fdump-tree-all=/tmp/x", "-Wl,-T,/etc/passwd", "-load",
        "-fuse-ld=/bin/sh", "-Clinker=/bin/sh", "linker=/bin/sh", "--", "-MF"}) {
    EXPECT_EQ(policy->badOptions({bad}), Args{bad}) << bad;
  }
}

TEST(OptionPolicyTest, DefaultPolicyAcceptsOrdinaryOptions) {
  auto policy = OptionPolicy::create("", "");
  ASSERT_TRUE(policy.ok());
  Args ok = {"-O2",
             "-std=c++20",
             "-Wall",
             "-march=haswell",
             "-fno-exceptions",
             "-DNAME=value",
             "-fdump-tree-optimized",
             "-fprofile-update=atomic",
             "-fuse-ld=lld",
             "-Copt-level=3",
             "-E",
             "-x",
             "c++"};
  EXPECT_EQ(policy->badOptions(ok), Args{});
}

TEST(OptionPolicyTest, ConfiguredPatternsReplaceTheDefault) {
  auto policy = OptionPolicy::create("^-[A-Za-z]", "-fplugin");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->badOptions({"-O2", "-fplugin=x", "foo", "-o"}), (Args{"-fplugin=x", "foo"}));
}

TEST(OptionPolicyTest, InvalidPatternIsAnError) {
  auto policy = OptionPolicy::create("", "(unclosed");
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), StatusCode::InvalidArgument);
}

}  // namespace
}  // namespace cex

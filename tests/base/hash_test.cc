#include "base/hash.h"

#include <gtest/gtest.h>

namespace cex {
namespace {

TEST(HashTest, FieldsAreFramed) {
  Hasher a;
  a.add("ab").add("c");
  Hasher b;
  b.add("a").add("bc");
  EXPECT_NE(a.digest(), b.digest());

  Hasher c;
  c.add("ab").add("c");
  EXPECT_EQ(a.digest(), c.digest());
  EXPECT_EQ(a.digest().toHex().size(), 32u);
}

}  // namespace
}  // namespace cex

#include "compile/diagnostics.h"

#include <gtest/gtest.h>

namespace cex {
namespace {

OutputMasking masking() {
  return {"/tmp/cex-compile-abc123", "/tmp/cex-compile-abc123/example.cpp", "example.cpp"};
}

TEST(DiagnosticsTest, TagsMainFileErrorsWithColoursStripped) {
  std::string out =
      "\x1b[01m\x1b[K/tmp/cex-compile-abc123/example.cpp:2:17:\x1b[m\x1b[K "
      "\x1b[01;31m\x1b[Kerror: \x1b[m\x1b[Kexpected ';' before '}' token\n";
  auto lines = parseCompilerOutput(out, masking());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text.find("/tmp/"), std::string::npos);
  EXPECT_NE(lines[0].text.find("<source>:2:17:"), std::string::npos);
  ASSERT_TRUE(lines[0].tag);
  EXPECT_EQ(lines[0].tag->line, 2);
  EXPECT_EQ(lines[0].tag->column, 17);
  EXPECT_EQ(lines[0].tag->severity, 3);
  EXPECT_EQ(lines[0].tag->file, "example.cpp");
  EXPECT_EQ(lines[0].tag->text, "error: expected ';' before '}' token");
}

TEST(DiagnosticsTest, SeverityAndOtherFiles) {
  std::string out =
      "/tmp/cex-compile-abc123/header.h:3:1: warning: unused\n"
      "/tmp/cex-compile-abc123/example.cpp:7: note: declared here\n"
      "/tmp/cex-compile-abc123/example.cpp: In function 'int f()':\n";
  auto lines = parseCompilerOutput(out, masking());
  ASSERT_EQ(lines.size(), 3u);
  ASSERT_TRUE(lines[0].tag);
  EXPECT_EQ(lines[0].tag->file, "header.h");
  EXPECT_EQ(lines[0].tag->severity, 2);
  ASSERT_TRUE(lines[1].tag);
  EXPECT_EQ(lines[1].tag->line, 7);
  EXPECT_EQ(lines[1].tag->column, 0);
  EXPECT_EQ(lines[1].tag->severity, 1);
  EXPECT_FALSE(lines[2].tag);
  EXPECT_EQ(lines[2].text, "<source>: In function 'int f()':");
}

TEST(DiagnosticsTest, KeepsBlankLinesButNotTheFinalNewline) {
  auto lines = parseCompilerOutput("a\n\nb\r\n", masking());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].text, "");
  EXPECT_EQ(lines[2].text, "b");
  EXPECT_TRUE(parseCompilerOutput("", masking()).empty());
}

TEST(DiagnosticsTest, StripAnsiRemovesCsiSequences) {
  EXPECT_EQ(stripAnsi("\x1b[01;31mred\x1b[0m plain\x1b[K"), "red plain");
}

}  // namespace
}  // namespace cex

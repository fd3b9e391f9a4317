// Behaviours of the text parser that the golden corpus does not exercise (it has no `trim`
// expectations, for instance), and the exact JSON shape of the result.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "asm/asm_parser.h"
#include "base/json_writer.h"

namespace cex {
namespace {

AsmFilters noFilters() {
  AsmFilters filters;
  filters.labels = false;
  filters.directives = false;
  filters.comment_only = false;
  return filters;
}

ParsedAsm parse(std::string_view listing, const AsmFilters& filters) {
  AsmParseOptions options;
  options.filters = filters;
  return parseAsmText(listing, options);
}

TEST(AsmTextParserTest, TabsExpandWithTheReferenceQuirk) {
  ParsedAsm parsed = parse("\tmovl\t$1, %eax\n1:\tcall\tmcount\n", noFilters());
  ASSERT_EQ(parsed.lines.size(), 2u);
  // Tabs at columns 0 and 4 (mod 8) line up...
  EXPECT_EQ(parsed.lines[0].text, "        movl    $1, %eax");
  // ...a tab after one at column 2 is off: eight spaces after "call" instead of four.
  EXPECT_EQ(parsed.lines[1].text, "1:      call        mcount");
}

TEST(AsmTextParserTest, TrimCollapsesBlanksButNotStrings) {
  AsmFilters filters = noFilters();
  filters.trim = true;
  ParsedAsm parsed =
      parse("\tmovl\t$1, %eax   # note\n\t.string\t\"a  b\"\n x  y \n   \t\n", filters);
  ASSERT_EQ(parsed.lines.size(), 4u);
  EXPECT_EQ(parsed.lines[0].text, "  movl $1, %eax # note");
  EXPECT_EQ(parsed.lines[1].text, "  .string \"a  b\"");
  // One leading blank stays one; a trailing run becomes a single blank.
  EXPECT_EQ(parsed.lines[2].text, " x y ");
  // A line of blanks is a blank line.
  EXPECT_EQ(parsed.lines[3].text, "");
}

TEST(AsmTextParserTest, LabelColumnsAreUtf16AndFollowTrim) {
  std::string listing =
      ".LC0:\n"
      "\t.string\t\"x\"\n"
      "main:\n"
      "\tleaq\t\"\xC3\xA9\xF0\x9F\xA4\x94\"+.LC0(%rip), %rax\n";
  AsmFilters filters;  // defaults: labels, directives, commentOnly
  filters.trim = true;
  ParsedAsm parsed = parse(listing, filters);
  const AsmLine& lea = parsed.lines.back();
  EXPECT_EQ(lea.text, "  leaq \"\xC3\xA9\xF0\x9F\xA4\x94\"+.LC0(%rip), %rax");
  ASSERT_EQ(lea.labels.size(), 1u);
  EXPECT_EQ(lea.labels[0].name, ".LC0");
  // "  leaq " is 7 columns, the string 5 (é counts one, the emoji two), then '+'.
  EXPECT_EQ(lea.labels[0].start_col, 14);
  EXPECT_EQ(lea.labels[0].end_col, 18);
}

TEST(AsmTextParserTest, BlankLinesCollapseAndNeverLead) {
  ParsedAsm parsed = parse("\n\n\tnop\n\n\n\tnop\n\n", noFilters());
  ASSERT_EQ(parsed.lines.size(), 4u);
  EXPECT_EQ(parsed.lines[0].text, "        nop");
  EXPECT_EQ(parsed.lines[1].text, "");
  EXPECT_EQ(parsed.lines[2].text, "        nop");
  EXPECT_EQ(parsed.lines[3].text, "");
  EXPECT_EQ(parsed.filtered_count, 7 - 4);
}

TEST(AsmTextParserTest, DebugCallsFilterDropsLlvmDebugIntrinsics) {
  std::string listing =
      "  call void @llvm.dbg.declare(metadata ptr %x)\n"
      "  tail call void @llvm.dbg.value(metadata i32 0)\n"
      "  #dbg_value(i32 0, !1, !DIExpression(), !2)\n"
      "  call void @foo()\n";
  AsmFilters filters = noFilters();
  EXPECT_EQ(parse(listing, filters).lines.size(), 4u);
  filters.debug_calls = true;
  ParsedAsm parsed = parse(listing, filters);
  ASSERT_EQ(parsed.lines.size(), 1u);
  EXPECT_EQ(parsed.lines[0].text, "  call void @foo()");
}

TEST(AsmTextParserTest, FileNamesAreMaskedOrKept) {
  std::string listing =
      "\t.file 1 \"/tmp/compiler-explorer-compiler123/example.cpp\"\n"
      "\t.file 2 \"/usr/include\" \"stdio.h\"\n"
      "\t.file 3 \"/app\" \"/opt/lib/vec.h\"\n"
      "\t.globl f\n"
      "f:\n"
      "\t.loc 1 3 7\n"
      "\tnop\n"
      "\t.loc 2 10 0\n"
      "\tnop\n"
      "\t.loc 3 5 1 is_stmt 0\n"
      "\tnop\n";
  ParsedAsm masked = parse(listing, AsmFilters{});
  ASSERT_EQ(masked.lines.size(), 4u);
  ASSERT_TRUE(masked.lines[1].source);
  EXPECT_FALSE(masked.lines[1].source->file);
  EXPECT_EQ(masked.lines[1].source->line, 3);
  EXPECT_EQ(masked.lines[1].source->column, 7);
  EXPECT_FALSE(masked.lines[1].source->mainsource);
  EXPECT_EQ(masked.lines[2].source->file, "/usr/include/stdio.h");
  EXPECT_EQ(masked.lines[2].source->column, 0);
  // An absolute file name ignores the directory.
  EXPECT_EQ(masked.lines[3].source->file, "/opt/lib/vec.h");

  AsmFilters keep;
  keep.dont_mask_filenames = true;
  ParsedAsm kept = parse(listing, keep);
  EXPECT_EQ(kept.lines[1].source->file, "example.cpp");
  EXPECT_EQ(kept.lines[1].source->mainsource, true);
  EXPECT_EQ(kept.lines[2].source->mainsource, false);
}

TEST(AsmTextParserTest, QuotedLabelsAreDefinedAndReferenced) {
  std::string listing =
      "\"foo bar\":\n"
      "\tnop\n"
      "\"x.y\":\n"
      "\tjmp \"x.y\"\n";
  ParsedAsm parsed = parse(listing, AsmFilters{});
  ASSERT_EQ(parsed.label_definitions.size(), 1u);
  EXPECT_EQ(parsed.label_definitions[0].first, "\"x.y\"");
  const AsmLine& jump = parsed.lines.back();
  ASSERT_EQ(jump.labels.size(), 1u);
  EXPECT_EQ(jump.labels[0].name, "\"x.y\"");
}

std::vector<std::string> texts(const ParsedAsm& parsed) {
  std::vector<std::string> out;
  for (const AsmLine& line : parsed.lines) {
    out.push_back(line.text);
  }
  return out;
}

TEST(AsmTextParserTest, BlockCommentsOpeningALineGoWithTheWhitespaceAfterThem) {
  std::string listing =
      "\t/* one\n"
      "   two */ \n"
      "\n"
      "\tmovl\t$1, %eax /* kept */\n"
      "/* a */ /* b */ ret\n"
      "\t/* never closed\n"
      "nop\n";
  AsmFilters filters;
  filters.labels = filters.directives = false;
  ParsedAsm parsed = parse(listing, filters);
  // The whitespace after a comment includes newlines and the next line's indent; text after a
  // comment on its closing line is a line of its own, where no other comment is stripped.
  EXPECT_EQ(texts(parsed), (std::vector<std::string>{"movl    $1, %eax /* kept */", "/* b */ ret",
                                                     "        /* never closed", "nop"}));
  EXPECT_EQ(parsed.filtered_count, 0);

  // Without the commentOnly filter every line stays as it is.
  filters.comment_only = false;
  EXPECT_EQ(parse(listing, filters).lines.size(), 7u);
}

TEST(AsmTextParserTest, BlockCommentAfterALoneCarriageReturnJoinsItsNeighbours) {
  // A lone '\r' starts a line for comment stripping but does not end one, so the text on
  // either side of the comment becomes one line.
  ParsedAsm parsed = parse("a\r/* c */b\n.L1: \r/* x */\n\r/* q */\tcall .L1\n", AsmFilters{});
  EXPECT_EQ(texts(parsed), (std::vector<std::string>{"a\rb", ".L1: \rcall .L1"}));
  ASSERT_EQ(parsed.label_definitions.size(), 1u);
  EXPECT_EQ(parsed.label_definitions[0].first, ".L1");
}

TEST(AsmJsonTest, LinesHaveTheApiShape) {
  ParsedAsm parsed;
  AsmLine& label = parsed.lines.emplace_back();
  label.text = "main:";
  AsmLine& code = parsed.lines.emplace_back();
  code.text = "  call foo@PLT";
  code.source.emplace().line = 3;
  code.source->column = 5;
  AsmLabelRef& ref = code.labels.emplace_back();
  ref.name = "foo@PLT";
  ref.target = "foo";
  ref.start_col = 8;
  ref.end_col = 15;
  AsmLine& binary = parsed.lines.emplace_back();
  binary.text = " ret";
  binary.source.emplace().line = 4;
  binary.source->file = "lib.h";
  binary.source->mainsource = false;
  binary.address = 4198688;
  binary.opcodes = std::vector<std::string>{"c3"};
  parsed.label_definitions.emplace_back("main", 1);
  parsed.parsing_time_ms = 2;
  parsed.filtered_count = 7;

  std::string out;
  JsonWriter json(&out);
  json.beginObject();
  writeAsmResultMembers(json, parsed);
  json.endObject();
  EXPECT_EQ(out,
            "{\"asm\":["
            "{\"text\":\"main:\",\"source\":null,\"labels\":[]},"
            "{\"text\":\"  call foo@PLT\",\"source\":{\"file\":null,\"line\":3,\"column\":5},"
            "\"labels\":[{\"name\":\"foo@PLT\",\"target\":\"foo\","
            "\"range\":{\"startCol\":8,\"endCol\":15}}]},"
            "{\"text\":\" ret\",\"source\":{\"file\":\"lib.h\",\"line\":4,\"mainsource\":false},"
            "\"labels\":[],\"address\":4198688,\"opcodes\":[\"c3\"]}],"
            "\"labelDefinitions\":{\"main\":1},\"parsingTime\":2,\"filteredCount\":7}");
}

}  // namespace
}  // namespace cex

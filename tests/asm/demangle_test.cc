#include <string>

#include <gtest/gtest.h>

#include "asm/asm_parser.h"

namespace cex {
namespace {

AsmLabelRef ref(std::string name, int start_col, std::optional<std::string> target = {}) {
  AsmLabelRef label;
  label.name = std::move(name);
  label.target = std::move(target);
  label.start_col = start_col;
  label.end_col = start_col + static_cast<int>(label.name.size());
  return label;
}

AsmLine line(std::string text, std::vector<AsmLabelRef> labels = {}) {
  AsmLine out;
  out.text = std::move(text);
  out.labels = std::move(labels);
  return out;
}

TEST(AsmDemangleTest, ReplacesSymbolsInTextLabelsAndDefinitions) {
  ParsedAsm parsed;
  parsed.lines.push_back(line("_Z3fooi:"));
  parsed.lines.push_back(line("        call    _Z3fooi", {ref("_Z3fooi", 17)}));
  parsed.label_definitions.emplace_back("_Z3fooi", 1);
  parsed.label_definitions.emplace_back(".LC0", 2);

  demangleAsm(&parsed);

  EXPECT_EQ(parsed.lines[0].text, "foo(int):");
  EXPECT_EQ(parsed.lines[1].text, "        call    foo(int)");
  const AsmLabelRef& label = parsed.lines[1].labels[0];
  EXPECT_EQ(label.name, "foo(int)");
  EXPECT_FALSE(label.target);
  EXPECT_EQ(label.start_col, 17);
  EXPECT_EQ(label.end_col, 25);
  ASSERT_EQ(parsed.label_definitions.size(), 2u);
  EXPECT_EQ(parsed.label_definitions[0], std::make_pair(std::string("foo(int)"), 1));
  EXPECT_EQ(parsed.label_definitions[1], std::make_pair(std::string(".LC0"), 2));
}

TEST(AsmDemangleTest, SuffixStaysAfterTheDemangledName) {
  ParsedAsm parsed;
  parsed.lines.push_back(line("call _Z3fooi@PLT", {ref("_Z3fooi@PLT", 6, "_Z3fooi")}));
  parsed.lines.push_back(line("mov rax, QWORD PTR _ZN1A1xE@GOTPCREL[rip]",
                              {ref("_ZN1A1xE@GOTPCREL", 20, "_ZN1A1xE")}));

  demangleAsm(&parsed);

  EXPECT_EQ(parsed.lines[0].text, "call foo(int)@PLT");
  const AsmLabelRef& call = parsed.lines[0].labels[0];
  EXPECT_EQ(call.name, "foo(int)@PLT");
  EXPECT_EQ(call.target, "foo(int)");
  EXPECT_EQ(call.start_col, 6);
  EXPECT_EQ(call.end_col, 6 + 12);
  EXPECT_EQ(parsed.lines[1].text, "mov rax, QWORD PTR A::x@GOTPCREL[rip]");
  EXPECT_EQ(parsed.lines[1].labels[0].name, "A::x@GOTPCREL");
  EXPECT_EQ(parsed.lines[1].labels[0].target, "A::x");
}

TEST(AsmDemangleTest, LongestSymbolWinsOverItsPrefix) {
  ParsedAsm parsed;
  // "_Z1fv" is a prefix of both, but each symbol is demangled as a whole.
  parsed.lines.push_back(line("jmp _Z1fv.part.0"));
  parsed.lines.push_back(line("call _Z1fv"));
  // Not a valid symbol as a whole: left alone rather than turned into "f()_bar".
  parsed.lines.push_back(line("call _Z1fv_bar"));

  demangleAsm(&parsed);

  EXPECT_EQ(parsed.lines[0].text, "jmp f() [clone .part.0]");
  EXPECT_EQ(parsed.lines[1].text, "call f()");
  EXPECT_EQ(parsed.lines[2].text, "call _Z1fv_bar");
}

TEST(AsmDemangleTest, LaterRangesMoveWithEarlierReplacements) {
  ParsedAsm parsed;
  parsed.lines.push_back(line("  .quad _Z1av-_Z1bv", {ref("_Z1av", 9), ref("_Z1bv", 15)}));

  demangleAsm(&parsed);

  const AsmLine& out = parsed.lines[0];
  EXPECT_EQ(out.text, "  .quad a()-b()");
  ASSERT_EQ(out.labels.size(), 2u);
  EXPECT_EQ(out.labels[0].name, "a()");
  EXPECT_EQ(out.labels[0].start_col, 9);
  EXPECT_EQ(out.labels[0].end_col, 12);
  EXPECT_EQ(out.labels[1].name, "b()");
  EXPECT_EQ(out.labels[1].start_col, 13);
  EXPECT_EQ(out.labels[1].end_col, 16);
}

TEST(AsmDemangleTest, ColumnsCountUtf16UnitsBeforeTheSymbol) {
  ParsedAsm parsed;
  // "é" is two bytes but one column; "🤔" is four bytes and two columns.
  parsed.lines.push_back(line("x \"\xC3\xA9\xF0\x9F\xA4\x94\" _Z1av", {ref("_Z1av", 9)}));

  demangleAsm(&parsed);

  EXPECT_EQ(parsed.lines[0].labels[0].name, "a()");
  EXPECT_EQ(parsed.lines[0].labels[0].start_col, 9);
  EXPECT_EQ(parsed.lines[0].labels[0].end_col, 12);
}

TEST(AsmDemangleTest, ConstructorAndDestructorVariantsAreNamed) {
  ParsedAsm parsed;
  parsed.lines.push_back(line("call _ZN1AC2Ev"));
  parsed.lines.push_back(line("call _ZN1AC1Ei"));
  parsed.lines.push_back(line("call _ZN1AD0Ev"));

  demangleAsm(&parsed);

  EXPECT_EQ(parsed.lines[0].text, "call A::A() [base object constructor]");
  EXPECT_EQ(parsed.lines[1].text, "call A::A(int) [complete object constructor]");
  EXPECT_EQ(parsed.lines[2].text, "call A::~A() [deleting destructor]");
}

TEST(AsmDemangleTest, LeavesOtherNamesAlone) {
  ParsedAsm parsed;
  parsed.lines.push_back(line("main:"));
  parsed.lines.push_back(line("  lea rdi, .LC0[rip]  # _Z"));
  parsed.lines.push_back(line("  mov eax, i"));
  parsed.label_definitions.emplace_back("main", 1);

  demangleAsm(&parsed);

  EXPECT_EQ(parsed.lines[0].text, "main:");
  EXPECT_EQ(parsed.lines[1].text, "  lea rdi, .LC0[rip]  # _Z");
  EXPECT_EQ(parsed.lines[2].text, "  mov eax, i");
  EXPECT_EQ(parsed.label_definitions[0].first, "main");
}

}  // namespace
}  // namespace cex

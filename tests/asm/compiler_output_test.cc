// Parses real listings of this machine's g++ and clang++ and checks the constructs that
// matter in practice: jump tables, PLT calls, rip-relative operands, string constants,
// local labels of inline assembly, cold partitions, section switches and source lines.

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "asm/asm_parser.h"

namespace cex {
namespace {

namespace fs = std::filesystem;

// Compiles `source` (saved as example.cpp) to assembly in a fresh temp dir; nullopt when the
// compiler is not installed or fails.
std::optional<std::string> compileToAsm(const std::string& compiler, const std::string& flags,
                                        const std::string& source) {
  char dir_template[] = "/tmp/cex-asm-test-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    return std::nullopt;
  }
  fs::path dir = dir_template;
  std::ofstream(dir / "example.cpp") << source;
  std::string command = "cd " + dir.string() + " && " + compiler + " " + flags +
                        " -S -o out.s example.cpp 2>/dev/null";
  int rc = std::system(command.c_str());
  std::optional<std::string> listing;
  if (rc == 0) {
    std::ifstream in(dir / "out.s");
    std::stringstream buffer;
    buffer << in.rdbuf();
    listing = buffer.str();
  }
  fs::remove_all(dir);
  return listing;
}

AsmParseOptions defaultOptions() {
  AsmParseOptions options;  // labels, directives and commentOnly filters on
  return options;
}

std::optional<int> definitionOf(const ParsedAsm& parsed, std::string_view name) {
  for (const auto& [label, index] : parsed.label_definitions) {
    if (label == name) {
      return index;
    }
  }
  return std::nullopt;
}

// The first line whose text, with blanks collapsed, equals `text`.
const AsmLine* findLine(const ParsedAsm& parsed, std::string_view text) {
  for (const AsmLine& line : parsed.lines) {
    std::string squashed;
    for (char c : line.text) {
      bool blank = c == ' ' || c == '\t';
      if (blank && (squashed.empty() || squashed.back() == ' ')) {
        continue;
      }
      squashed.push_back(blank ? ' ' : c);
    }
    while (!squashed.empty() && squashed.back() == ' ') {
      squashed.pop_back();
    }
    if (squashed == text) {
      return &line;
    }
  }
  return nullptr;
}

// The label reference named `name` on `line`, checked to sit where its name is in the text.
const AsmLabelRef* refNamed(const AsmLine& line, std::string_view name) {
  for (const AsmLabelRef& ref : line.labels) {
    if (ref.name == name) {
      EXPECT_EQ(line.text.substr(ref.start_col - 1, ref.end_col - ref.start_col), name)
          << "range of " << name << " in '" << line.text << "'";
      return &ref;
    }
  }
  return nullptr;
}

constexpr const char* kJumpTableSource = R"(
int jt(int x, int y) {
  switch (x) {
    case 0: return y * 3 + 1; case 1: return y - 7; case 2: return y * y;
    case 3: return y ^ 0x55; case 4: return y / 3; case 5: return y << 4;
    case 6: return y % 7; case 7: return y * 11 - 5;
  }
  return 0;
}
)";

TEST(AsmCompilerOutputTest, GccJumpTableKeepsTableAndTargets) {
  auto listing = compileToAsm("g++", "-O2 -g -fPIE -masm=intel", kJumpTableSource);
  if (!listing) {
    GTEST_SKIP() << "g++ not available";
  }
  ParsedAsm parsed = parseAsmText(*listing, defaultOptions());

  // The table is "lea rcx, .L4[rip]" then ".L4:" followed by ".long .Lk-.L4" entries.
  int entries = 0;
  for (size_t i = 0; i < parsed.lines.size(); ++i) {
    const AsmLine& line = parsed.lines[i];
    if (line.text.find(".long") == std::string::npos || line.labels.size() != 2) {
      continue;
    }
    ++entries;
    const AsmLabelRef& target = line.labels[0];
    const AsmLabelRef& base = line.labels[1];
    ASSERT_TRUE(definitionOf(parsed, target.name)) << line.text;
    ASSERT_TRUE(refNamed(line, base.name));
    auto base_index = definitionOf(parsed, base.name);
    ASSERT_TRUE(base_index);
    EXPECT_EQ(parsed.lines[*base_index - 1].text, base.name + ":");
  }
  EXPECT_EQ(entries, 8);
}

constexpr const char* kCallsSource = R"(
int g;
__attribute__((noinline)) int foo(int x) { return x * 3 + g; }
extern "C" int puts(const char*);
int bar(int y) { puts("hi"); return foo(y) + g; }
)";

TEST(AsmCompilerOutputTest, PicCallsGoThroughPltAndKeepTheirTarget) {
  auto listing = compileToAsm("g++", "-O2 -fPIC -masm=intel", kCallsSource);
  if (!listing) {
    GTEST_SKIP() << "g++ not available";
  }
  ParsedAsm parsed = parseAsmText(*listing, defaultOptions());

  const AsmLine* call = findLine(parsed, "call _Z3fooi@PLT");
  ASSERT_NE(call, nullptr);
  const AsmLabelRef* ref = refNamed(*call, "_Z3fooi@PLT");
  ASSERT_NE(ref, nullptr);
  EXPECT_EQ(ref->target, "_Z3fooi");
  // puts is not defined here, so its call names no label.
  const AsmLine* puts = findLine(parsed, "call puts@PLT");
  ASSERT_NE(puts, nullptr);
  EXPECT_TRUE(puts->labels.empty());
  // The global is reached through the GOT: g@GOTPCREL names g.
  const AsmLine* got = findLine(parsed, "mov rdx, QWORD PTR g@GOTPCREL[rip]");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(refNamed(*got, "g@GOTPCREL")->target, "g");
}

TEST(AsmCompilerOutputTest, RipRelativeStringConstantKeepsItsData) {
  auto listing = compileToAsm("g++", "-O2 -fPIC -masm=intel", kCallsSource);
  if (!listing) {
    GTEST_SKIP() << "g++ not available";
  }
  ParsedAsm parsed = parseAsmText(*listing, defaultOptions());

  const AsmLine* lea = findLine(parsed, "lea rdi, .LC0[rip]");
  ASSERT_NE(lea, nullptr);
  ASSERT_NE(refNamed(*lea, ".LC0"), nullptr);
  auto index = definitionOf(parsed, ".LC0");
  ASSERT_TRUE(index);
  ASSERT_LT(static_cast<size_t>(*index), parsed.lines.size());
  EXPECT_EQ(parsed.lines[*index - 1].text, ".LC0:");
  EXPECT_NE(parsed.lines[*index].text.find(".string \"hi\""), std::string::npos);
  // Variables keep their storage directive under their (used) label.
  auto g_index = definitionOf(parsed, "g");
  ASSERT_TRUE(g_index);
  EXPECT_NE(parsed.lines[*g_index].text.find(".zero"), std::string::npos);
}

TEST(AsmCompilerOutputTest, AttImmediateOfALabelPointsAtTheLabel) {
  auto listing = compileToAsm("g++", "-O2 -fno-pic -fno-pie", kCallsSource);
  if (!listing) {
    GTEST_SKIP() << "g++ not available";
  }
  ParsedAsm parsed = parseAsmText(*listing, defaultOptions());

  const AsmLine* mov = findLine(parsed, "movl $.LC0, %edi");
  ASSERT_NE(mov, nullptr);
  ASSERT_EQ(mov->labels.size(), 1u);
  EXPECT_NE(refNamed(*mov, ".LC0"), nullptr);
  const AsmLine* add = findLine(parsed, "addl g(%rip), %eax");
  ASSERT_NE(add, nullptr);
  EXPECT_NE(refNamed(*add, "g"), nullptr);
}

TEST(AsmCompilerOutputTest, ClangTmpLabelsAreDroppedButBranchTargetsStay) {
  auto listing = compileToAsm("clang++", "-O2 -g -masm=intel", kJumpTableSource);
  if (!listing) {
    GTEST_SKIP() << "clang++ not available";
  }
  ASSERT_NE(listing->find(".Ltmp"), std::string::npos);
  ParsedAsm parsed = parseAsmText(*listing, defaultOptions());

  for (const AsmLine& line : parsed.lines) {
    EXPECT_EQ(line.text.find(".Ltmp"), std::string::npos) << line.text;
  }
  for (const auto& [name, index] : parsed.label_definitions) {
    EXPECT_NE(name.rfind(".Ltmp", 0), 0u) << name;
  }
  // The jump table and the blocks it names survive.
  ASSERT_TRUE(definitionOf(parsed, ".LJTI0_0"));
  const AsmLine* lea = findLine(parsed, "lea rdx, [rip + .LJTI0_0]");
  ASSERT_NE(lea, nullptr);
  EXPECT_NE(refNamed(*lea, ".LJTI0_0"), nullptr);
}

constexpr const char* kInlineAsmSource = R"(
int spin(int n) {
  asm volatile("1: dec %0\n\tjnz 1b" : "+r"(n));
  asm volatile("again: dec %0\n\tjnz again" : "+r"(n));
  return n;
}
)";

TEST(AsmCompilerOutputTest, InlineAsmLabels) {
  auto listing = compileToAsm("g++", "-O2 -masm=intel", kInlineAsmSource);
  if (!listing) {
    GTEST_SKIP() << "g++ not available";
  }
  ASSERT_NE(listing->find("#APP"), std::string::npos);
  ParsedAsm parsed = parseAsmText(*listing, defaultOptions());

  // A named label inside #APP loses its indent and is defined where it stands; being more
  // than a label ("again: dec eax") it stays even though nothing outside refers to it.
  auto index = definitionOf(parsed, "again");
  ASSERT_TRUE(index);
  EXPECT_EQ(parsed.lines[*index - 1].text, "again: dec eax");
  const AsmLine* loop = findLine(parsed, "jnz again");
  ASSERT_NE(loop, nullptr);
  EXPECT_NE(refNamed(*loop, "again"), nullptr);

  // Numeric local labels are no symbols: "1:" keeps its indent and defines nothing, and
  // "1b" refers to nothing.
  EXPECT_FALSE(definitionOf(parsed, "1"));
  const AsmLine* numeric = findLine(parsed, "1: dec eax");
  ASSERT_NE(numeric, nullptr);
  EXPECT_EQ(numeric->text.rfind("        1:", 0), 0u) << numeric->text;
  const AsmLine* jump = findLine(parsed, "jnz 1b");
  ASSERT_NE(jump, nullptr);
  EXPECT_TRUE(jump->labels.empty());
  // The #APP markers are comments and go with the commentOnly filter.
  EXPECT_EQ(findLine(parsed, "#APP"), nullptr);
}

constexpr const char* kColdSource = R"(
#include <stdexcept>
int checked(int x) {
  if (__builtin_expect(x < 0, 0)) throw std::runtime_error("neg");
  return x * 2;
}
)";

TEST(AsmCompilerOutputTest, ColdPartitionIsAFunctionWithSourceLines) {
  auto listing = compileToAsm("g++", "-O2 -g -masm=intel", kColdSource);
  if (!listing || listing->find(".cold:") == std::string::npos) {
    GTEST_SKIP() << "g++ without cold partitions";
  }
  ParsedAsm parsed = parseAsmText(*listing, defaultOptions());

  auto index = definitionOf(parsed, "_Z7checkedi.cold");
  ASSERT_TRUE(index);
  // Its code follows, mapped to the throw on line 4.
  bool saw_line_4 = false;
  for (size_t i = *index; i < parsed.lines.size() && !parsed.lines[i].text.empty(); ++i) {
    const AsmLine& line = parsed.lines[i];
    if (line.source) {
      saw_line_4 |= line.source->line == 4;
    }
  }
  EXPECT_TRUE(saw_line_4);
}

TEST(AsmCompilerOutputTest, SectionSwitchesResetLabelState) {
  auto listing = compileToAsm("g++", "-O2 -g -masm=intel", kCallsSource);
  if (!listing) {
    GTEST_SKIP() << "g++ not available";
  }
  ParsedAsm parsed = parseAsmText(*listing, defaultOptions());

  // Debug sections hold data under labels nobody uses; none of it may leak through a
  // label from an earlier section.
  for (const AsmLine& line : parsed.lines) {
    EXPECT_EQ(line.text.find(".LASF"), std::string::npos) << line.text;
    EXPECT_EQ(line.text.find(".uleb128"), std::string::npos) << line.text;
    EXPECT_EQ(line.text.find("GNU C++"), std::string::npos) << line.text;
  }
}

// An instruction of the listing and the source its .loc gives.
struct LocatedInstruction {
  std::string text;
  bool has_source = false;
  int line = 0;
  bool main_file = false;
};

// Computed straight from the listing: an instruction maps to the last ".loc FILE LINE" before
// it in the same block; FILE is the user's own when its .file name ends in example.cpp.
std::vector<LocatedInstruction> locatedInstructions(const std::string& listing) {
  std::vector<LocatedInstruction> out;
  std::map<int, bool> main_files;
  LocatedInstruction current;
  std::istringstream in(listing);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string first;
    words >> first;
    if (first == ".file") {
      int number = -1;
      words >> number;
      size_t quote = line.rfind('"');
      main_files[number] = quote != std::string::npos && quote >= 11 &&
                           line.compare(quote - 11, 11, "example.cpp") == 0;
    } else if (first == ".loc") {
      int file = 0;
      words >> file >> current.line;
      current.has_source = true;
      current.main_file = main_files[file];
    } else if (first == ".cfi_endproc" || first == ".text" || first == ".section") {
      current.has_source = false;
    } else if (!line.empty() && (line[0] == '\t' || line[0] == ' ') && !first.empty() &&
               std::isalpha(static_cast<unsigned char>(first[0]))) {
      current.text = line;
      out.push_back(current);
    }
  }
  return out;
}

bool looksLikeInstruction(const std::string& text) {
  size_t first = text.find_first_not_of(' ');
  return first > 0 && first != std::string::npos &&
         std::isalpha(static_cast<unsigned char>(text[first]));
}

void expectEveryInstructionMapped(const std::string& compiler) {
  auto listing = compileToAsm(compiler, "-O2 -g -masm=intel", kColdSource);
  if (!listing) {
    GTEST_SKIP() << compiler << " not available";
  }
  std::vector<LocatedInstruction> expected = locatedInstructions(*listing);
  ParsedAsm parsed = parseAsmText(*listing, defaultOptions());
  std::vector<const AsmLine*> got;
  for (const AsmLine& line : parsed.lines) {
    if (looksLikeInstruction(line.text)) {
      got.push_back(&line);
    }
  }

  ASSERT_GT(expected.size(), 10u);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const AsmLine& out = *got[i];
    const LocatedInstruction& want = expected[i];
    ASSERT_EQ(out.source.has_value(), want.has_source) << want.text;
    if (want.has_source) {
      EXPECT_EQ(out.source->line, want.line) << want.text;
      EXPECT_EQ(!out.source->file, want.main_file) << want.text;
    }
  }
}

TEST(AsmCompilerOutputTest, EveryGccInstructionCarriesItsLocLine) {
  expectEveryInstructionMapped("g++");
}

TEST(AsmCompilerOutputTest, EveryClangInstructionCarriesItsLocLine) {
  expectEveryInstructionMapped("clang++");
}

}  // namespace
}  // namespace cex

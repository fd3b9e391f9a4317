// Binary mode on real `objdump -d -l --insn-width=16` output of a program linked here.

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "asm/asm_parser.h"

namespace cex {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProgram = R"(#include <cstdio>
__attribute__((noinline)) int square(int x) { return x * x; }
int main() { printf("%d\n", square(7)); return 0; }
)";

// Builds kProgram as example.cpp with `build` flags and disassembles it with `dump` flags.
std::optional<std::string> disassemble(const std::string& build, const std::string& dump) {
  char dir_template[] = "/tmp/cex-objdump-test-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    return std::nullopt;
  }
  fs::path dir = dir_template;
  std::ofstream(dir / "example.cpp") << kProgram;
  std::string command = "cd " + dir.string() + " && g++ -g -O1 " + build +
                        " example.cpp -o out 2>/dev/null && objdump -d -l --insn-width=16 " + dump +
                        " out > out.txt 2>/dev/null";
  std::optional<std::string> text;
  if (std::system(command.c_str()) == 0) {
    std::ifstream in(dir / "out.txt");
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  fs::remove_all(dir);
  return text;
}

AsmParseOptions binaryOptions() {
  AsmParseOptions options;
  options.filters.binary = true;
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

class AsmObjdumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto text = disassemble("", "-M intel");
    if (!text) {
      GTEST_SKIP() << "g++ or objdump not available";
    }
    dump_ = *text;
  }

  std::string dump_;
};

TEST_F(AsmObjdumpTest, ShowsUserFunctionsAndHidesRuntimeOnes) {
  ParsedAsm parsed = parseObjdump(dump_, binaryOptions());

  ASSERT_TRUE(definitionOf(parsed, "main"));
  ASSERT_TRUE(definitionOf(parsed, "_Z6squarei"));
  for (const auto& [name, index] : parsed.label_definitions) {
    EXPECT_NE(name.rfind("__", 0), 0u) << name;
    EXPECT_NE(name, "_start");
    EXPECT_NE(name, "_init");
    EXPECT_NE(name, "_fini");
    EXPECT_NE(name, "frame_dummy");
    EXPECT_NE(name, "deregister_tm_clones");
    EXPECT_EQ(parsed.lines[index - 1].text, name + ":");
  }
}

TEST_F(AsmObjdumpTest, InstructionsCarryAddressBytesSourceAndCallTarget) {
  ParsedAsm parsed = parseObjdump(dump_, binaryOptions());

  int main_index = *definitionOf(parsed, "main");
  const AsmLine* call = nullptr;
  for (size_t i = main_index; i < parsed.lines.size() && parsed.lines[i].address; ++i) {
    const AsmLine& line = parsed.lines[i];
    ASSERT_TRUE(line.source) << line.text;
    EXPECT_EQ(line.source->line, 3);
    EXPECT_FALSE(line.source->file);
    EXPECT_EQ(line.source->mainsource, true);
    if (line.text.find("<_Z6squarei>") != std::string::npos) {
      call = &line;
    }
  }
  ASSERT_NE(call, nullptr);
  EXPECT_EQ(call->text.rfind(" call", 0), 0u) << call->text;
  ASSERT_TRUE(call->opcodes);
  ASSERT_EQ(call->opcodes->size(), 5u);
  EXPECT_EQ((*call->opcodes)[0], "e8");
  ASSERT_EQ(call->labels.size(), 1u);
  const AsmLabelRef& ref = call->labels[0];
  EXPECT_EQ(ref.name, "_Z6squarei");
  EXPECT_EQ(call->text.substr(ref.start_col - 1, ref.end_col - ref.start_col), "_Z6squarei");

  // The address is the one objdump printed for that instruction.
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx:", static_cast<unsigned long long>(*call->address));
  EXPECT_NE(dump_.find(std::string(" ") + hex), std::string::npos) << hex;
}

TEST_F(AsmObjdumpTest, DontMaskFilenamesKeepsThePath) {
  AsmParseOptions options = binaryOptions();
  options.filters.dont_mask_filenames = true;
  ParsedAsm parsed = parseObjdump(dump_, options);

  int main_index = *definitionOf(parsed, "main");
  const AsmLine& first = parsed.lines[main_index];
  ASSERT_TRUE(first.source);
  ASSERT_TRUE(first.source->file);
  EXPECT_EQ(fs::path(*first.source->file).filename(), "example.cpp");
}

TEST_F(AsmObjdumpTest, MaxLinesTruncates) {
  AsmParseOptions options = binaryOptions();
  options.max_lines_of_asm = 4;
  ParsedAsm parsed = parseObjdump(dump_, options);

  ASSERT_EQ(parsed.lines.size(), 5u);
  EXPECT_EQ(parsed.lines.back().text, "[truncated; too many lines]");
}

TEST_F(AsmObjdumpTest, CustomHideRegex) {
  AsmParseOptions options = binaryOptions();
  options.binary_hide_func_re = "^(main|_.*)$";
  ParsedAsm parsed = parseObjdump(dump_, options);

  EXPECT_FALSE(definitionOf(parsed, "main"));
  EXPECT_FALSE(definitionOf(parsed, "_Z6squarei"));
}

TEST(AsmObjdumpRelocationTest, ObjectFileRelocationsBecomeLines) {
  auto text = disassemble("-c", "-r");
  if (!text) {
    GTEST_SKIP() << "g++ or objdump not available";
  }
  AsmParseOptions options = binaryOptions();
  options.filters.binary = false;
  options.filters.binary_object = true;
  ParsedAsm parsed = parseAsmText(*text, options);

  bool found = false;
  for (const AsmLine& line : parsed.lines) {
    if (line.text.rfind("   R_X86_64_", 0) == 0) {
      found = true;
      EXPECT_TRUE(line.address);
      EXPECT_FALSE(line.source);
      EXPECT_TRUE(line.labels.empty());
      EXPECT_FALSE(line.opcodes);
    }
  }
  EXPECT_TRUE(found);
}

TEST(AsmObjdumpErrorTest, SingleErrorLineIsPassedThrough) {
  ParsedAsm parsed = parseObjdump("<Compilation failed>\n", binaryOptions());
  ASSERT_EQ(parsed.lines.size(), 1u);
  EXPECT_EQ(parsed.lines[0].text, "<Compilation failed>");
  EXPECT_FALSE(parsed.has_label_definitions);
}

}  // namespace
}  // namespace cex

// Compiler output is untrusted input: damaged listings must still parse into well-formed
// results. Mutates the corpus inputs with a fixed seed and runs every parser over them (best
// run under a sanitizer build as well).

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "asm/asm_parser.h"
#include "base/json_writer.h"

namespace cex {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Characters that steer the classifiers, plus bytes that are not valid UTF-8.
constexpr char kInteresting[] = {'"',    '.',    ':',    '\t', '\r', '\n', '=', '$', '@',  '#',
                                 ';',    '/',    '*',    '<',  '>',  '(',  ')', '+', '\\', '\x80',
                                 '\xC3', '\xF0', '\xFF', '_',  'Z',  '0',  ' ', ','};

std::string mutate(std::string text, std::mt19937* rng) {
  if (text.empty()) {
    return text;
  }
  std::uniform_int_distribution<size_t> what(0, sizeof kInteresting - 1);
  int edits = std::uniform_int_distribution<int>(1, 40)(*rng);
  for (int i = 0; i < edits; ++i) {
    size_t at = std::uniform_int_distribution<size_t>(0, text.size() - 1)(*rng);
    switch ((*rng)() % 3) {
      case 0:
        text[at] = kInteresting[what(*rng)];
        break;
      case 1:
        text.insert(at, 1, kInteresting[what(*rng)]);
        break;
      default:
        text.erase(at, std::min<size_t>(text.size() - at, (*rng)() % 16));
        break;
    }
    if (text.empty()) {
      break;
    }
  }
  // Sometimes cut the text short, in the middle of a line.
  if ((*rng)() % 4 == 0 && !text.empty()) {
    text.resize((*rng)() % text.size());
  }
  return text;
}

// `text_mode`: labelDefinitions then always point at output lines. (In binary mode with the
// library filter a popped function label keeps its entry, and cc65 indexes one past the
// label, as the reference does.)
void expectWellFormed(const ParsedAsm& parsed, bool text_mode, const std::string& context) {
  for (const auto& [name, index] : parsed.label_definitions) {
    ASSERT_GE(index, 1) << context;
    if (text_mode) {
      ASSERT_LE(static_cast<size_t>(index), parsed.lines.size()) << context;
    }
  }
  for (const AsmLine& line : parsed.lines) {
    for (const AsmLabelRef& label : line.labels) {
      ASSERT_LE(label.start_col, label.end_col) << context;
    }
  }
  std::string json;
  JsonWriter writer(&json);
  writer.beginObject();
  writeAsmResultMembers(writer, parsed);
  writer.endObject();
  ASSERT_FALSE(json.empty());
}

TEST(AsmRobustnessTest, MutatedCorpusInputsParseCleanly) {
  std::mt19937 rng(20240611);
  fs::path dir = fs::path(CEX_SHARED_DIR) / "corpus" / "ce-filters";
  if (!fs::is_directory(dir)) {
    GTEST_SKIP() << "no golden corpus at " << dir << " (configure CEX_SHARED_DIR)";
  }
  int runs = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".asm") {
      continue;
    }
    std::string original = readFile(entry.path());
    // Keep the big inputs to a prefix so the test stays quick.
    original.resize(std::min<size_t>(original.size(), 64 * 1024));
    for (int variant = 0; variant < 6; ++variant) {
      std::string text = mutate(original, &rng);
      for (AsmDialect dialect : {AsmDialect::Gnu, AsmDialect::Msvc, AsmDialect::Ptx,
                                 AsmDialect::Sass, AsmDialect::Ca65, AsmDialect::Cc65}) {
        for (int bits : {0, 7, 15, 31, 63, 64, 79}) {
          AsmParseOptions options;
          options.dialect = dialect;
          options.filters.labels = bits & 1;
          options.filters.directives = bits & 2;
          options.filters.comment_only = bits & 4;
          options.filters.library_code = bits & 8;
          options.filters.trim = bits & 16;
          options.filters.dont_mask_filenames = bits & 32;
          options.filters.binary = bits & 64;
          ParsedAsm parsed = parseAsmText(text, options);
          demangleAsm(&parsed);
          bool text_mode = dialect == AsmDialect::Gnu && !options.filters.binary;
          expectWellFormed(parsed, text_mode, entry.path().filename().string());
          ++runs;
        }
      }
    }
  }
  EXPECT_GT(runs, 1000);
}

}  // namespace
}  // namespace cex

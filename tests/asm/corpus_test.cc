// Runs every listing of the golden corpus (shared/corpus/ce-filters) under every filter
// combination that has an expected result, and compares the parsed values.

// Boost.JSON compiled into this test only, so the asm library does not depend on it.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/src.hpp>
#include <gtest/gtest.h>

#include "asm/asm_parser.h"
#include "base/json_writer.h"

namespace cex {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path kCorpusDir = fs::path(CEX_SHARED_DIR) / "corpus" / "ce-filters";

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Filters named by an expectation's suffix ("directives.labels.comments"); unnamed ones off.
AsmFilters filtersFor(std::string_view suffix) {
  AsmFilters filters;
  filters.labels = false;
  filters.directives = false;
  filters.comment_only = false;
  filters.demangle = false;
  size_t pos = 0;
  while (pos <= suffix.size()) {
    size_t dot = suffix.find('.', pos);
    std::string_view word =
        suffix.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    filters.binary |= word == "binary";
    filters.directives |= word == "directives";
    filters.labels |= word == "labels";
    filters.comment_only |= word == "comments";
    filters.library_code |= word == "library";
    filters.dont_mask_filenames |= word == "dontMaskFilenames";
    if (dot == std::string_view::npos) {
      break;
    }
    pos = dot + 1;
  }
  return filters;
}

// The parser a case is meant for, by the corpus' naming convention.
AsmDialect dialectFor(const std::string& name, const std::string& text) {
  if (name.find("sass-") != std::string::npos) {
    return AsmDialect::Sass;
  }
  if (name.find("ptx-") != std::string::npos) {
    return AsmDialect::Ptx;
  }
  if (name.find("ca65-") != std::string::npos) {
    return AsmDialect::Ca65;
  }
  if (name.find("cc65-") != std::string::npos) {
    return AsmDialect::Cc65;
  }
  if (text.find("Microsoft") != std::string::npos) {
    return AsmDialect::Msvc;
  }
  return AsmDialect::Gnu;
}

json::value toJson(const ParsedAsm& parsed) {
  std::string out;
  JsonWriter writer(&out);
  writer.beginObject();
  writeAsmResultMembers(writer, parsed);
  writer.endObject();
  json::value value = json::parse(out);
  value.as_object().erase("parsingTime");
  value.as_object().erase("filteredCount");
  return value;
}

// Describes the first difference between two results, or returns "" when they are equal.
std::string firstDifference(const json::value& got, const json::value& want) {
  if (got == want) {
    return {};
  }
  const json::object& g = got.as_object();
  const json::object& w = want.as_object();
  const json::array* ga = g.if_contains("asm") ? g.at("asm").if_array() : nullptr;
  const json::array* wa = w.if_contains("asm") ? w.at("asm").if_array() : nullptr;
  if (ga && wa) {
    for (size_t i = 0; i < std::min(ga->size(), wa->size()); ++i) {
      if ((*ga)[i] != (*wa)[i]) {
        return "asm[" + std::to_string(i) + "]\n  got:  " + json::serialize((*ga)[i]) +
               "\n  want: " + json::serialize((*wa)[i]);
      }
    }
    if (ga->size() != wa->size()) {
      size_t i = std::min(ga->size(), wa->size());
      const json::array& longer = ga->size() > wa->size() ? *ga : *wa;
      return "asm length " + std::to_string(ga->size()) + " vs expected " +
             std::to_string(wa->size()) + "; first extra (" +
             (ga->size() > wa->size() ? "got" : "want") + "): " + json::serialize(longer[i]);
    }
  }
  for (const auto& [key, value] : w) {
    if (!g.contains(key) || g.at(key) != value) {
      return "member \"" + std::string(key) + "\"\n  got:  " +
             (g.contains(key) ? json::serialize(g.at(key)).substr(0, 600) : "(absent)") +
             "\n  want: " + json::serialize(value).substr(0, 600);
    }
  }
  for (const auto& [key, value] : g) {
    if (!w.contains(key)) {
      return "unexpected member \"" + std::string(key) + "\"";
    }
  }
  return "values differ";
}

struct Expectation {
  fs::path input;
  fs::path expected;
  std::string suffix;
};

std::vector<Expectation> allExpectations() {
  std::vector<Expectation> out;
  for (const auto& entry : fs::directory_iterator(kCorpusDir)) {
    std::string name = entry.path().filename().string();
    size_t mark = name.find(".asm.");
    if (mark == std::string::npos || entry.path().extension() != ".json") {
      continue;
    }
    std::string suffix = name.substr(mark + 5, name.size() - mark - 5 - 5);
    out.push_back({kCorpusDir / name.substr(0, mark + 4), entry.path(), suffix});
  }
  std::sort(out.begin(), out.end(),
            [](const Expectation& a, const Expectation& b) { return a.expected < b.expected; });
  return out;
}

// The corpus is shared data next to the checkout, not part of the repository.
#define SKIP_WITHOUT_CORPUS()                                                              \
  if (!fs::is_directory(kCorpusDir)) {                                                     \
    GTEST_SKIP() << "no golden corpus at " << kCorpusDir << " (configure CEX_SHARED_DIR)"; \
  }

TEST(AsmCorpusTest, MatchesEveryExpectation) {
  SKIP_WITHOUT_CORPUS();
  std::vector<Expectation> expectations = allExpectations();
  ASSERT_EQ(expectations.size(), 543u) << "corpus at " << kCorpusDir;
  size_t matched = 0;
  for (const Expectation& e : expectations) {
    std::string text = readFile(e.input);
    std::string case_name = e.input.filename().string();
    AsmParseOptions options;
    options.filters = filtersFor(e.suffix);
    options.dialect = dialectFor(case_name, text);
    json::value got = toJson(parseAsmText(text, options));
    json::value want = json::parse(readFile(e.expected));
    std::string difference = firstDifference(got, want);
    if (difference.empty()) {
      ++matched;
    } else {
      ADD_FAILURE() << case_name << " [" << e.suffix << "]: " << difference;
    }
  }
  std::cout << "corpus: " << matched << "/" << expectations.size() << " expectations match\n";
}

// Every input under every combination of the text filters (trim included, which the
// expectations never use): results must be well formed whatever the combination.
TEST(AsmCorpusTest, EveryFilterCombinationGivesConsistentResults) {
  SKIP_WITHOUT_CORPUS();
  std::vector<Expectation> expectations = allExpectations();
  std::vector<fs::path> inputs;
  for (const Expectation& e : expectations) {
    if (inputs.empty() || inputs.back() != e.input) {
      inputs.push_back(e.input);
    }
  }
  for (const fs::path& input : inputs) {
    std::string text = readFile(input);
    for (int bits = 0; bits < 128; ++bits) {
      AsmParseOptions options;
      options.filters.labels = bits & 1;
      options.filters.directives = bits & 2;
      options.filters.comment_only = bits & 4;
      options.filters.library_code = bits & 8;
      options.filters.trim = bits & 16;
      options.filters.dont_mask_filenames = bits & 32;
      options.filters.binary = bits & 64;
      options.dialect = dialectFor(input.filename().string(), text);
      ParsedAsm parsed = parseAsmText(text, options);
      for (const auto& [name, index] : parsed.label_definitions) {
        ASSERT_GE(index, 1) << input << " " << bits << " " << name;
        ASSERT_LE(static_cast<size_t>(index), parsed.lines.size()) << input << " " << bits;
      }
      for (const AsmLine& line : parsed.lines) {
        for (const AsmLabelRef& label : line.labels) {
          ASSERT_LE(label.start_col, label.end_col) << input << " " << bits << " " << line.text;
          ASSERT_LE(static_cast<size_t>(label.end_col), line.text.size() + 1)
              << input << " " << bits << " " << line.text;
        }
      }
    }
  }
}

}  // namespace
}  // namespace cex

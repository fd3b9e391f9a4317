// Measures parsing speed and memory on a large listing named by CEX_ASM_BENCH_LISTING
// (e.g. `g++ -O2 -g -S` of shared/bench/gen_big_cpp.py output); skipped without it.

#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "asm/asm_parser.h"
#include "base/json_writer.h"

namespace cex {
namespace {

long peakRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(AsmThroughputTest, DefaultFiltersOnLargeListing) {
  const char* path = std::getenv("CEX_ASM_BENCH_LISTING");
  if (path == nullptr) {
    GTEST_SKIP() << "set CEX_ASM_BENCH_LISTING to a large .s file";
  }
  // Read straight into one buffer so that the baseline peak is the listing itself.
  std::string listing;
  {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    listing.resize(static_cast<size_t>(in.tellg()));
    in.seekg(0);
    in.read(listing.data(), static_cast<std::streamsize>(listing.size()));
  }
  ASSERT_FALSE(listing.empty());
  long rss_before = peakRssKb();

  AsmParseOptions options;
  auto start = std::chrono::steady_clock::now();
  ParsedAsm parsed = parseAsmText(listing, options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  long rss_after = peakRssKb();

  double megabytes = static_cast<double>(listing.size()) / 1e6;
  double extra_per_byte = static_cast<double>(rss_after - rss_before) * 1024 / listing.size();
  std::cout << "parsed " << megabytes << " MB in " << seconds << " s: " << megabytes / seconds
            << " MB/s, " << parsed.lines.size() << " lines out; peak RSS grew by "
            << (rss_after - rss_before) / 1024 << " MiB (" << extra_per_byte
            << " bytes per input byte; the listing itself is 1)\n";
  EXPECT_GT(parsed.lines.size(), 0u);

  // Other filter sets must stay linear too (library code adds a look-ahead per label).
  for (auto [name, filters] :
       {std::pair{"library", AsmFilters{.library_code = true}},
        std::pair{"none",
                  AsmFilters{.labels = false, .directives = false, .comment_only = false}}}) {
    AsmParseOptions other;
    other.filters = filters;
    auto other_start = std::chrono::steady_clock::now();
    ParsedAsm other_parsed = parseAsmText(listing, other);
    double other_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - other_start).count();
    std::cout << "filters " << name << ": " << megabytes / other_seconds << " MB/s, "
              << other_parsed.lines.size() << " lines out\n";
  }

  std::string json;
  JsonWriter writer(&json);
  start = std::chrono::steady_clock::now();
  writeAsmLines(writer, parsed);
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "serialised " << json.size() / 1000000.0 << " MB of JSON in " << seconds << " s\n";
}

}  // namespace
}  // namespace cex

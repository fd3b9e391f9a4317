// Parser speed and memory on a large listing:
//   build/bench/asm_parse_bench listing.s
// (e.g. `g++ -O2 -g -S` of shared/bench/gen_big_cpp.py output). Prints MB/s per filter set and
// how much the peak RSS grew while parsing with the default filters.

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <utility>

#include "asm/asm_parser.h"
#include "base/files.h"
#include "base/json_writer.h"

namespace {

long peakRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s LISTING.s\n", argv[0]);
    return 2;
  }
  auto listing = cex::readFile(argv[1]);
  if (!listing.ok()) {
    std::fprintf(stderr, "%s\n", listing.status().toString().c_str());
    return 1;
  }
  double megabytes = static_cast<double>(listing->size()) / 1e6;
  long rss_before = peakRssKb();

  // The default filters first, so the RSS growth is theirs alone.
  cex::AsmParseOptions options;
  auto start = std::chrono::steady_clock::now();
  cex::ParsedAsm parsed = cex::parseAsmText(*listing, options);
  double seconds = secondsSince(start);
  double grown = static_cast<double>(peakRssKb() - rss_before) * 1024;
  std::printf("default filters: %.1f MB in %.3f s = %.0f MB/s, %zu lines out, peak RSS +%.2f "
              "bytes per input byte (plus 1 for the listing)\n",
              megabytes, seconds, megabytes / seconds, parsed.lines.size(),
              grown / static_cast<double>(listing->size()));

  std::string json;
  cex::JsonWriter writer(&json);
  start = std::chrono::steady_clock::now();
  cex::writeAsmLines(writer, parsed);
  std::printf("json: %.1f MB in %.3f s\n", static_cast<double>(json.size()) / 1e6,
              secondsSince(start));

  for (auto [name, filters] :
       {std::pair{"libraryCode", cex::AsmFilters{.library_code = true}},
        std::pair{"none", cex::AsmFilters{.labels = false, .directives = false,
                                          .comment_only = false}}}) {
    cex::AsmParseOptions other;
    other.filters = filters;
    start = std::chrono::steady_clock::now();
    cex::ParsedAsm out = cex::parseAsmText(*listing, other);
    seconds = secondsSince(start);
    std::printf("%s: %.0f MB/s, %zu lines out\n", name, megabytes / seconds, out.lines.size());
  }
  return 0;
}

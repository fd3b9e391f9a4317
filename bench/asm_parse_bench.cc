// Parses one listing with one filter set and prints the parse rate:
//   build/bench/asm_parse_bench default|none|library LISTING.s
// bench/asm_parser.py runs it per listing and filter set and reads its peak RSS.

#include <chrono>
#include <cstdio>
#include <string_view>

#include "asm/asm_parser.h"
#include "base/files.h"

namespace {

bool filtersNamed(std::string_view name, cex::AsmFilters* filters) {
  *filters = cex::AsmFilters{};  // labels, directives, commentOnly: the API's defaults
  if (name == "none") {
    filters->labels = filters->directives = filters->comment_only = false;
  } else if (name == "library") {
    filters->library_code = true;
  } else if (name != "default") {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  cex::AsmParseOptions options;
  if (argc != 3 || !filtersNamed(argv[1], &options.filters)) {
    std::fprintf(stderr, "usage: %s default|none|library LISTING.s\n", argv[0]);
    return 2;
  }
  auto listing = cex::readFile(argv[2]);
  if (!listing.ok()) {
    std::fprintf(stderr, "%s\n", listing.status().toString().c_str());
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  cex::ParsedAsm parsed = cex::parseAsmText(*listing, options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("bytes=%zu seconds=%.4f lines_out=%zu\n", listing->size(), seconds,
              parsed.lines.size());
  return 0;
}

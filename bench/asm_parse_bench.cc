// Parses one listing with one filter set and prints the parse rate:
//   build/bench/asm_parse_bench default|none|library LISTING.s
// bench/asm_parser.py runs it per listing and filter set and reads its peak RSS.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "asm/asm_parser.h"

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

// The listing mapped read-only, so the process holds exactly one copy of it (the page cache's)
// and the peak RSS shows what the parser adds on top. Empty on error, with errno set.
std::string_view mapListing(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return {};
  }

  struct stat st {};

  void* data = MAP_FAILED;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    // MAP_POPULATE faults the pages in with one call instead of one fault per page.
    data = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE,
                  fd, 0);
  }
  int err = st.st_size == 0 ? EINVAL : errno;  // an empty listing measures nothing
  ::close(fd);
  errno = err;
  if (data == MAP_FAILED) {
    return {};
  }
  return {static_cast<const char*>(data), static_cast<size_t>(st.st_size)};
}

}  // namespace

int main(int argc, char** argv) {
  cex::AsmParseOptions options;
  if (argc != 3 || !filtersNamed(argv[1], &options.filters)) {
    std::fprintf(stderr, "usage: %s default|none|library LISTING.s\n", argv[0]);
    return 2;
  }
  std::string_view listing = mapListing(argv[2]);
  if (listing.empty()) {
    std::fprintf(stderr, "map %s: %s\n", argv[2], std::strerror(errno));
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  cex::ParsedAsm parsed = cex::parseAsmText(listing, options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("bytes=%zu seconds=%.4f lines_out=%zu\n", listing.size(), seconds,
              parsed.lines.size());
  return 0;
}

#include <cstdio>

#include "api/listings.h"
#include "cmd/commands.h"

namespace cex {

int runCompilersCommand(const InstanceOptions& options, const std::string& lang) {
  auto instance = buildInstance(options);
  if (!instance.ok()) {
    std::fprintf(stderr, "cex compilers: %s\n", instance.status().message().c_str());
    return 2;
  }
  std::vector<const CompilerInfo*> selected;
  for (const auto& compiler : (*instance)->discovery.registry.compilers()) {
    if (lang.empty() || compiler.lang == lang) {
      selected.push_back(&compiler);
    }
  }
  std::string table = compilersText(selected);
  std::printf("%s\n", table.c_str());
  return 0;
}

}  // namespace cex

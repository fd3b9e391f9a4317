// cex: the Compiler Explorer system in one binary; each subcommand is a role.
#include "cmd/commands.h"

int main(int argc, char** argv) {
  return cex::runCommandLine(argc, argv);
}

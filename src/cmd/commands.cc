#include "cmd/commands.h"

int cex::runCommandLine(int argc, char** argv) { return 0; }

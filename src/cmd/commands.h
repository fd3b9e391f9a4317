#pragma once

namespace cex {

// Parses the command line and runs the chosen role; returns the process exit status.
int runCommandLine(int argc, char** argv);

}  // namespace cex

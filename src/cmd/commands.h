#pragma once

#include <string>
#include <vector>

#include "cmd/instance.h"

namespace cex {

// Parses the command line and runs the chosen role; returns the process exit status.
int runCommandLine(int argc, char** argv);

struct ServeOptions {
  InstanceOptions instance;
  std::string host = "127.0.0.1";
  int port = 10240;
  int http_threads = 2;
  size_t body_limit = 16 * 1024 * 1024;
};

// `cex serve`: the whole service in one process until SIGINT or SIGTERM.
int runServe(const ServeOptions& options);

struct CompileCommandOptions {
  InstanceOptions instance;
  std::string compiler_id;
  std::string lang;
  bool json = false;
  std::string filters;      // replaces the default filters when set
  std::string add_filters;  // comma lists, as the API's query parameters
  std::string remove_filters;
  // Compiler arguments and the source file (the last argument that is not an option;
  // "-" reads standard input).
  std::vector<std::string> rest;
};

// `cex compile`: one compile from the shell; prints asm (or the JSON result) and exits with
// the compiler's status.
int runCompileCommand(const CompileCommandOptions& options);

}  // namespace cex

#pragma once

#include <cstdint>
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

// `cex compilers`: the ids and names of the compilers an instance would serve.
int runCompilersCommand(const InstanceOptions& options, const std::string& lang);

struct ParseAsmOptions {
  std::string file;
  std::string filters = "labels,directives,commentOnly";
  bool binary = false;              // the file is objdump -d -l output
  std::string dialect;              // gnu, msvc, ptx, sass, ca65, cc65; empty = guess
  uint64_t max_size = 64ull << 20;  // larger listings give the API's placeholder line
};

// `cex parse-asm`: the API's asm result for a listing file, as JSON on stdout.
int runParseAsmCommand(const ParseAsmOptions& options);

}  // namespace cex

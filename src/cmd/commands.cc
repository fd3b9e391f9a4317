#include "cmd/commands.h"

#include <CLI/CLI.hpp>

#include "base/log.h"

namespace cex {

namespace {

void addInstanceOptions(CLI::App* app, InstanceOptions* o) {
  app->add_option("--config", o->config_dir, "directory of Compiler Explorer .properties files");
  app->add_option("--cache-dir", o->cache_dir, "where compiler probes are cached");
  app->add_option("--tmp-dir", o->tmp_dir, "root of the per-compile directories");
  app->add_option("--env", o->env, "environment name for the .properties hierarchy");
  app->add_option("--slots", o->slots, "concurrent compiles (default: one per core)");
  app->add_option("--sandbox", o->sandbox,
                  "isolation of compilers and programs: bwrap, or none (development only)")
      ->check(CLI::IsMember({"bwrap", "none"}))
      ->capture_default_str();
  app->add_flag_callback(
      "--no-discovery", [o] { o->discover = false; },
      "only use configured compilers, do not search PATH");
}

}  // namespace

int runCommandLine(int argc, char** argv) {
  CLI::App app("cex: a Compiler Explorer service in one binary");
  app.require_subcommand(1);
  bool debug = false;
  app.add_flag("--debug", debug, "log debug detail");

  ServeOptions serve;
  CLI::App* serve_cmd = app.add_subcommand("serve", "serve the Compiler Explorer API");
  addInstanceOptions(serve_cmd, &serve.instance);
  serve_cmd->add_option("--host", serve.host, "address to listen on")->capture_default_str();
  serve_cmd->add_option("--port", serve.port, "port to listen on (0 picks one)")
      ->capture_default_str();
  serve_cmd->add_option("--http-threads", serve.http_threads, "network threads");
  serve_cmd->add_flag("--debug", debug, "log debug detail");

  CompileCommandOptions compile;
  CLI::App* compile_cmd = app.add_subcommand(
      "compile", "compile one file and print its asm: cex compile -c ID [args] FILE");
  addInstanceOptions(compile_cmd, &compile.instance);
  compile_cmd->add_option("-c,--compiler", compile.compiler_id, "compiler id")->required();
  compile_cmd->add_option("--lang", compile.lang, "language, to pick among compiler aliases");
  compile_cmd->add_flag("--json", compile.json, "print the API's JSON result");
  compile_cmd->add_option("--filters", compile.filters,
                          "comma list of filters replacing the defaults");
  compile_cmd->add_option("--add-filters", compile.add_filters, "filters to turn on");
  compile_cmd->add_option("--remove-filters", compile.remove_filters, "filters to turn off");
  compile_cmd->add_flag("--debug", debug, "log debug detail");
  // Everything cex does not know goes to the compiler, in order.
  compile_cmd->allow_extras();
  compile_cmd->positionals_at_end(false);

  ParseAsmOptions parse_asm;
  CLI::App* parse_asm_cmd = app.add_subcommand(
      "parse-asm", "print the API's asm result for a compiler listing or objdump output");
  parse_asm_cmd->add_option("file", parse_asm.file, "the listing")->required();
  parse_asm_cmd
      ->add_option("--filters", parse_asm.filters,
                   "comma list of labels, directives, commentOnly, libraryCode, trim, "
                   "dontMaskFilenames, demangle (the rest are off)")
      ->capture_default_str();
  parse_asm_cmd->add_flag("--binary", parse_asm.binary, "the file is objdump -d -l output");
  parse_asm_cmd->add_option("--dialect", parse_asm.dialect,
                            "gnu, msvc, ptx, sass, ca65 or cc65 (default: guessed)");
  parse_asm_cmd->add_option("--max-size", parse_asm.max_size, "largest listing parsed, bytes")
      ->capture_default_str();

  InstanceOptions list;
  std::string list_lang;
  CLI::App* list_cmd = app.add_subcommand("compilers", "list the compilers cex finds");
  addInstanceOptions(list_cmd, &list);
  list_cmd->add_option("--lang", list_lang, "only this language (c++, c, fortran, rust)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  initLogging(debug);
  if (serve_cmd->parsed()) {
    return runServe(serve);
  }
  if (parse_asm_cmd->parsed()) {
    return runParseAsmCommand(parse_asm);
  }
  if (list_cmd->parsed()) {
    spdlog::set_level(debug ? spdlog::level::debug : spdlog::level::warn);
    return runCompilersCommand(list, list_lang);
  }
  if (!debug) {
    spdlog::set_level(spdlog::level::warn);  // A shell command prints only what went wrong.
  }
  compile.rest = compile_cmd->remaining();
  return runCompileCommand(compile);
}

}  // namespace cex

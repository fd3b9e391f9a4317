#include "cmd/commands.h"

#include <CLI/CLI.hpp>

#include "base/log.h"
#include "cmd/roles.h"
#include "events/events_gateway.h"

namespace cex {

namespace {

// `env_flag` names the option for the .properties environment: "--env" where the command has
// no deployment environment of its own.
void addInstanceOptions(CLI::App* app, InstanceOptions* o, const char* env_flag = "--env") {
  app->add_option("--config", o->config_dir, "directory of Compiler Explorer .properties files");
  app->add_option("--cache-dir", o->cache_dir, "where compiler probes are cached");
  app->add_option("--tmp-dir", o->tmp_dir, "root of the per-compile directories");
  app->add_option(env_flag, o->env, "environment name for the .properties hierarchy");
  app->add_option("--slots", o->slots, "concurrent compiles (default: one per core)");
  app->add_option("--sandbox", o->sandbox,
                  "isolation of compilers and programs: bwrap, or none (development only)")
      ->check(CLI::IsMember({"bwrap", "none"}))
      ->capture_default_str();
  app->add_flag_callback(
      "--no-discovery", [o] { o->discover = false; },
      "only use configured compilers, do not search PATH");
}

// --host and --port of a role that listens (port 0 picks a free one).
template <typename Port>
void addListenOptions(CLI::App* app, std::string* host, Port* port) {
  app->add_option("--host", *host, "address to listen on")->capture_default_str();
  app->add_option("--port", *port, "port to listen on (0 picks one)")->capture_default_str();
}

void addLinkOptions(CLI::App* app, LinkOptions* o) {
  app->add_option("--nats", o->nats_url, "NATS server shared by the roles (nats://host:port)");
  app->add_option("--events", o->events_url, "events gateway (ws://host:port/<env>)");
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
  addListenOptions(serve_cmd, &serve.host, &serve.port);
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

  EventsGatewayOptions events;
  CLI::App* events_cmd = app.add_subcommand("events", "serve an events gateway (WebSocket)");
  addListenOptions(events_cmd, &events.host, &events.port);
  events_cmd->add_option("--nats", events.nats_url, "share results with other gateways");
  events_cmd->add_option("--hold-seconds", events.hold_seconds, "how long results wait")
      ->capture_default_str();

  RouterCommandOptions router;
  CLI::App* router_cmd =
      app.add_subcommand("router", "serve the compile router of one environment");
  addLinkOptions(router_cmd, &router.links);
  router_cmd->add_option("--env", router.env, "environment")->capture_default_str();
  addListenOptions(router_cmd, &router.host, &router.port);
  router_cmd->add_option("--wait-seconds", router.wait_seconds, "how long a request waits")
      ->capture_default_str();
  router_cmd
      ->add_option("--backlog", router.backlog_limit, "queued jobs beyond which requests get 503")
      ->capture_default_str();
  router_cmd->add_option("--admin-token", router.admin_token,
                         "token for /admin/clear-cache (or $CEX_ADMIN_TOKEN)");
  router_cmd->add_option("--lease-seconds", router.lease_seconds, "queue lease (ack wait)")
      ->capture_default_str();
  router_cmd
      ->add_option("--drain-seconds", router.drain_seconds,
                   "time waiting requests get to finish on SIGTERM")
      ->capture_default_str();

  WorkerCommandOptions worker;
  CLI::App* worker_cmd = app.add_subcommand("worker", "compile jobs from an environment's queue");
  addLinkOptions(worker_cmd, &worker.links);
  addInstanceOptions(worker_cmd, &worker.instance, "--config-env");
  worker_cmd->add_option("--env", worker.env, "environment")->capture_default_str();
  worker_cmd->add_option("--color", worker.colour, "blue or green")
      ->check(CLI::IsMember({"blue", "green"}))
      ->capture_default_str();
  addListenOptions(worker_cmd, &worker.host, &worker.port);
  worker_cmd->add_option("--consumers", worker.consumers, "jobs at once (default: its slots)");
  worker_cmd->add_option("--drain-seconds", worker.drain_seconds, "time to finish on SIGTERM")
      ->capture_default_str();
  worker_cmd->add_option("--lease-seconds", worker.lease_seconds, "queue lease (ack wait)")
      ->capture_default_str();

  AdminCommandOptions admin;
  CLI::App* admin_cmd = app.add_subcommand(
      "admin",
      "manage routing and colours: admin routing update|validate|lookup|status|clear, "
      "admin color get|set");
  addLinkOptions(admin_cmd, &admin.links);
  admin_cmd->add_option("--db", admin.sqlite_path, "an embedded deployment's state database");
  admin_cmd->add_option("what", admin.what, "routing or color")->required();
  admin_cmd->add_option("action", admin.action, "what to do")->required();
  admin_cmd->add_option("argument", admin.argument, "compiler id (lookup) or colour (set)");
  admin_cmd->add_option("--env", admin.env, "environment (status: all)")->capture_default_str();
  admin_cmd->add_option("--from", admin.from, "instance to read compilers from (update)");
  admin_cmd->add_option("--url-base", admin.url_base, "front door for url-routed environments");
  admin_cmd->add_option("--type", admin.type, "queue or url (default: by environment)");
  admin_cmd->add_flag("--dry-run", admin.dry_run, "report without changing anything");

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
  if (events_cmd->parsed()) {
    return runEventsGateway(events);
  }
  if (router_cmd->parsed()) {
    return runRouterCommand(router);
  }
  if (worker_cmd->parsed()) {
    return runWorkerCommand(worker);
  }
  if (admin_cmd->parsed()) {
    spdlog::set_level(debug ? spdlog::level::debug : spdlog::level::warn);
    return runAdminCommand(admin);
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

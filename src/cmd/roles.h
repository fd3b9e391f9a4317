#pragma once

#include <cstdint>
#include <string>

#include "cmd/instance.h"

namespace cex {

// Where a role finds the engine between machines and the events gateway.
struct LinkOptions {
  std::string nats_url;    // nats://host:port; required by router and worker
  std::string events_url;  // ws://host:port/<env>
};

struct RouterCommandOptions {
  LinkOptions links;
  std::string env = "prod";
  std::string host = "127.0.0.1";
  int port = 10240;
  int wait_seconds = 60;
  uint64_t backlog_limit = 200;
  std::string admin_token;  // also read from $CEX_ADMIN_TOKEN
  int lease_seconds = 20;
  int drain_seconds = 10;  // on SIGTERM, how long waiting requests may still finish
};

// `cex router`: the compile router of an environment.
int runRouterCommand(const RouterCommandOptions& options);

struct WorkerCommandOptions {
  LinkOptions links;
  InstanceOptions instance;
  std::string env = "prod";
  std::string colour = "blue";
  std::string host = "127.0.0.1";
  int port = 10241;
  int consumers = 0;  // 0 = the instance's compile slots
  int drain_seconds = 30;
  int lease_seconds = 20;
};

// `cex worker`: a compile instance consuming its environment's queue for its colour, also
// serving the whole HTTP API directly.
int runWorkerCommand(const WorkerCommandOptions& options);

struct AdminCommandOptions {
  LinkOptions links;
  std::string sqlite_path;  // an embedded deployment's state instead of NATS
  std::string what;         // "routing" or "color"
  std::string action;       // update, lookup, status, validate, clear; get, set
  std::string env = "prod";
  std::string from;      // instance URL for update/validate
  std::string url_base;  // front door for url-routed environments
  std::string type;      // queue or url; empty = the environment's default
  std::string argument;  // compiler id (lookup) or colour (set)
  bool dry_run = false;
};

// `cex admin`: the routing table and the active colours.
int runAdminCommand(const AdminCommandOptions& options);

}  // namespace cex

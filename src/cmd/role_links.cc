#include "cmd/role_links.h"

#include <signal.h>
#include <unistd.h>

#include <thread>

#include <spdlog/spdlog.h>

namespace cex {

Result<Backends> connectBackends(const std::string& nats_url, int lease_seconds,
                                 const std::string& client_name) {
  if (nats_url.empty()) {
    return Status::invalidArgument("--nats nats://host:port is required");
  }
  NatsOptions options;
  options.url = nats_url;
  options.client_name = client_name;
  options.queue.lease = std::chrono::seconds(lease_seconds);
  return makeNatsBackends(options);
}

EventsClientOptions workerEventsOptions() {
  EventsClientOptions options;
  options.publish_deadline = std::chrono::seconds(10);
  return options;
}

namespace {

sigset_t stopSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void blockStopSignals() {
  sigset_t set = stopSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

StopWatch::StopWatch(std::string role, std::function<void()> on_stop) {
  sigset_t set = stopSet();
  thread_ = std::thread([set, role = std::move(role), on_stop = std::move(on_stop)] {
    int sig = 0;
    sigwait(&set, &sig);
    spdlog::info("{} stopping signal={}", role, sig);
    on_stop();
  });
}

StopWatch::~StopWatch() {
  ::kill(::getpid(), SIGTERM);
  thread_.join();
}

}  // namespace cex

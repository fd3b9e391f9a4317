#include "base/stop_signals.h"

#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace cex {

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

// The `cex events` role as a process: runEventsGateway in a forked child, stopped by signals.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "events/events_gateway.h"
#include "events_test_util.h"
#include "gateway_runner.h"
#include "raw_websocket.h"
#include "test_process.h"

namespace cex {
namespace {

using std::chrono::milliseconds;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t countOf(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// Starts the role in a child process on a free port and waits until it accepts connections.
ChildProcess startRole(EventsGatewayOptions& options, const std::string& log) {
  options.host = "127.0.0.1";
  options.port = freePort();
  ChildProcess child = ChildProcess::fork([&options] { return runEventsGateway(options); }, log);
  EXPECT_TRUE(eventually([&] { return accepting(options.port); }));
  return child;
}

void expectServes(uint16_t port) {
  RawWebSocket raw(port);
  ASSERT_TRUE(raw.upgrade("/staging"));
  raw.sendText("subscribe: g1");
  EXPECT_EQ(raw.readText(), "subscribed: g1");
  raw.sendText("ping");
  EXPECT_EQ(raw.readText(), "pong");
}

TEST(EventsRoleTest, ServesUntilSigtermAndLogsOneLineOnStart) {
  TempDir dir;
  std::string log = dir.path() + "/events.log";
  EventsGatewayOptions options;
  ChildProcess child = startRole(options, log);
  expectServes(options.port);
  auto health = httpGet(options.port, "/healthcheck");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  EXPECT_NE(health->body.find(R"("pubsub":"none")"), std::string::npos);

  EXPECT_EQ(child.stop(SIGTERM, milliseconds(10'000)), 0);
  std::string text = readFile(log);
  EXPECT_EQ(countOf(text, "events listening"), 1u) << text;
  EXPECT_NE(text.find("port=" + std::to_string(options.port)), std::string::npos) << text;
  EXPECT_NE(text.find("events stopped"), std::string::npos) << text;
}

TEST(EventsRoleTest, SigintStopsItToo) {
  TempDir dir;
  EventsGatewayOptions options;
  ChildProcess child = startRole(options, dir.path() + "/events.log");
  expectServes(options.port);
  EXPECT_EQ(child.stop(SIGINT, milliseconds(10'000)), 0);
}

TEST(EventsRoleTest, UnreachableNatsMakesItUnhealthy) {
  TempDir dir;
  EventsGatewayOptions options;
  options.nats_url = "nats://127.0.0.1:" + std::to_string(freePort());
  ChildProcess child = startRole(options, dir.path() + "/events.log");
  auto health = httpGet(options.port, "/healthcheck");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 503) << health->body;
  EXPECT_NE(health->body.find(R"("pubsub":"down")"), std::string::npos) << health->body;
  EXPECT_EQ(child.stop(SIGTERM, milliseconds(10'000)), 0);
}

TEST(EventsRoleTest, PortInUseFailsToStart) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);

  TempDir dir;
  EventsGatewayOptions options;
  options.host = "127.0.0.1";
  options.port = ntohs(address.sin_port);
  ChildProcess child = ChildProcess::fork([&options] { return runEventsGateway(options); },
                                          dir.path() + "/events.log");
  EXPECT_EQ(child.wait(milliseconds(10'000)), 1);
  EXPECT_NE(readFile(dir.path() + "/events.log").find("events listen failed"), std::string::npos);
  ::close(fd);
}

}  // namespace
}  // namespace cex

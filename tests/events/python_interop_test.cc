// Interoperability with a client that cex did not write: Python's websockets package.

#include <stdio.h>
#include <sys/wait.h>

#include <string>

#include <gtest/gtest.h>

#include "events/events_client.h"
#include "events_test_util.h"
#include "gateway_runner.h"

namespace cex {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

struct ScriptRun {
  int status = -1;
  std::string output;
};

// Runs the interop script with `arguments`; its exit status and what it printed.
ScriptRun runScript(const std::string& arguments) {
  std::string command = std::string(kPython) + " " + CEX_SOURCE_DIR +
                        "/tests/events/events_interop.py " + arguments + " 2>&1";
  ScriptRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return run;
  }
  char chunk[4096];
  size_t n;
  while ((n = ::fread(chunk, 1, sizeof(chunk), pipe)) > 0) {
    run.output.append(chunk, n);
  }
  int status = ::pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class PythonInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string probe = std::string(kPython) + " -c 'import websockets' 2>/dev/null";
    if (::system(probe.c_str()) != 0) {
      GTEST_SKIP() << "python3 with the websockets package is not installed";
    }
  }
};

TEST_F(PythonInteropTest, ProtocolFrameByFrame) {
  GatewayRunner gateway(testGatewayOptions());
  ASSERT_TRUE(gateway.ok());
  ScriptRun run = runScript("protocol " + std::to_string(gateway.port()));
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(run.output, "protocol ok\n");
}

TEST_F(PythonInteropTest, PythonWorkerAndCexRouter) {
  GatewayRunner gateway(testGatewayOptions());
  ASSERT_TRUE(gateway.ok());
  ClientLog log;
  std::unique_ptr<EventsClient> router;
  auto client = EventsClient::createWebSocket(testClientOptions(gateway.url()),
                                              [&](const std::string& guid, std::string&& json) {
                                                router->ack(guid);
                                                log.resultHandler()(guid, std::move(json));
                                              });
  ASSERT_TRUE(client.ok());
  router = std::move(client).value();
  router->subscribe("py-w", log.confirmation("py-w"));
  ASSERT_TRUE(log.waitStatus(log.confirmations, "py-w"));

  ScriptRun run = runScript("worker " + std::to_string(gateway.port()) + " py-w");
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(log.waitResult("py-w"), R"({"guid": "py-w", "code": 0, "from": "python"})");
}

TEST_F(PythonInteropTest, CexWorkerAndPythonRouter) {
  GatewayRunner gateway(testGatewayOptions());
  ASSERT_TRUE(gateway.ok());
  ClientLog log;
  auto worker =
      EventsClient::createWebSocket(testClientOptions(gateway.url()), log.resultHandler());
  ASSERT_TRUE(worker.ok());

  // Published before the Python router exists: the gateway holds it.
  (*worker)->publish("py-r", R"({"guid":"py-r","code":0})", log.ack("py-r"));
  ASSERT_TRUE(eventually([&] { return gateway.hub().counters().held_results == 1; }));
  ScriptRun run = runScript("router " + std::to_string(gateway.port()) + " py-r");
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(run.output, "{\"guid\":\"py-r\",\"code\":0}\n");
  auto acked = log.waitStatus(log.acks, "py-r");
  ASSERT_TRUE(acked);
  EXPECT_TRUE(acked->isOk()) << acked->toString();
}

}  // namespace
}  // namespace cex

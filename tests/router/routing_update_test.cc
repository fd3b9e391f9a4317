// Building an environment's routing rows from an instance's compiler listing, and bringing the
// routing table in line with them.

#include "router/routing_update.h"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backends/backends.h"
#include "router/routing_table.h"

namespace cex {
namespace {

constexpr const char* kNow = "2026-01-02T03:04:05Z";

ListedCompiler local(std::string id) {
  return {std::move(id), "/usr/bin/g++", {}, {}};
}

ListedCompiler remote(std::string id, std::string exe, std::string target, std::string path) {
  return {std::move(id), std::move(exe), std::move(target), std::move(path)};
}

TEST(RoutingRowsTest, QueueEnvironmentsRouteEveryCompilerToTheirOwnQueue) {
  auto rows = routingRows("prod", {local("g122"), local("clang1406")}, RoutingStrategy{}, kNow);
  ASSERT_EQ(rows.size(), 2u);
  const RouteEntry& e = rows.at("g122");
  EXPECT_EQ(e.type, RouteEntry::Type::Queue);
  EXPECT_EQ(e.queue_name, "prod");
  EXPECT_EQ(e.environment, "prod");
  EXPECT_EQ(e.updated, kNow);
  EXPECT_TRUE(e.compile_url.empty());
  EXPECT_EQ(rows.at("clang1406").queue_name, "prod");
}

TEST(RoutingRowsTest, UrlStrategyPointsAtTheEnvironmentsFrontDoor) {
  RoutingStrategy strategy{RouteEntry::Type::Url, "http://front:8080//"};
  auto rows = routingRows("gpu", {local("nvcc129")}, strategy, kNow);
  const RouteEntry& e = rows.at("nvcc129");
  EXPECT_EQ(e.type, RouteEntry::Type::Url);
  EXPECT_EQ(e.compile_url, "http://front:8080/gpu/api/compiler/nvcc129/compile");
  EXPECT_EQ(e.cmake_url, "http://front:8080/gpu/api/compiler/nvcc129/cmake");
  EXPECT_EQ(e.build_url, "http://front:8080/gpu/api/compiler/nvcc129/build/{system}");
  EXPECT_EQ(e.environment, "gpu");
  EXPECT_TRUE(e.queue_name.empty());
}

TEST(RoutingRowsTest, RemoteCompilersAreReachedWhereTheyLive) {
  std::vector<ListedCompiler> listed = {
      remote("nvcc", "", "https://godbolt.org:443", "/gpu/api/compiler/nvcc/compile"),
      remote("armv8", "/dev/null", "http://aarch64.example:8080", "/aarch64/api/compiler/armv8"),
  };
  auto rows = routingRows("prod", listed, RoutingStrategy{}, kNow);

  const RouteEntry& nvcc = rows.at("nvcc");
  EXPECT_EQ(nvcc.type, RouteEntry::Type::Url);
  EXPECT_EQ(nvcc.compile_url, "https://godbolt.org/gpu/api/compiler/nvcc/compile");
  EXPECT_EQ(nvcc.cmake_url, "https://godbolt.org/gpu/api/compiler/nvcc/cmake");
  EXPECT_EQ(nvcc.build_url, "https://godbolt.org/gpu/api/compiler/nvcc/build/{system}");
  EXPECT_EQ(nvcc.environment, "gpu");

  // A port other than 443 stays, and a path without "/compile" is the compiler's base.
  const RouteEntry& arm = rows.at("armv8");
  EXPECT_EQ(arm.compile_url, "http://aarch64.example:8080/aarch64/api/compiler/armv8");
  EXPECT_EQ(arm.cmake_url, "http://aarch64.example:8080/aarch64/api/compiler/armv8/cmake");
  EXPECT_EQ(arm.environment, "aarch64");
}

TEST(RoutingRowsTest, ACompilerWithARealExecutableIsLocalEvenWithRemoteInformation) {
  auto rows = routingRows(
      "prod", {remote("g122", "/usr/bin/g++", "https://elsewhere", "/x/api/compiler/g122")},
      RoutingStrategy{}, kNow);
  EXPECT_EQ(rows.at("g122").type, RouteEntry::Type::Queue);
  EXPECT_EQ(rows.at("g122").queue_name, "prod");
}

TEST(RoutingRowsTest, DefaultStrategyQueuesTheMainEnvironments) {
  EXPECT_EQ(defaultStrategy("prod", "http://front").type, RouteEntry::Type::Queue);
  EXPECT_EQ(defaultStrategy("staging", "http://front").type, RouteEntry::Type::Queue);
  EXPECT_EQ(defaultStrategy("gpu", "http://front").type, RouteEntry::Type::Url);
  EXPECT_EQ(defaultStrategy("gpu", "http://front").url_base, "http://front");
  // Without a front door there is nothing to forward to.
  EXPECT_EQ(defaultStrategy("gpu", "").type, RouteEntry::Type::Queue);
}

class ApplyRoutingRowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backends = makeEmbeddedBackends({});
    ASSERT_TRUE(backends.ok()) << backends.status().toString();
    backends_ = std::move(backends).value();
    table_ = std::make_unique<RoutingTable>(backends_.kv);
  }

  std::map<std::string, RouteEntry> rows(const std::vector<std::string>& ids,
                                         const std::string& now = kNow) {
    std::vector<ListedCompiler> listed;
    for (const std::string& id : ids) {
      listed.push_back(local(id));
    }
    return routingRows("prod", listed, RoutingStrategy{}, now);
  }

  // The table's rows for "prod", as bucket key -> JSON.
  std::map<std::string, std::string> snapshot() {
    auto listed = table_->list("prod");
    EXPECT_TRUE(listed.ok()) << listed.status().toString();
    std::map<std::string, std::string> out;
    for (const auto& [key, entry] : *listed) {
      out[key] = entry.toJson();
    }
    return out;
  }

  Backends backends_;
  std::unique_ptr<RoutingTable> table_;
};

TEST_F(ApplyRoutingRowsTest, AddsUpdatesRemovesAndIgnoresTheTimestamp) {
  auto first = applyRoutingRows(*table_, "prod", rows({"a", "b", "d"}), false);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_EQ(first->added, (std::vector<std::string>{"a", "b", "d"}));
  ASSERT_TRUE(table_->put("beta", "a", rows({"a"}).at("a")).isOk());

  // "a" only has a new timestamp, "b" moves to a URL, "c" is new and "d" has gone.
  auto next = rows({"a", "b", "c"}, "2027-01-01T00:00:00Z");
  next.at("b").type = RouteEntry::Type::Url;
  next.at("b").compile_url = "http://elsewhere/prod/api/compiler/b/compile";
  auto diff = applyRoutingRows(*table_, "prod", next, false);
  ASSERT_TRUE(diff.ok()) << diff.status().toString();
  EXPECT_EQ(diff->added, (std::vector<std::string>{"c"}));
  EXPECT_EQ(diff->updated, (std::vector<std::string>{"b"}));
  EXPECT_EQ(diff->removed, (std::vector<std::string>{"d"}));
  EXPECT_EQ(diff->unchanged, 1u);

  EXPECT_EQ(table_->lookup("prod", "b")->type, RouteEntry::Type::Url);
  EXPECT_FALSE(table_->lookup("prod", "d").has_value());
  EXPECT_EQ(table_->lookup("prod", "a")->updated, kNow);
  // Another environment's rows are not touched.
  EXPECT_TRUE(table_->lookup("beta", "a").has_value());
}

TEST_F(ApplyRoutingRowsTest, ARepeatedUpdateChangesNothing) {
  ASSERT_TRUE(applyRoutingRows(*table_, "prod", rows({"a", "b"}), false).ok());
  auto again = applyRoutingRows(*table_, "prod", rows({"a", "b"}), false);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->added.empty());
  EXPECT_TRUE(again->updated.empty());
  EXPECT_TRUE(again->removed.empty());
  EXPECT_EQ(again->unchanged, 2u);
}

TEST_F(ApplyRoutingRowsTest, DryRunReportsButChangesNothing) {
  ASSERT_TRUE(applyRoutingRows(*table_, "prod", rows({"a", "b"}), false).ok());
  auto before = snapshot();

  auto next = rows({"b", "c"});
  next.at("b").queue_name = "staging";
  auto diff = applyRoutingRows(*table_, "prod", next, true);
  ASSERT_TRUE(diff.ok()) << diff.status().toString();
  EXPECT_EQ(diff->added, (std::vector<std::string>{"c"}));
  EXPECT_EQ(diff->updated, (std::vector<std::string>{"b"}));
  EXPECT_EQ(diff->removed, (std::vector<std::string>{"a"}));
  EXPECT_EQ(snapshot(), before);
}

TEST_F(ApplyRoutingRowsTest, NoRowsClearsTheEnvironment) {
  ASSERT_TRUE(applyRoutingRows(*table_, "prod", rows({"a", "b"}), false).ok());
  auto diff = applyRoutingRows(*table_, "prod", {}, false);
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(diff->removed.size(), 2u);
  EXPECT_TRUE(snapshot().empty());
}

TEST(ParseCompilerListingTest, ReadsIdsExecutablesAndRemotes) {
  auto listed = parseCompilerListing(R"([
    {"id": "g122", "exe": "/opt/gcc-12.2.0/bin/g++"},
    {"id": "nvcc", "exe": "", "remote": {"target": "https://godbolt.org:443",
                                         "path": "/gpu/api/compiler/nvcc/compile"}},
    {"exe": "/no/id"},
    42,
    {"id": "bare"}
  ])");
  ASSERT_TRUE(listed.ok()) << listed.status().toString();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].id, "g122");
  EXPECT_EQ((*listed)[0].exe, "/opt/gcc-12.2.0/bin/g++");
  EXPECT_FALSE((*listed)[0].remote_target.has_value());
  EXPECT_EQ((*listed)[1].remote_target, std::optional<std::string>("https://godbolt.org:443"));
  EXPECT_EQ((*listed)[1].remote_path, std::optional<std::string>("/gpu/api/compiler/nvcc/compile"));
  EXPECT_EQ((*listed)[2].id, "bare");
  EXPECT_EQ((*listed)[2].exe, "");
}

TEST(ParseCompilerListingTest, RefusesWhatIsNotAJsonArray) {
  for (const char* text : {"", "not json", "{\"id\": \"g122\"}", "[{\"id\": ", "\"[]\""}) {
    auto listed = parseCompilerListing(text);
    EXPECT_FALSE(listed.ok()) << text;
    EXPECT_EQ(listed.status().code(), StatusCode::InvalidArgument) << text;
  }
}

TEST(IsoNowTest, IsUtcToTheSecond) {
  std::string now = isoNow();
  ASSERT_EQ(now.size(), 20u) << now;
  EXPECT_EQ(now[4], '-');
  EXPECT_EQ(now[10], 'T');
  EXPECT_EQ(now.back(), 'Z');
}

}  // namespace
}  // namespace cex

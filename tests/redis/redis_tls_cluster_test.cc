// RedisBackend on a Redis Cluster that speaks only TLS (REDIS_TLS_CLUSTER_URL
// of scripts/redis-server.sh: 3 masters, TLS on the cluster bus too, client
// certificates required): the conformance suite; discovery that reaches
// every master over TLS with the seed's settings; keys that `redis-cli -c
// --tls` reads and writes; batches split over the masters; the certificate
// checked on every node.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "backends/open.h"
#include "backends/redis.h"
#include "conformance/backend_conformance.h"
#include "redis_test_env.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Optional;

const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new OptionalRedisServerEnvironment(
        "REDIS_TLS_CLUSTER_URL", "TLS Redis Cluster"));

INSTANTIATE_TEST_SUITE_P(
    RedisTlsCluster, BackendConformanceTest,
    ::testing::Values(BackendFactory{
        .name = "Prefixed",
        .make = [](const std::filesystem::path&) -> FactoryResult {
          BACKENDS_ASSIGN_OR_RETURN(
              auto store, NewRedisBackend(TestRedisTlsClusterOptions()));
          return std::unique_ptr<Backend>(std::move(store));
        },
        .extra_valid_keys = {"a//b", "{tag}", "a{b}c"},
        .operations_per_thread = 100,
    }),
    BackendFactoryName);

std::unique_ptr<RedisBackend> Open(
    RedisOptions options = TestRedisTlsClusterOptions()) {
  return OpenTestRedis(std::move(options));
}

std::vector<std::string> MasterPorts() {
  std::vector<std::string> ports;
  auto nodes = RedisTlsCliAt(std::to_string(TestRedisTlsClusterOptions().port),
                             {"CLUSTER", "NODES"});
  if (!nodes) return ports;
  std::istringstream lines(*nodes);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string id, address, flags;
    fields >> id >> address >> flags;
    if (flags.find("master") == std::string::npos) continue;
    const std::size_t colon = address.find(':');
    ports.push_back(address.substr(colon + 1, address.find('@') - colon - 1));
  }
  return ports;
}

TEST(RedisTlsClusterTest, UrlSaysClusterAndTlsAndReopens) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->url(),
              AllOf(HasSubstr("rediss://"), HasSubstr("cluster=1"),
                    HasSubstr("cacert=" + TlsFile("ca.crt")),
                    HasSubstr("cert=" + TlsFile("client.crt"))));
  BACKENDS_ASSERT_OK(store->dump("k", "v"));
  ASSERT_OK_AND_ASSIGN(auto reopened, OpenBackend(store->url()));
  EXPECT_EQ(reopened->url(), store->url());
  EXPECT_THAT(reopened->load("k"), IsOkAndHolds(Optional(std::string("v"))));
  BACKENDS_EXPECT_OK(store->clear());
}

TEST(RedisTlsClusterTest, RedisCliReadsOurKeysOnEveryMasterAndWeReadItsKeys) {
  const std::vector<std::string> masters = MasterPorts();
  ASSERT_EQ(masters.size(), 3u);
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const std::string prefix = store->options().prefix;
  const std::string seed = std::to_string(store->options().port);
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 300; ++i) {
    items.emplace_back("ours" + std::to_string(i),
                       "value " + std::to_string(i));
  }
  for (const auto& status : store->dump_many(items)) BACKENDS_ASSERT_OK(status);
  // Each master holds some of them: the batch went to every node over TLS.
  for (const std::string& port : masters) {
    auto found = RedisTlsCliAt(port, {"--scan", "--pattern", prefix + "*"});
    ASSERT_TRUE(found.has_value()) << port;
    EXPECT_GT(std::count(found->begin(), found->end(), '\n'), 0) << port;
  }
  EXPECT_THAT(RedisTlsCliAt(seed, {"-c", "GET", prefix + "ours17"}),
              Optional(std::string("value 17\n")));
  for (int i = 0; i < 20; ++i) {
    const std::string key = "theirs" + std::to_string(i);
    ASSERT_TRUE(RedisTlsCliAt(seed, {"-c", "SET", prefix + key, key}));
    EXPECT_THAT(store->load(key), IsOkAndHolds(Optional(key)));
  }
  EXPECT_THAT(store->size(), IsOkAndHolds(320u));
  std::vector<std::string> keys;
  for (const auto& item : items) keys.push_back(item.first);
  auto loaded = store->load_many(keys);
  ASSERT_EQ(loaded.size(), items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    EXPECT_THAT(loaded[i], IsOkAndHolds(Optional(items[i].second))) << i;
  }
  BACKENDS_ASSERT_OK(store->clear());
  EXPECT_THAT(store->size(), IsOkAndHolds(0u));
}

TEST(RedisTlsClusterTest, EveryNodesCertificateIsChecked) {
  // A CA that signed none of the nodes' certificates: refused at the seed.
  RedisOptions options = TestRedisTlsClusterOptions();
  options.tls_ca_file = TlsFile("wrong-ca.crt");
  EXPECT_THAT(NewRedisBackend(options),
              StatusIs(ErrorCode::kUnauthenticated,
                       HasSubstr("certificate was refused")));
  // The nodes name 127.0.0.1 in their certificates; reached as localhost
  // (a name the certificates also carry) the seed is accepted, and the
  // nodes it discovers are checked against the addresses the cluster gives.
  options = TestRedisTlsClusterOptions();
  options.host = "localhost";
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  BACKENDS_EXPECT_OK(store->dump("k", "v"));
  EXPECT_THAT(store->load("k"), IsOkAndHolds(Optional(std::string("v"))));
  BACKENDS_EXPECT_OK(store->clear());
  // Without a client certificate every node refuses us.
  options = TestRedisTlsClusterOptions();
  options.tls_cert_file.clear();
  options.tls_key_file.clear();
  EXPECT_THAT(NewRedisBackend(options),
              StatusIs(ErrorCode::kUnauthenticated,
                       HasSubstr("without a client certificate")));
}

}  // namespace
}  // namespace backends::testing

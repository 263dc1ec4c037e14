// RedisBackend on the 6-node Redis Cluster of scripts/redis-server.sh
// (REDIS_CLUSTER_URL): the conformance suite, key slots as the cluster
// computes them, keys that `redis-cli -c` reads and writes, batches split
// over the masters, listings, size() and clear() over every master.

#include "redis/redis_cluster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "backends/open.h"
#include "backends/redis.h"
#include "conformance/backend_conformance.h"
#include "redis_test_env.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(
    new OptionalRedisServerEnvironment("REDIS_CLUSTER_URL", "Redis Cluster"));

FactoryResult MakeCluster() {
  BACKENDS_ASSIGN_OR_RETURN(auto store,
                            NewRedisBackend(TestRedisClusterOptions()));
  return std::unique_ptr<Backend>(std::move(store));
}

INSTANTIATE_TEST_SUITE_P(
    RedisCluster, BackendConformanceTest,
    ::testing::Values(BackendFactory{
        .name = "Prefixed",
        .make = [](const std::filesystem::path&) { return MakeCluster(); },
        .extra_valid_keys = {"a//b", "*", "[x]", "{tag}", "{", "}{", "a{b}c"},
        .operations_per_thread = 100,
    }),
    BackendFactoryName);

std::unique_ptr<RedisBackend> Open(
    RedisOptions options = TestRedisClusterOptions()) {
  return OpenTestRedis(std::move(options));
}

// The first node's port: redis-cli -c follows the cluster from there.
std::string SeedPort() {
  return std::to_string(TestRedisClusterOptions().port);
}

std::optional<std::string> ClusterCli(const std::vector<std::string>& args,
                                      const std::string& input = "") {
  std::vector<std::string> all = {"-c"};
  all.insert(all.end(), args.begin(), args.end());
  return RedisCliAt(SeedPort(), all, input);
}

TEST(RedisClusterTest, KeySlotsAreTheClustersOwn) {
  for (const std::string key :
       {"", "foo", "bar", "{user1000}.following", "{user1000}.followers",
        "foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}", "{", "}{x}",
        "t-1:k\xff\x01", "a/b/c d"}) {
    auto slot = RedisCliAt(SeedPort(), {"CLUSTER", "KEYSLOT", key});
    ASSERT_TRUE(slot.has_value()) << key;
    EXPECT_EQ(std::to_string(redis::KeySlot(key)) + "\n", *slot) << key;
  }
  EXPECT_EQ(redis::KeySlot("foo"), 12182);
  EXPECT_EQ(redis::KeySlot("{user1000}.following"),
            redis::KeySlot("{user1000}.followers"));
}

TEST(RedisClusterTest, UrlSaysClusterAndReopens) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->url(), HasSubstr("cluster=1"));
  BACKENDS_ASSERT_OK(store->dump("k", "v"));
  ASSERT_OK_AND_ASSIGN(auto reopened, OpenBackend(store->url()));
  EXPECT_THAT(reopened->load("k"), IsOkAndHolds(Optional(std::string("v"))));
  EXPECT_THAT(ParseRedisUrl("redis://127.0.0.1:1/3?cluster=1"),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("db 0")));
  EXPECT_THAT(ParseRedisUrl("redis://h?cluster=yes"),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(ParseRedisUrl("redis://h?wait_replicas=1"),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("cluster=1")));
  BACKENDS_EXPECT_OK(store->clear());
}

TEST(RedisClusterTest, APlainServerIsNotACluster) {
  if (RedisEnv("REDIS_URL").empty()) GTEST_SKIP() << "REDIS_URL is not set";
  auto store = OpenBackend(RedisEnv("REDIS_URL") + "?cluster=1");
  EXPECT_THAT(store, StatusIs(ErrorCode::kFailedPrecondition,
                              HasSubstr("not a cluster node")));
}

TEST(RedisClusterTest, RedisCliReadsOurKeysAndWeReadItsKeys) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const std::string prefix = store->options().prefix;
  std::string binary("a\0b\xff\r\n", 6);
  std::set<int> slots;
  for (int i = 0; i < 20; ++i) {
    const std::string key = "ours" + std::to_string(i);
    slots.insert(redis::KeySlot(prefix + key));
    BACKENDS_ASSERT_OK(store->dump(key, binary + key));
    EXPECT_THAT(ClusterCli({"--raw", "GET", prefix + key}),
                Optional(binary + key + "\n"));
  }
  EXPECT_GT(slots.size(), 10u);  // spread over the masters
  for (int i = 0; i < 20; ++i) {
    const std::string key = "theirs" + std::to_string(i);
    ASSERT_TRUE(ClusterCli({"-x", "SET", prefix + key}, binary + key));
    EXPECT_THAT(store->load(key), IsOkAndHolds(Optional(binary + key)));
  }
  EXPECT_THAT(store->size(), IsOkAndHolds(40u));
  ASSERT_OK_AND_ASSIGN(auto keys, store->keys());
  EXPECT_EQ(keys.size(), 40u);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  BACKENDS_ASSERT_OK(store->clear());
  EXPECT_THAT(ClusterCli({"EXISTS", prefix + "ours3"}),
              Optional(std::string("0\n")));
  EXPECT_THAT(store->size(), IsOkAndHolds(0u));
}

TEST(RedisClusterTest, BatchesSplitOverTheMastersKeepTheirOrder) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<std::pair<std::string, std::string>> items;
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) {
    items.emplace_back("k" + std::to_string(i), "v" + std::to_string(i));
    keys.push_back(items.back().first);
  }
  items.emplace_back("", "bad");
  auto dumped = store->dump_many(items);
  for (std::size_t i = 0; i < 2500; ++i) BACKENDS_ASSERT_OK(dumped[i]);
  EXPECT_THAT(dumped[2500], StatusIs(ErrorCode::kInvalidArgument));
  keys.push_back("missing");
  auto loaded = store->load_many(keys);
  ASSERT_EQ(loaded.size(), 2501u);
  for (std::size_t i = 0; i < 2500; ++i) {
    ASSERT_THAT(loaded[i], IsOkAndHolds(Optional(items[i].second))) << i;
  }
  EXPECT_THAT(loaded[2500], IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store->size(), IsOkAndHolds(2500u));
  // Every master holds some of them.
  int masters = 0;
  std::istringstream ports(RedisEnv("REDIS_CLUSTER_PORTS"));
  for (std::string port; ports >> port;) {
    auto role = RedisCliAt(port, {"ROLE"});
    if (!role || role->rfind("master", 0) != 0) continue;
    ++masters;
    auto count = RedisCliAt(port, {"DBSIZE"});
    ASSERT_TRUE(count.has_value());
    EXPECT_GT(std::stoi(*count), 0) << port;
  }
  EXPECT_EQ(masters, 3);
  auto removed = store->remove_many(keys);
  EXPECT_THAT(removed[0], IsOkAndHolds(true));
  EXPECT_THAT(removed[2500], IsOkAndHolds(false));
  EXPECT_THAT(store->size(), IsOkAndHolds(0u));
}

TEST(RedisClusterTest, AHashTagInThePrefixPutsTheStoreInOneSlot) {
  RedisOptions options = TestRedisClusterOptions();
  options.prefix = "{" + options.prefix + "}";
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 20; ++i) {
    BACKENDS_ASSERT_OK(store->dump("k" + std::to_string(i), "v"));
  }
  // One master holds all 20, the others none. Only this store's keys are
  // counted: tests running beside this one put theirs in the same slot.
  std::multiset<int> counts;
  std::istringstream ports(RedisEnv("REDIS_CLUSTER_PORTS"));
  for (std::string port; ports >> port;) {
    auto role = RedisCliAt(port, {"ROLE"});
    if (!role || role->rfind("master", 0) != 0) continue;
    auto keys = RedisCliAt(
        port, {"CLUSTER", "GETKEYSINSLOT",
               std::to_string(redis::KeySlot(options.prefix)), "100000"});
    ASSERT_TRUE(keys.has_value());
    std::istringstream lines(*keys);
    int ours = 0;
    for (std::string key; std::getline(lines, key);) {
      if (key.rfind(options.prefix, 0) == 0) ++ours;
    }
    counts.insert(ours);
  }
  EXPECT_THAT(counts, ElementsAre(0, 0, 20));
  // Copies and renames inside the slot are one script; across slots (a
  // store without the tag) they are read and written.
  EXPECT_THAT(store->rename("k0", "moved"), IsOkAndHolds(true));
  EXPECT_THAT(store->load("moved"), IsOkAndHolds(Optional(std::string("v"))));
  BACKENDS_EXPECT_OK(store->clear());
  auto plain = Open();
  ASSERT_NE(plain, nullptr);
  BACKENDS_ASSERT_OK(plain->dump("a", "1"));
  ASSERT_NE(redis::KeySlot(plain->options().prefix + "a"),
            redis::KeySlot(plain->options().prefix + "b"));
  EXPECT_THAT(plain->rename("a", "b"), IsOkAndHolds(true));
  EXPECT_THAT(plain->keys(), IsOkAndHolds(ElementsAre("b")));
  BACKENDS_EXPECT_OK(plain->clear());
}

class Collect : public ByteSink {
 public:
  Status Write(std::string_view piece) override {
    bytes += piece;
    return Status::OK();
  }
  std::string bytes;
};

TEST(RedisClusterTest, StreamsUseTemporaryKeysInTheValuesSlot) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::string value(6 << 20, 'x');
  for (std::size_t i = 0; i < value.size(); i += 4093) value[i] = char(i);
  StringSource source(value);
  BACKENDS_ASSERT_OK(store->dump_stream("big", source));
  Collect sink;
  EXPECT_THAT(store->load_stream("big", sink), IsOkAndHolds(true));
  EXPECT_TRUE(sink.bytes == value);
  EXPECT_THAT(store->keys(), IsOkAndHolds(ElementsAre("big")));
  BACKENDS_EXPECT_OK(store->clear());
}

}  // namespace
}  // namespace backends::testing

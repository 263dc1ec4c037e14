// RedisBackend on a Redis Cluster that changes under it: a slot migrated
// (MIGRATING / IMPORTING, MIGRATE, SETSLOT NODE) while the store reads and
// writes it, so that it must follow ASK and MOVED; and a master killed
// (SIGKILL) in the middle of a workload, its replica taking over. The
// suite starts its own 6-node cluster (REDIS_SERVER_BIN, redis-cli) on
// free ports, so the shared one of scripts/redis-server.sh stays whole.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "backends/redis.h"
#include "redis/redis_cluster.h"
#include "redis_test_env.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

using ::testing::Optional;

std::optional<std::string> Cli(int port, const std::vector<std::string>& args,
                               const std::string& input = "") {
  return RedisCliAt(std::to_string(port), args, input);
}

// One line of CLUSTER NODES: a node's id, port, whether it is a master,
// and the slots it serves.
struct NodeLine {
  std::string id;
  int port = 0;
  bool master = false;
  bool failed = false;
  std::vector<std::pair<int, int>> ranges;
};

std::vector<NodeLine> ClusterNodes(int port) {
  std::vector<NodeLine> out;
  auto text = Cli(port, {"CLUSTER", "NODES"});
  if (!text) return out;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    NodeLine node;
    std::string address, flags, skip;
    fields >> node.id >> address >> flags;
    node.port = std::stoi(address.substr(address.find(':') + 1));
    node.master = flags.find("master") != std::string::npos;
    node.failed = flags.find("fail") != std::string::npos;
    for (int i = 0; i < 5; ++i) fields >> skip;
    for (std::string range; fields >> range;) {
      if (range.front() == '[') continue;  // a migration in progress
      const std::size_t dash = range.find('-');
      const int first = std::stoi(range.substr(0, dash));
      const int last = dash == std::string::npos ? first
                                                 : std::stoi(range.substr(dash + 1));
      node.ranges.emplace_back(first, last);
    }
    out.push_back(std::move(node));
  }
  return out;
}

class OwnCluster {
 public:
  OwnCluster() {
    std::set<int> taken;
    while (ports_.size() < 12) {
      const int port = FreePort();
      if (taken.insert(port).second) ports_.push_back(port);
    }
    pids_.assign(6, -1);
  }
  ~OwnCluster() {
    for (int i = 0; i < 6; ++i) Kill(i);
  }

  int port(int i) const { return ports_[static_cast<std::size_t>(i)]; }

  void StartNode(int i) {
    const std::string binary = RedisEnv("REDIS_SERVER_BIN");
    const std::string p = std::to_string(port(i));
    std::vector<std::string> args = {
        binary, "--bind", "127.0.0.1", "--port", p, "--cluster-port",
        std::to_string(port(i + 6)), "--cluster-enabled", "yes",
        "--cluster-config-file", "nodes-" + p + ".conf",
        "--cluster-node-timeout", "1000", "--repl-diskless-sync-delay", "0",
        "--dir", dir_.path().string(),
        "--save", "", "--appendonly", "no", "--dbfilename", "dump-" + p + ".rdb",
        "--logfile", "node-" + p + ".log"};
    const pid_t pid = fork();
    if (pid == 0) {
      std::vector<char*> raw;
      for (auto& arg : args) raw.push_back(arg.data());
      raw.push_back(nullptr);
      execv(binary.c_str(), raw.data());
      _exit(127);
    }
    pids_[static_cast<std::size_t>(i)] = pid;
    for (int t = 0; t < 100; ++t) {
      if (Cli(port(i), {"PING"}) == "PONG\n") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    ADD_FAILURE() << "node " << p << " does not answer";
  }

  void Kill(int i) {
    pid_t& pid = pids_[static_cast<std::size_t>(i)];
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
  }

  void Start() {
    const std::string binary = RedisEnv("REDIS_SERVER_BIN");
    ASSERT_FALSE(binary.empty()) << "REDIS_SERVER_BIN is not set";
    for (int i = 0; i < 6; ++i) ASSERT_NO_FATAL_FAILURE(StartNode(i));
    std::vector<std::string> create = {"--cluster", "create"};
    for (int i = 0; i < 6; ++i) create.push_back("127.0.0.1:" + std::to_string(port(i)));
    for (const char* arg : {"--cluster-replicas", "1", "--cluster-yes"}) {
      create.push_back(arg);
    }
    ASSERT_TRUE(Cli(port(0), create)) << "redis-cli --cluster create failed";
    ASSERT_TRUE(WaitUntilHealthy({0, 1, 2, 3, 4, 5}));
  }

  // Every node of `nodes` says cluster_state:ok, 3 masters serve all slots
  // and every replica's link to its master is up.
  bool WaitUntilHealthy(const std::vector<int>& nodes) {
    for (int t = 0; t < 300; ++t) {
      bool ok = true;
      for (int i : nodes) {
        auto info = Cli(port(i), {"CLUSTER", "INFO"});
        ok = ok && info && info->find("cluster_state:ok") != std::string::npos;
        auto replication = Cli(port(i), {"INFO", "replication"});
        ok = ok && replication &&
             (replication->find("role:master") != std::string::npos ||
              replication->find("master_link_status:up") != std::string::npos);
      }
      if (ok) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  RedisOptions Options(std::string prefix) const {
    RedisOptions options;
    options.port = port(0);
    options.cluster = true;
    options.prefix = std::move(prefix);
    return options;
  }

  // The master serving `slot`, as node `asked` sees it.
  std::optional<NodeLine> MasterOf(int slot, int asked = 0) const {
    for (const auto& node : ClusterNodes(port(asked))) {
      if (!node.master || node.failed) continue;
      for (auto [first, last] : node.ranges) {
        if (slot >= first && slot <= last) return node;
      }
    }
    return std::nullopt;
  }

  int IndexOf(int node_port) const {
    for (int i = 0; i < 6; ++i) {
      if (port(i) == node_port) return i;
    }
    return -1;
  }

 private:
  ScopedTempDir dir_;
  std::vector<int> ports_;  // 6 client ports, then their 6 bus ports
  std::vector<pid_t> pids_;
};

class RedisClusterFaultsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (RedisEnv("REDIS_SERVER_BIN").empty()) return;
    cluster_ = new OwnCluster;
    cluster_->Start();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (cluster_ != nullptr) return;
    if (RedisEnv("CI") == "true") FAIL() << "CI=true but REDIS_SERVER_BIN is not set";
    GTEST_SKIP() << "REDIS_SERVER_BIN is not set (scripts/redis-server.sh sets it)";
  }
  static OwnCluster* cluster_;
};
OwnCluster* RedisClusterFaultsTest::cluster_ = nullptr;

std::unique_ptr<RedisBackend> Open(const RedisOptions& options) {
  return OpenTestRedis(options);
}

TEST_F(RedisClusterFaultsTest, ASlotMigratedUnderTheStoreIsFollowed) {
  // The prefix's hash tag puts every key of the store in one slot.
  auto store = Open(cluster_->Options("m{migrating}:"));
  ASSERT_NE(store, nullptr);
  const int slot = redis::KeySlot("m{migrating}:k");
  auto source = cluster_->MasterOf(slot);
  ASSERT_TRUE(source.has_value());
  std::optional<NodeLine> target;
  for (const auto& node : ClusterNodes(cluster_->port(0))) {
    if (node.master && node.id != source->id) target = node;
  }
  ASSERT_TRUE(target.has_value());
  for (int i = 0; i < 10; ++i) {
    BACKENDS_ASSERT_OK(store->dump("k" + std::to_string(i), "v" + std::to_string(i)));
  }
  const std::string s = std::to_string(slot);
  ASSERT_TRUE(Cli(target->port, {"CLUSTER", "SETSLOT", s, "IMPORTING", source->id}));
  ASSERT_TRUE(Cli(source->port, {"CLUSTER", "SETSLOT", s, "MIGRATING", target->id}));
  // Half of the keys move: the source answers ASK for them.
  ASSERT_EQ(Cli(source->port, {"MIGRATE", "127.0.0.1", std::to_string(target->port),
                               "", "0", "5000", "KEYS", "m{migrating}:k0",
                               "m{migrating}:k1", "m{migrating}:k2",
                               "m{migrating}:k3", "m{migrating}:k4"}),
            "OK\n");
  for (int i = 0; i < 10; ++i) {
    EXPECT_THAT(store->load("k" + std::to_string(i)),
                IsOkAndHolds(Optional("v" + std::to_string(i))))
        << i;
  }
  // A new key in a migrating slot is written on the target (after ASK).
  BACKENDS_ASSERT_OK(store->dump("new", "n"));
  EXPECT_THAT(Cli(target->port, {}, "ASKING\nGET m{migrating}:new\n"),
              Optional(std::string("OK\nn\n")));
  std::vector<std::string> keys = {"k0", "k9", "new", "k3", "missing"};
  auto loaded = store->load_many(keys);
  EXPECT_THAT(loaded[0], IsOkAndHolds(Optional(std::string("v0"))));
  EXPECT_THAT(loaded[1], IsOkAndHolds(Optional(std::string("v9"))));
  EXPECT_THAT(loaded[2], IsOkAndHolds(Optional(std::string("n"))));
  EXPECT_THAT(loaded[3], IsOkAndHolds(Optional(std::string("v3"))));
  EXPECT_THAT(loaded[4], IsOkAndHolds(std::nullopt));
  // The rest moves and the slot is the target's: the source answers MOVED.
  ASSERT_EQ(Cli(source->port, {"MIGRATE", "127.0.0.1", std::to_string(target->port),
                               "", "0", "5000", "KEYS", "m{migrating}:k5",
                               "m{migrating}:k6", "m{migrating}:k7",
                               "m{migrating}:k8", "m{migrating}:k9"}),
            "OK\n");
  for (const auto& node : ClusterNodes(cluster_->port(0))) {
    if (node.master) {
      ASSERT_TRUE(Cli(node.port, {"CLUSTER", "SETSLOT", s, "NODE", target->id}));
    }
  }
  BACKENDS_ASSERT_OK(store->dump("k0", "changed"));
  EXPECT_THAT(store->load("k0"), IsOkAndHolds(Optional(std::string("changed"))));
  EXPECT_THAT(store->load("k7"), IsOkAndHolds(Optional(std::string("v7"))));
  EXPECT_THAT(Cli(target->port, {"GET", "m{migrating}:k0"}),
              Optional(std::string("changed\n")));
  EXPECT_THAT(store->size(), IsOkAndHolds(11u));
  BACKENDS_EXPECT_OK(store->clear());
  EXPECT_THAT(store->size(), IsOkAndHolds(0u));
}

// Three threads write (each key once, a value of its own) and read back
// while the master of one third of the slots is SIGKILLed; its replica
// takes over, and the killed node is started again (it rejoins as the new
// master's replica). Writes wait for one replica (wait_replicas=1), so
// every acknowledged write must be readable after, with its value; every
// failure must be kUnavailable; and every thread must go on succeeding.
TEST_F(RedisClusterFaultsTest, AMasterKilledMidWorkloadLosesNoAcknowledgedWrite) {
  RedisOptions options = cluster_->Options("f:");
  options.wait_replicas = 1;
  options.retry_budget = std::chrono::milliseconds(15000);
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  auto victim = cluster_->MasterOf(0);
  ASSERT_TRUE(victim.has_value());
  const int victim_index = cluster_->IndexOf(victim->port);
  ASSERT_GE(victim_index, 0);

  std::atomic<bool> stop{false}, back{false};
  std::atomic<int> unavailable{0}, wrong{0}, after_failover{0};
  std::mutex mu;
  std::map<std::string, std::string> acknowledged;
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const std::string key = "w" + std::to_string(t) + "/" + std::to_string(i);
        const std::string value = "v" + std::to_string(t * 1000000 + i);
        const bool was_back = back;
        Status dumped = store->dump(key, value);
        if (!dumped.ok()) {
          if (dumped.code() == ErrorCode::kUnavailable) {
            ++unavailable;
          } else {
            ++wrong;
            ADD_FAILURE() << dumped;
          }
          continue;
        }
        {
          std::lock_guard lock(mu);
          acknowledged[key] = value;
        }
        auto loaded = store->load(key);
        if (loaded.ok()) {
          if (*loaded != std::optional<std::string>(value)) {
            ++wrong;
            ADD_FAILURE() << key << " read back wrong";
          } else if (was_back) {
            ++after_failover;
          }
        } else if (loaded.status().code() == ErrorCode::kUnavailable) {
          ++unavailable;
        } else {
          ++wrong;
          ADD_FAILURE() << loaded.status();
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  cluster_->Kill(victim_index);
  // The replica takes over (cluster-node-timeout is 1 s).
  const int witness = victim_index == 0 ? 1 : 0;
  bool promoted = false;
  for (int t = 0; t < 200 && !promoted; ++t) {
    auto master = cluster_->MasterOf(0, witness);
    promoted = master && master->port != victim->port;
    if (!promoted) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(promoted) << "no replica took over slot 0";
  // The killed node comes back and rejoins as a replica.
  ASSERT_NO_FATAL_FAILURE(cluster_->StartNode(victim_index));
  EXPECT_TRUE(cluster_->WaitUntilHealthy({0, 1, 2, 3, 4, 5}));
  back = true;
  for (int i = 0; i < 200 && after_failover < 60; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_GE(after_failover, 60);
  std::vector<std::string> keys;
  for (const auto& [key, value] : acknowledged) keys.push_back(key);
  auto loaded = store->load_many(keys);
  std::size_t i = 0;
  for (const auto& [key, value] : acknowledged) {
    EXPECT_THAT(loaded[i++], IsOkAndHolds(Optional(value))) << key;
  }
  EXPECT_GT(acknowledged.size(), 100u);
  RecordProperty("unavailable", unavailable.load());
  RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
  BACKENDS_EXPECT_OK(store->clear());
}

}  // namespace
}  // namespace backends::testing

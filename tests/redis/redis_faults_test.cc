// RedisBackend when the server goes away: a server killed (SIGKILL) and
// started again in the middle of a workload, and connections cut by the
// server. Each test starts its own redis-server (REDIS_SERVER_BIN, from
// scripts/redis-server.sh) on a free port of 127.0.0.1, with every write
// logged to disk before it is acknowledged (appendfsync always), so that
// an acknowledged write must survive the kill.

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
#include <thread>

#include "backends/redis.h"
#include "redis_test_env.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

using ::testing::Optional;

const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new RedisEnvironment);

class OwnServer {
 public:
  OwnServer() : port_(FreePort()) {}
  ~OwnServer() { Kill(); }

  void Start() {
    const std::string binary = RedisEnv("REDIS_SERVER_BIN");
    ASSERT_FALSE(binary.empty()) << "REDIS_SERVER_BIN is not set";
    std::vector<std::string> args = {
        binary, "--bind", "127.0.0.1", "--port", std::to_string(port_),
        "--dir", dir_.path().string(), "--save", "", "--appendonly", "yes",
        "--appendfsync", "always", "--logfile", "server.log"};
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> raw;
      for (auto& arg : args) raw.push_back(arg.data());
      raw.push_back(nullptr);
      execv(binary.c_str(), raw.data());
      _exit(127);
    }
    ASSERT_GT(pid_, 0);
  }

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  RedisOptions Options() const {
    RedisOptions options;
    options.port = port_;
    options.prefix = "f:";
    return options;
  }

 private:
  ScopedTempDir dir_;
  int port_;
  pid_t pid_ = -1;
};

std::unique_ptr<RedisBackend> OpenWhenReady(const RedisOptions& options) {
  auto store = NewRedisBackend(options);
  for (int i = 0; i < 100 && !store.ok(); ++i) {  // while the server starts
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    store = NewRedisBackend(options);
  }
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(RedisFaultsTest, ServerKilledAndRestartedMidWorkload) {
  OwnServer server;
  ASSERT_NO_FATAL_FAILURE(server.Start());
  auto store = OpenWhenReady(server.Options());
  ASSERT_NE(store, nullptr);

  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<std::string, std::string> acknowledged;
  std::atomic<int> failures{0}, after_restart{0};
  std::atomic<bool> restarted{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const std::string key = "w" + std::to_string(t) + "/" + std::to_string(i % 50);
        const std::string value = "v" + std::to_string(i);
        if (Status s = store->dump(key, value); !s.ok()) {
          ADD_FAILURE() << s;
          ++failures;
          continue;
        }
        {
          std::lock_guard lock(mu);
          acknowledged[key] = value;
        }
        auto loaded = store->load(key);
        if (!loaded.ok() || *loaded != std::optional<std::string>(value)) {
          ADD_FAILURE() << key << ": " << loaded.status();
          ++failures;
        }
        if (restarted) ++after_restart;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server.Kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_NO_FATAL_FAILURE(server.Start());
  restarted = true;
  // Run on until every worker has gone through the restart.
  for (int i = 0; i < 100 && after_restart < 30; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(failures, 0);
  EXPECT_GE(after_restart, 30);
  for (const auto& [key, value] : acknowledged) {
    EXPECT_THAT(store->load(key), IsOkAndHolds(Optional(value))) << key;
  }
}

TEST(RedisFaultsTest, ConnectionsCutByTheServerAreReopened) {
  OwnServer server;
  ASSERT_NO_FATAL_FAILURE(server.Start());
  auto store = OpenWhenReady(server.Options());
  ASSERT_NE(store, nullptr);
  BACKENDS_ASSERT_OK(store->dump("k", "v"));
  // Many pooled connections, then every one of them cut.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] { EXPECT_THAT(store->load("k"), IsOk()); });
  }
  for (auto& thread : threads) thread.join();
  // CLIENT KILL from redis-cli's connection: every one of `store`'s is cut.
  const std::string port = std::to_string(server.Options().port);
  ASSERT_TRUE(RedisCliAt(port, {"CLIENT", "KILL", "TYPE", "normal",
                                "SKIPME", "yes"}));
  EXPECT_THAT(store->load("k"), IsOkAndHolds(Optional(std::string("v"))));
  // A streamed dump (whose final rename is not idempotent) works too.
  ASSERT_TRUE(RedisCliAt(port, {"CLIENT", "KILL", "TYPE", "normal",
                                "SKIPME", "yes"}));
  StringSource source("w");
  BACKENDS_EXPECT_OK(store->dump_stream("k2", source));
  EXPECT_THAT(store->keys(), IsOkAndHolds(::testing::ElementsAre("k", "k2")));
}

}  // namespace
}  // namespace backends::testing

#pragma once

// What the Redis tests share: the servers' coordinates from the environment
// (scripts/redis-server.sh, started once per run by scripts/test.sh), a
// fresh key prefix per store, and redis-cli, a client that is not ours.
// When REDIS_URL is missing every Redis test FAILS, saying so; only an
// explicit BACKENDS_SKIP_REDIS=1 turns that into a skip.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "backends/redis.h"

namespace backends::testing {

inline std::string RedisEnv(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

class RedisEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!RedisEnv("REDIS_URL").empty()) return;
    if (RedisEnv("BACKENDS_SKIP_REDIS") == "1") {
      GTEST_SKIP() << "BACKENDS_SKIP_REDIS=1 and no Redis server (REDIS_URL)";
    }
    FAIL() << "the Redis tests need a running server: REDIS_URL is not set. "
              "Run them through scripts/test.sh, or `eval \"$(scripts/"
              "redis-server.sh start)\"` first; set BACKENDS_SKIP_REDIS=1 to "
              "skip them explicitly.";
  }
};

/// Why a test cannot reach the server of `variable` (REDIS_CLUSTER_URL,
/// REDIS_TLS_URL: servers scripts/redis-server.sh starts beside the plain
/// one), or nullopt when it is set.
inline std::optional<std::string> MissingRedisServer(const char* variable,
                                                     const char* what) {
  if (!RedisEnv(variable).empty()) return std::nullopt;
  return std::string("no ") + what + ": " + variable +
         " is not set (run the tests through scripts/test.sh, or `eval "
         "\"$(scripts/redis-server.sh start)\"` first)";
}

/// Skips the calling test when that server is missing; under CI=true, where
/// the test script starts it, fails instead.
#define BACKENDS_REQUIRE_REDIS_SERVER(variable, what)                    \
  do {                                                                   \
    const auto missing = MissingRedisServer(variable, what);             \
    if (!missing) break;                                                 \
    if (RedisEnv("CI") == "true") FAIL() << "CI=true, but " << *missing; \
    GTEST_SKIP() << *missing;                                            \
  } while (false)

/// The environment of a test program that needs one of those servers.
class OptionalRedisServerEnvironment : public ::testing::Environment {
 public:
  OptionalRedisServerEnvironment(const char* variable, const char* what)
      : variable_(variable), what_(what) {}
  void SetUp() override { BACKENDS_REQUIRE_REDIS_SERVER(variable_, what_); }

 private:
  const char* variable_;
  const char* what_;
};

/// A port of 127.0.0.1 that nothing listens on (for a server of a test's
/// own).
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

/// A value streamed in pieces of at most 1 MiB, of undeclared size.
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string value) : value_(std::move(value)) {}
  Result<std::size_t> Read(std::span<char> buffer) override {
    const std::size_t n =
        std::min({buffer.size(), std::size_t{1} << 20, value_.size() - at_});
    std::copy_n(value_.data() + at_, n, buffer.data());
    at_ += n;
    return n;
  }

 private:
  std::string value_;
  std::size_t at_ = 0;
};

/// "t-PID-N-RANDOM:", a prefix no other test or process uses.
inline std::string FreshRedisPrefix() {
  static std::atomic<int> counter{0};
  static const unsigned seed = std::random_device{}();
  return "t-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
         "-" + std::to_string(seed % 100000) + ":";
}

/// A store on the server of the URL in `variable` under a fresh prefix
/// (the default options when the variable is unset or not a Redis URL).
inline RedisOptions TestRedisOptionsFrom(const char* variable) {
  auto options = ParseRedisUrl(RedisEnv(variable));
  RedisOptions out = options.ok() ? *options : RedisOptions{};
  out.prefix = FreshRedisPrefix();
  return out;
}

inline RedisOptions TestRedisOptions() {
  return TestRedisOptionsFrom("REDIS_URL");
}

/// Opens a store, reporting a failure (and returning null) if it cannot.
inline std::unique_ptr<RedisBackend> OpenTestRedis(RedisOptions options) {
  auto store = NewRedisBackend(std::move(options));
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(store).value() : nullptr;
}

/// Runs redis-cli against 127.0.0.1:`port` with `args` (no shell), feeding
/// `input` to its stdin; returns its stdout, or nullopt if it failed.
inline std::optional<std::string> RedisCliAt(
    const std::string& port, const std::vector<std::string>& args,
    const std::string& input = "") {
  std::vector<std::string> argv = {"redis-cli", "-h", "127.0.0.1", "-p", port};
  argv.insert(argv.end(), args.begin(), args.end());
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) return std::nullopt;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    close(to_child[1]);
    close(from_child[0]);
    std::vector<char*> raw;
    for (auto& arg : argv) raw.push_back(arg.data());
    raw.push_back(nullptr);
    execvp("redis-cli", raw.data());
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  if (!input.empty() && write(to_child[1], input.data(), input.size()) !=
                            static_cast<ssize_t>(input.size())) {
    return std::nullopt;
  }
  close(to_child[1]);
  std::string out;
  char buffer[4096];
  for (ssize_t n; (n = read(from_child[0], buffer, sizeof buffer)) > 0;) {
    out.append(buffer, static_cast<std::size_t>(n));
  }
  close(from_child[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

/// A store on the test cluster (REDIS_CLUSTER_URL) under a fresh prefix.
inline RedisOptions TestRedisClusterOptions() {
  return TestRedisOptionsFrom("REDIS_CLUSTER_URL");
}

/// A store on the TLS server (REDIS_TLS_URL: the ACL user, the CA and a
/// client certificate) under a fresh prefix.
inline RedisOptions TestRedisTlsOptions() {
  return TestRedisOptionsFrom("REDIS_TLS_URL");
}

/// A store on the TLS cluster (REDIS_TLS_CLUSTER_URL: the CA and a client
/// certificate) under a fresh prefix.
inline RedisOptions TestRedisTlsClusterOptions() {
  return TestRedisOptionsFrom("REDIS_TLS_CLUSTER_URL");
}

/// A file of the TLS server's certificates (REDIS_TLS_DIR), e.g. "ca.crt".
inline std::string TlsFile(const std::string& name) {
  return RedisEnv("REDIS_TLS_DIR") + "/" + name;
}

/// redis-cli --tls against 127.0.0.1:`port`, with the test CA and the
/// client certificate, as the default user.
inline std::optional<std::string> RedisTlsCliAt(const std::string& port,
                                                std::vector<std::string> args,
                                                const std::string& input = "") {
  const std::vector<std::string> tls = {"--tls",
                                        "--cacert",
                                        TlsFile("ca.crt"),
                                        "--cert",
                                        TlsFile("client.crt"),
                                        "--key",
                                        TlsFile("client.key")};
  args.insert(args.begin(), tls.begin(), tls.end());
  return RedisCliAt(port, args, input);
}

/// redis-cli --tls against the TLS server (REDIS_TLS_URL).
inline std::optional<std::string> RedisTlsCli(std::vector<std::string> args,
                                              const std::string& input = "") {
  return RedisTlsCliAt(std::to_string(TestRedisTlsOptions().port),
                       std::move(args), input);
}

/// redis-cli against the test server (REDIS_URL).
inline std::optional<std::string> RedisCli(const std::vector<std::string>& args,
                                           const std::string& input = "") {
  return RedisCliAt(std::to_string(TestRedisOptions().port), args, input);
}

}  // namespace backends::testing

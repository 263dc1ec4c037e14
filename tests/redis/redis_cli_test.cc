// The `backends` tool on redis:// and rediss:// URLs: put, get, ls, rm, cp
// to and from a folder, and ?cache=json|text with the expiry kept by Redis.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/cli_runner.h"
#include "redis_test_env.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new RedisEnvironment);

class RedisCliTest : public ::testing::Test {
 protected:
  CliResult Run(std::vector<std::string> args, std::string input = "") {
    return RunCli(temp_.path(), std::move(args), std::move(input));
  }
  ScopedTempDir temp_;
  std::string prefix_ = FreshRedisPrefix();
  std::string url_ = RedisEnv("REDIS_URL") + "?prefix=" + prefix_;
};

TEST_F(RedisCliTest, PutGetLsRmAndCopyToAFolder) {
  CliResult put = Run({"put", url_, "greeting", "-"}, "hello");
  ASSERT_EQ(put.exit_code, 0) << put.err;
  ASSERT_EQ(Run({"put", url_, "dir/a b", "-"}, "x").exit_code, 0);
  EXPECT_EQ(Run({"get", url_, "greeting"}).out, "hello");
  CliResult ls = Run({"ls", url_});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_EQ(ls.out, "dir/a b\ngreeting\n");
  // What the tool wrote is what redis-cli reads.
  EXPECT_EQ(RedisCli({"GET", prefix_ + "greeting"}), "hello\n");
  CliResult cp = Run({"cp", url_, "copy"});
  EXPECT_EQ(cp.exit_code, 0) << cp.err;
  CliResult back = Run({"cp", "copy", url_ + "-back"});
  EXPECT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(Run({"ls", url_ + "-back"}).out, "dir/a b\ngreeting\n");
  EXPECT_EQ(Run({"rm", url_, "greeting"}).exit_code, 0);
  EXPECT_EQ(Run({"get", url_, "greeting"}).exit_code, 1);
  EXPECT_EQ(Run({"rm", "-r", url_ + "-back", "dir/"}).exit_code, 0);
  EXPECT_EQ(Run({"ls", url_ + "-back"}).out, "greeting\n");
  Run({"rm", url_ + "-back", "greeting"});
  Run({"rm", url_, "dir/a b"});
}

TEST_F(RedisCliTest, CachesLeaveTheExpiryToRedis) {
  const std::string json = url_ + "&cache=json&timeout=60";
  ASSERT_EQ(Run({"put", json, "cfg", "-"}, R"({"a": 1})").exit_code, 0);
  EXPECT_EQ(Run({"get", json, "cfg"}).out, "{\n    \"a\": 1\n}");
  auto ttl = RedisCli({"PTTL", prefix_ + "cfg"});
  ASSERT_TRUE(ttl.has_value());
  EXPECT_GT(std::stoll(*ttl), 50'000);
  EXPECT_LE(std::stoll(*ttl), 60'000);
  const std::string text = url_ + "&cache=text&timeout=30";
  ASSERT_EQ(Run({"put", text, "page", "-"}, "<p>").exit_code, 0);
  EXPECT_EQ(Run({"get", text, "page"}).out, "<p>");
  ttl = RedisCli({"PTTL", prefix_ + "page"});
  ASSERT_TRUE(ttl.has_value());
  EXPECT_GT(std::stoll(*ttl), 20'000);
  CliResult bad = Run({"put", json, "bad", "-"}, "{not json");
  EXPECT_NE(bad.exit_code, 0);
  Run({"rm", url_, "cfg"});
  Run({"rm", url_, "page"});
}

TEST_F(RedisCliTest, PutGetLsRmOnACluster) {
  BACKENDS_REQUIRE_REDIS_SERVER("REDIS_CLUSTER_URL", "Redis Cluster");
  const std::string cluster = RedisEnv("REDIS_CLUSTER_URL");
  const std::string url = cluster + "&prefix=" + prefix_;
  for (const char* key : {"b", "a", "dir/c", "z{tag}"}) {
    CliResult put = Run({"put", url, key, "-"}, std::string("value of ") + key);
    ASSERT_EQ(put.exit_code, 0) << put.err;
  }
  EXPECT_EQ(Run({"get", url, "dir/c"}).out, "value of dir/c");
  CliResult ls = Run({"ls", url});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_EQ(ls.out, "a\nb\ndir/c\nz{tag}\n");
  // redis-cli -c, following the cluster from the same node, reads them.
  const std::string port = cluster.substr(
      cluster.rfind(':') + 1, cluster.find('?') - cluster.rfind(':') - 1);
  EXPECT_EQ(RedisCliAt(port, {"-c", "GET", prefix_ + "z{tag}"}),
            "value of z{tag}\n");
  // cp to a folder, and from it back into the cluster under another prefix.
  CliResult out = Run({"cp", url, "copy"});
  EXPECT_EQ(out.exit_code, 0) << out.err;
  const std::string back = cluster + "&prefix=" + prefix_ + "back:";
  CliResult in = Run({"cp", "copy", back});
  EXPECT_EQ(in.exit_code, 0) << in.err;
  EXPECT_EQ(Run({"ls", back}).out, "a\nb\ndir/c\nz{tag}\n");
  EXPECT_EQ(Run({"get", back, "z{tag}"}).out, "value of z{tag}");
  for (const char* key : {"a", "b", "dir/c", "z{tag}"}) Run({"rm", back, key});
  EXPECT_EQ(Run({"ls", back}).out, "");
  // The cache verbs, with the expiry kept by the cluster's master.
  const std::string json = url + "&cache=json&timeout=60";
  ASSERT_EQ(Run({"put", json, "cfg", "-"}, R"({"a": 1})").exit_code, 0);
  EXPECT_EQ(Run({"get", json, "cfg"}).out, "{\n    \"a\": 1\n}");
  auto ttl = RedisCliAt(port, {"-c", "PTTL", prefix_ + "cfg"});
  ASSERT_TRUE(ttl.has_value());
  EXPECT_GT(std::stoll(*ttl), 50'000);
  EXPECT_LE(std::stoll(*ttl), 60'000);
  CliResult prune = Run({"cache", "prune", json});
  EXPECT_EQ(prune.exit_code, 0) << prune.err;
  Run({"rm", url, "cfg"});
  EXPECT_EQ(Run({"rm", url, "a"}).exit_code, 0);
  EXPECT_EQ(Run({"get", url, "a"}).exit_code, 1);
  EXPECT_EQ(Run({"rm", "-r", url, "dir/"}).exit_code, 0);
  EXPECT_EQ(Run({"ls", url}).out, "b\nz{tag}\n");
  Run({"rm", url, "b"});
  Run({"rm", url, "z{tag}"});
  EXPECT_EQ(Run({"ls", url}).out, "");
}

TEST_F(RedisCliTest, PutGetLsRmCopyAndCacheOverTls) {
  BACKENDS_REQUIRE_REDIS_SERVER("REDIS_TLS_URL", "TLS Redis server");
  const std::string tls = RedisEnv("REDIS_TLS_URL");
  const std::string url = tls + "&prefix=" + prefix_;
  CliResult put = Run({"put", url, "greeting", "-"}, "hello");
  ASSERT_EQ(put.exit_code, 0) << put.err;
  ASSERT_EQ(Run({"put", url, "dir/a", "-"}, "x").exit_code, 0);
  EXPECT_EQ(Run({"get", url, "greeting"}).out, "hello");
  EXPECT_EQ(RedisTlsCli({"GET", prefix_ + "greeting"}), "hello\n");
  CliResult ls = Run({"ls", url});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_EQ(ls.out, "dir/a\ngreeting\n");
  CliResult cp = Run({"cp", url, "copy"});
  EXPECT_EQ(cp.exit_code, 0) << cp.err;
  CliResult back = Run({"cp", "copy", url + "-back"});
  EXPECT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(Run({"ls", url + "-back"}).out, "dir/a\ngreeting\n");
  EXPECT_EQ(Run({"rm", "-r", url + "-back", "dir/"}).exit_code, 0);
  EXPECT_EQ(Run({"rm", url + "-back", "greeting"}).exit_code, 0);
  EXPECT_EQ(Run({"ls", url + "-back"}).out, "");
  EXPECT_EQ(Run({"rm", url, "greeting"}).exit_code, 0);
  EXPECT_EQ(Run({"get", url, "greeting"}).exit_code, 1);
  const std::string json = url + "&cache=json&timeout=60";
  ASSERT_EQ(Run({"put", json, "cfg", "-"}, R"({"a": 1})").exit_code, 0);
  EXPECT_EQ(Run({"get", json, "cfg"}).out, "{\n    \"a\": 1\n}");
  auto ttl = RedisTlsCli({"PTTL", prefix_ + "cfg"});
  ASSERT_TRUE(ttl.has_value());
  EXPECT_GT(std::stoll(*ttl), 50'000);
  EXPECT_LE(std::stoll(*ttl), 60'000);
  Run({"rm", url, "cfg"});
  Run({"rm", url, "dir/a"});
  EXPECT_EQ(Run({"ls", url}).out, "");
  // A CA that did not sign the server's certificate: refused, saying why.
  const std::string wrong =
      "rediss://127.0.0.1:" + std::to_string(TestRedisTlsOptions().port) +
      "?cacert=" + TlsFile("wrong-ca.crt");
  CliResult refused = Run({"ls", wrong});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_THAT(refused.err,
              HasSubstr("self-signed certificate in certificate chain"));
}

TEST_F(RedisCliTest, PutGetLsRmCopyAndCacheOnATlsCluster) {
  BACKENDS_REQUIRE_REDIS_SERVER("REDIS_TLS_CLUSTER_URL", "TLS Redis Cluster");
  const std::string url =
      RedisEnv("REDIS_TLS_CLUSTER_URL") + "&prefix=" + prefix_;
  for (const char* key : {"b", "a", "dir/c", "z{tag}"}) {
    CliResult put = Run({"put", url, key, "-"}, std::string("value of ") + key);
    ASSERT_EQ(put.exit_code, 0) << put.err;
  }
  EXPECT_EQ(Run({"get", url, "dir/c"}).out, "value of dir/c");
  const std::string seed = std::to_string(TestRedisTlsClusterOptions().port);
  EXPECT_EQ(RedisTlsCliAt(seed, {"-c", "GET", prefix_ + "z{tag}"}),
            "value of z{tag}\n");
  CliResult ls = Run({"ls", url});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_EQ(ls.out, "a\nb\ndir/c\nz{tag}\n");
  CliResult cp = Run({"cp", url, "copy"});
  EXPECT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_EQ(Run({"get", "copy", "dir/c"}).out, "value of dir/c");
  CliResult back = Run({"cp", "copy", url + "-back"});
  EXPECT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(Run({"ls", url + "-back"}).out, "a\nb\ndir/c\nz{tag}\n");
  EXPECT_EQ(Run({"rm", url + "-back", "a", "b", "dir/c", "z{tag}"}).exit_code,
            0);
  EXPECT_EQ(Run({"ls", url + "-back"}).out, "");
  const std::string text = url + "&cache=text&timeout=60";
  ASSERT_EQ(Run({"put", text, "note", "-"}, "hi").exit_code, 0);
  EXPECT_EQ(Run({"get", text, "note"}).out, "hi");
  auto ttl = RedisTlsCliAt(seed, {"-c", "PTTL", prefix_ + "note"});
  ASSERT_TRUE(ttl.has_value());
  EXPECT_GT(std::stoll(*ttl), 50'000);
  EXPECT_EQ(Run({"rm", url, "a", "b", "dir/c", "z{tag}", "note"}).exit_code, 0);
  EXPECT_EQ(Run({"ls", url}).out, "");
}

TEST_F(RedisCliTest, WrongPasswordSaysSoWithoutThePassword) {
  const std::string host = RedisEnv("REDIS_URL").substr(8);  // after redis://
  CliResult ls = Run({"ls", "redis://" + RedisEnv("REDIS_ACL_USER") +
                                ":not-the-pass-77@" + host});
  EXPECT_NE(ls.exit_code, 0);
  EXPECT_THAT(ls.err, HasSubstr("WRONGPASS"));
  EXPECT_THAT(ls.err, Not(HasSubstr("not-the-pass-77")));
}

}  // namespace
}  // namespace backends::testing

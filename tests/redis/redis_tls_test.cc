// RedisBackend over TLS (rediss://) on scripts/redis-server.sh's TLS server,
// which requires a client certificate and has an ACL user with a password:
// the conformance suite, redis-cli --tls reading our keys and we its, the
// URL's parameters, and each way a connection is refused: a CA that did
// not sign the server's certificate, a host the certificate does not name,
// no client certificate, a missing file, a wrong password. Then a cut
// connection that must recover.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "backends/open.h"
#include "backends/redis.h"
#include "conformance/backend_conformance.h"
#include "redis_test_env.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(
    new OptionalRedisServerEnvironment("REDIS_TLS_URL", "TLS Redis server"));

INSTANTIATE_TEST_SUITE_P(
    RedisTls, BackendConformanceTest,
    ::testing::Values(BackendFactory{
        .name = "Prefixed",
        .make = [](const std::filesystem::path&) -> FactoryResult {
          BACKENDS_ASSIGN_OR_RETURN(auto store,
                                    NewRedisBackend(TestRedisTlsOptions()));
          return std::unique_ptr<Backend>(std::move(store));
        },
        .extra_valid_keys = {"a//b", "*", "{tag}"},
        .operations_per_thread = 50,
    }),
    BackendFactoryName);

std::unique_ptr<RedisBackend> Open(
    RedisOptions options = TestRedisTlsOptions()) {
  return OpenTestRedis(std::move(options));
}

TEST(RedisTlsUrlTest, ParsesTheTlsParameters) {
  ::unsetenv("REDISCLI_AUTH");
  ASSERT_OK_AND_ASSIGN(
      auto options,
      ParseRedisUrl("rediss://u:pw@h.example:6380/2?cacert=%2Fetc%2Fca.pem"
                    "&cert=/c.pem&key=/k.pem&prefix=p"));
  EXPECT_TRUE(options.tls);
  EXPECT_EQ(options.host, "h.example");
  EXPECT_EQ(options.port, 6380);
  EXPECT_EQ(options.db, 2);
  EXPECT_EQ(options.tls_ca_file, "/etc/ca.pem");
  EXPECT_EQ(options.tls_cert_file, "/c.pem");
  EXPECT_EQ(options.tls_key_file, "/k.pem");
  EXPECT_FALSE(options.tls_insecure);
  ASSERT_OK_AND_ASSIGN(options, ParseRedisUrl("rediss://h?insecure=1"));
  EXPECT_TRUE(options.tls_insecure);
  EXPECT_TRUE(options.tls_ca_file.empty());  // the system's CAs
  ASSERT_OK_AND_ASSIGN(options, ParseRedisUrl("redis://h"));
  EXPECT_FALSE(options.tls);

  for (const char* url :
       {"rediss://u:s3cret@h?cert=/c.pem", "rediss://u:s3cret@h?key=/k.pem",
        "rediss://u:s3cret@h?insecure=yes", "redis://u:s3cret@h?cacert=/ca",
        "redis+unix:///s.sock?cacert=/ca"}) {
    auto parsed = ParseRedisUrl(url);
    EXPECT_THAT(parsed, StatusIs(ErrorCode::kInvalidArgument)) << url;
    EXPECT_THAT(parsed.status().message(), Not(HasSubstr("s3cret"))) << url;
  }
}

TEST(RedisTlsTest, UrlReopensTheStoreWithoutThePassword) {
  RedisOptions options = TestRedisTlsOptions();
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  BACKENDS_ASSERT_OK(store->dump("k", "v"));
  const std::string url = store->url();
  EXPECT_THAT(url, AllOf(HasSubstr("rediss://" + options.user + "@"),
                         HasSubstr("cacert=" + TlsFile("ca.crt")),
                         HasSubstr("cert=" + TlsFile("client.crt")),
                         HasSubstr("key=" + TlsFile("client.key")),
                         Not(HasSubstr(options.password))));
  ::setenv("REDISCLI_AUTH", options.password.c_str(), 1);
  auto reopened = OpenStore(url);
  ::unsetenv("REDISCLI_AUTH");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->backend->url(), url);
  EXPECT_THAT(reopened->backend->load("k"),
              IsOkAndHolds(Optional(std::string("v"))));
  BACKENDS_EXPECT_OK(store->clear());
}

TEST(RedisTlsTest, RedisCliReadsOurKeysAndWeReadItsKeys) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const std::string prefix = store->options().prefix;
  std::string binary("a\0b\xff\r\n", 6);
  BACKENDS_ASSERT_OK(store->dump("ours", binary));
  EXPECT_THAT(RedisTlsCli({"--raw", "GET", prefix + "ours"}),
              Optional(binary + "\n"));
  ASSERT_TRUE(
      RedisTlsCli({"-x", "SET", prefix + "theirs"}, binary).has_value());
  EXPECT_THAT(store->load("theirs"), IsOkAndHolds(Optional(binary)));
  // Values larger than a TLS record (16 KiB) come back whole, in pipelines.
  const std::string large(300'000, 'L');
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 20; ++i)
    items.emplace_back("big" + std::to_string(i), large);
  for (const auto& status : store->dump_many(items)) BACKENDS_ASSERT_OK(status);
  std::vector<std::string> keys;
  for (const auto& item : items) keys.push_back(item.first);
  for (const auto& value : store->load_many(keys)) {
    EXPECT_THAT(value, IsOkAndHolds(Optional(large)));
  }
  EXPECT_THAT(RedisTlsCli({"STRLEN", prefix + "big7"}),
              Optional(std::string("300000\n")));
  BACKENDS_ASSERT_OK(store->clear());
  EXPECT_THAT(RedisTlsCli({"EXISTS", prefix + "ours"}),
              Optional(std::string("0\n")));
}

TEST(RedisTlsTest, ACaThatDidNotSignTheServerIsUnauthenticated) {
  RedisOptions options = TestRedisTlsOptions();
  options.tls_ca_file = TlsFile("wrong-ca.crt");
  auto store = NewRedisBackend(options);
  EXPECT_THAT(store, StatusIs(ErrorCode::kUnauthenticated,
                              AllOf(HasSubstr("certificate was refused"),
                                    HasSubstr("self-signed certificate in "
                                              "certificate chain"))));
  EXPECT_THAT(store.status().message(), Not(HasSubstr(options.password)));
  // insecure=1 skips the check (and nothing else).
  options.tls_insecure = true;
  auto unchecked = Open(options);
  ASSERT_NE(unchecked, nullptr);
  BACKENDS_EXPECT_OK(unchecked->dump("k", "v"));
  BACKENDS_EXPECT_OK(unchecked->clear());
}

TEST(RedisTlsTest, AHostTheCertificateDoesNotNameIsUnauthenticated) {
  // The server listens on 127.0.0.2 too; its certificate names 127.0.0.1
  // and localhost only.
  RedisOptions options = TestRedisTlsOptions();
  options.host = "127.0.0.2";
  EXPECT_THAT(
      NewRedisBackend(options),
      StatusIs(ErrorCode::kUnauthenticated, HasSubstr("IP address mismatch")));
  // By name (with SNI): checked against the certificate's DNS name.
  options.host = "localhost";
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  BACKENDS_EXPECT_OK(store->dump("k", "v"));
  BACKENDS_EXPECT_OK(store->clear());
}

TEST(RedisTlsTest, NoClientCertificateIsUnauthenticated) {
  RedisOptions options = TestRedisTlsOptions();
  options.tls_cert_file.clear();
  options.tls_key_file.clear();
  EXPECT_THAT(NewRedisBackend(options),
              StatusIs(ErrorCode::kUnauthenticated,
                       HasSubstr("without a client certificate")));
  // A client certificate the server's CA did not sign.
  options.tls_cert_file = TlsFile("wrong-ca.crt");
  options.tls_key_file = TlsFile("wrong-ca.key");
  EXPECT_THAT(NewRedisBackend(options),
              StatusIs(ErrorCode::kUnauthenticated,
                       HasSubstr("refused our client certificate")));
}

TEST(RedisTlsTest, AFileThatCannotBeUsedIsNamed) {
  RedisOptions options = TestRedisTlsOptions();
  options.tls_key_file = TlsFile("no-such.key");
  EXPECT_THAT(NewRedisBackend(options),
              StatusIs(ErrorCode::kInvalidArgument,
                       AllOf(HasSubstr("key file"), HasSubstr("no-such.key"),
                             HasSubstr("No such file"))));
  options = TestRedisTlsOptions();
  options.tls_key_file = TlsFile("server.key");  // not the cert's key
  EXPECT_THAT(NewRedisBackend(options),
              StatusIs(ErrorCode::kInvalidArgument,
                       HasSubstr("does not match cert file")));
  options = TestRedisTlsOptions();
  options.tls_ca_file = TlsFile("client.key");
  EXPECT_THAT(NewRedisBackend(options),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("cacert file")));
}

TEST(RedisTlsTest, WrongPasswordIsUnauthenticatedWithoutThePassword) {
  RedisOptions options = TestRedisTlsOptions();
  options.password = "wrong-tls-password-456";
  auto store = NewRedisBackend(options);
  EXPECT_THAT(store,
              StatusIs(ErrorCode::kUnauthenticated, HasSubstr("WRONGPASS")));
  EXPECT_THAT(store.status().message(), Not(HasSubstr(options.password)));
  EXPECT_THAT(store.status().message(), Not(HasSubstr("not-a-real-one")));
}

TEST(RedisTlsTest, TheWrongKindOfPortFailsClearly) {
  RedisOptions options = TestRedisTlsOptions();
  options.tls = false;
  options.read_timeout = std::chrono::milliseconds(500);
  options.retry_budget = std::chrono::milliseconds(0);
  EXPECT_FALSE(NewRedisBackend(options).ok());
  // And TLS to a plain port: the handshake fails, naming the step.
  auto plain = ParseRedisUrl(RedisEnv("REDIS_URL"));
  ASSERT_TRUE(plain.ok()) << plain.status();
  options = TestRedisTlsOptions();
  options.port = plain->port;
  options.connect_timeout = std::chrono::milliseconds(300);
  options.retry_budget = std::chrono::milliseconds(0);
  EXPECT_THAT(NewRedisBackend(options),
              StatusIs(ErrorCode::kDeadlineExceeded,
                       HasSubstr("TLS handshake: timed out (is the port a "
                                 "TLS port?)")));
}

TEST(RedisTlsTest, ACutConnectionRecovers) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  BACKENDS_ASSERT_OK(store->dump("k", "before"));
  const std::vector<std::string> keys = {"k", "missing"};
  for (int round = 0; round < 3; ++round) {
    // The server closes every connection of our user: the pooled ones.
    auto killed =
        RedisTlsCli({"CLIENT", "KILL", "USER", store->options().user});
    ASSERT_TRUE(killed.has_value());
    EXPECT_GE(std::stoi(*killed), 1);
    EXPECT_THAT(store->load("k"),
                IsOkAndHolds(Optional(std::string("before"))));
    RedisTlsCli({"CLIENT", "KILL", "USER", store->options().user});
    auto loaded = store->load_many(keys);
    EXPECT_THAT(loaded[0], IsOkAndHolds(Optional(std::string("before"))));
    EXPECT_THAT(loaded[1], IsOkAndHolds(std::nullopt));
    RedisTlsCli({"CLIENT", "KILL", "USER", store->options().user});
    BACKENDS_EXPECT_OK(store->dump("k", "before"));
  }
  EXPECT_THAT(store->keys(), IsOkAndHolds(ElementsAre("k")));
  BACKENDS_EXPECT_OK(store->clear());
}

}  // namespace
}  // namespace backends::testing

// RedisBackend on a plain server: the conformance suite, then what is the
// store's own: URLs, keys other clients see, batches, listings under a
// prefix, clear() and size(), streams and the value limit, credentials.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "backends/open.h"
#include "backends/redis.h"
#include "conformance/backend_conformance.h"
#include "redis_test_env.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new RedisEnvironment);

FactoryResult MakeRedis() {
  BACKENDS_ASSIGN_OR_RETURN(auto store, NewRedisBackend(TestRedisOptions()));
  return std::unique_ptr<Backend>(std::move(store));
}

INSTANTIATE_TEST_SUITE_P(
    Redis, BackendConformanceTest,
    ::testing::Values(BackendFactory{
        .name = "Prefixed",
        .make = [](const std::filesystem::path&) { return MakeRedis(); },
        .extra_valid_keys = {"a//b", "*", "[x]", "k?", "back\\slash", "{tag}"},
        .operations_per_thread = 100,
    }),
    BackendFactoryName);

std::unique_ptr<RedisBackend> Open(RedisOptions options = TestRedisOptions()) {
  return OpenTestRedis(std::move(options));
}

TEST(RedisUrlTest, ParsesEveryPart) {
  ::unsetenv("REDISCLI_AUTH");
  ASSERT_OK_AND_ASSIGN(auto options,
                       ParseRedisUrl("redis://al%40ice:p%3Ass@h.example:7000/"
                                     "3?prefix=app%3A"));
  EXPECT_EQ(options.user, "al@ice");
  EXPECT_EQ(options.password, "p:ss");
  EXPECT_EQ(options.host, "h.example");
  EXPECT_EQ(options.port, 7000);
  EXPECT_EQ(options.db, 3);
  EXPECT_EQ(options.prefix, "app:");

  ASSERT_OK_AND_ASSIGN(options, ParseRedisUrl("redis://[::1]"));
  EXPECT_EQ(options.host, "::1");
  EXPECT_EQ(options.port, 6379);
  ASSERT_OK_AND_ASSIGN(options,
                       ParseRedisUrl("redis+unix:///run/r.sock?db=2&prefix=p"));
  EXPECT_EQ(options.unix_socket, "/run/r.sock");
  EXPECT_EQ(options.db, 2);
  EXPECT_EQ(options.prefix, "p");
}

TEST(RedisUrlTest, BadUrlsNameTheProblemNeverThePassword) {
  for (const char* url :
       {"redis://u:s3cret@host:99999", "redis://u:s3cret@host:x",
        "redis://u:s3cret@host/notadb", "redis://u:s3cret@host?tls=1",
        "redis://u:s3cret%zz@host", "redis://u:s3cret@:1"}) {
    auto options = ParseRedisUrl(url);
    EXPECT_THAT(options, StatusIs(ErrorCode::kInvalidArgument)) << url;
    EXPECT_THAT(options.status().message(), Not(HasSubstr("s3cret"))) << url;
    auto store = OpenBackend(url);
    EXPECT_THAT(store.status().message(), Not(HasSubstr("s3cret"))) << url;
  }
}

TEST(RedisUrlTest, PasswordFromRediscliAuth) {
  ::setenv("REDISCLI_AUTH", "from-env", 1);
  ASSERT_OK_AND_ASSIGN(auto options, ParseRedisUrl("redis://u@h"));
  EXPECT_EQ(options.password, "from-env");
  ASSERT_OK_AND_ASSIGN(options, ParseRedisUrl("redis://u:given@h"));
  EXPECT_EQ(options.password, "given");
  ::unsetenv("REDISCLI_AUTH");
}

TEST(RedisBackendTest, UrlReopensTheStoreWithoutThePassword) {
  RedisOptions options = TestRedisOptions();
  options.user = RedisEnv("REDIS_ACL_USER");
  options.password = RedisEnv("REDIS_ACL_PASSWORD");
  options.prefix = "p/" + options.prefix + " x";
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  BACKENDS_ASSERT_OK(store->dump("k", "v"));
  const std::string url = store->url();
  EXPECT_THAT(url, Not(HasSubstr(options.password)));
  EXPECT_THAT(url, HasSubstr(options.user + "@"));
  // The password comes from the environment, as redis-cli takes it.
  ::setenv("REDISCLI_AUTH", options.password.c_str(), 1);
  ASSERT_OK_AND_ASSIGN(auto reopened, OpenBackend(url));
  ::unsetenv("REDISCLI_AUTH");
  EXPECT_EQ(reopened->url(), url);
  EXPECT_THAT(reopened->load("k"), IsOkAndHolds(Optional(std::string("v"))));
  BACKENDS_EXPECT_OK(store->clear());
}

TEST(RedisBackendTest, WrongPasswordIsUnauthenticated) {
  RedisOptions options = TestRedisOptions();
  options.user = RedisEnv("REDIS_ACL_USER");
  options.password = "wrong-password-123";
  auto store = NewRedisBackend(options);
  EXPECT_THAT(store, StatusIs(ErrorCode::kUnauthenticated,
                              HasSubstr("WRONGPASS")));
  EXPECT_THAT(store.status().message(), Not(HasSubstr(options.password)));
}

TEST(RedisBackendTest, UnreachableServerIsUnavailable) {
  RedisOptions options = TestRedisOptions();
  options.port = 1;  // nothing listens on 127.0.0.1:1
  options.retry_budget = std::chrono::milliseconds(0);
  EXPECT_THAT(NewRedisBackend(options),
              StatusIs(ErrorCode::kUnavailable, HasSubstr(":1: connect")));
}

TEST(RedisBackendTest, RedisCliReadsOurKeysAndWeReadItsKeys) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const std::string prefix = store->options().prefix;
  std::string binary("a\0b\xff\r\n", 6);
  BACKENDS_ASSERT_OK(store->dump("ours", binary));
  // --raw prints the bytes and a newline.
  EXPECT_THAT(RedisCli({"--raw", "GET", prefix + "ours"}),
              Optional(binary + "\n"));
  // -x takes the last argument from stdin, byte for byte.
  ASSERT_TRUE(RedisCli({"-x", "SET", prefix + "theirs"}, binary).has_value());
  EXPECT_THAT(store->load("theirs"), IsOkAndHolds(Optional(binary)));
  EXPECT_THAT(store->keys(), IsOkAndHolds(ElementsAre("ours", "theirs")));
  BACKENDS_ASSERT_OK(store->clear());
  EXPECT_THAT(RedisCli({"EXISTS", prefix + "ours"}), Optional(std::string("0\n")));
}

TEST(RedisBackendTest, PrefixesKeepStoresApart) {
  auto a = Open();
  auto b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  BACKENDS_ASSERT_OK(a->dump("x", "a"));
  BACKENDS_ASSERT_OK(a->dump("y*", "a"));
  BACKENDS_ASSERT_OK(b->dump("x", "b"));
  EXPECT_THAT(a->size(), IsOkAndHolds(2u));
  EXPECT_THAT(b->keys(), IsOkAndHolds(ElementsAre("x")));
  // A glob character in a listing prefix matches only itself.
  EXPECT_THAT(a->list("y*"), IsOkAndHolds(ElementsAre("y*")));
  EXPECT_THAT(a->list("?"), IsOkAndHolds(ElementsAre()));
  BACKENDS_ASSERT_OK(a->clear());
  EXPECT_THAT(a->size(), IsOkAndHolds(0u));
  EXPECT_THAT(b->load("x"), IsOkAndHolds(Optional(std::string("b"))));
  BACKENDS_ASSERT_OK(b->clear());
}

TEST(RedisBackendTest, ClearRemovesManyKeysInBatches) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 2500; ++i) items.emplace_back("k" + std::to_string(i), "v");
  for (const auto& status : store->dump_many(items)) BACKENDS_ASSERT_OK(status);
  EXPECT_THAT(store->size(), IsOkAndHolds(2500u));
  BACKENDS_ASSERT_OK(store->clear());
  EXPECT_THAT(store->size(), IsOkAndHolds(0u));
}

TEST(RedisBackendTest, BatchesGiveOneResultPerKeyInOrder) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<std::pair<std::string, std::string>> items = {
      {"a", "1"}, {"", "bad"}, {"b", std::string(3000, 'x')}};
  auto dumped = store->dump_many(items);
  ASSERT_EQ(dumped.size(), 3u);
  BACKENDS_EXPECT_OK(dumped[0]);
  EXPECT_THAT(dumped[1], StatusIs(ErrorCode::kInvalidArgument));
  BACKENDS_EXPECT_OK(dumped[2]);
  const std::vector<std::string> keys = {"b", "missing", "a", "bad\n"};
  auto loaded = store->load_many(keys);
  ASSERT_EQ(loaded.size(), 4u);
  EXPECT_THAT(loaded[0], IsOkAndHolds(Optional(std::string(3000, 'x'))));
  EXPECT_THAT(loaded[1], IsOkAndHolds(std::nullopt));
  EXPECT_THAT(loaded[2], IsOkAndHolds(Optional(std::string("1"))));
  EXPECT_THAT(loaded[3], StatusIs(ErrorCode::kInvalidArgument));
  auto removed = store->remove_many(keys);
  EXPECT_THAT(removed[0], IsOkAndHolds(true));
  EXPECT_THAT(removed[1], IsOkAndHolds(false));
  EXPECT_THAT(removed[2], IsOkAndHolds(true));
  EXPECT_THAT(removed[3], StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(store->size(), IsOkAndHolds(0u));
}

TEST(RedisBackendTest, AnotherTypeUnderAKeyIsAClearError) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(RedisCli({"RPUSH", store->options().prefix + "list", "x"}));
  EXPECT_THAT(store->load("list"),
              StatusIs(ErrorCode::kFailedPrecondition, HasSubstr("WRONGTYPE")));
  BACKENDS_EXPECT_OK(store->clear());
}

TEST(RedisBackendTest, WithoutPrefixSizeIsTheDatabaseSize) {
  // Database 7 of the test server belongs to this test alone.
  RedisOptions options = TestRedisOptions();
  options.prefix.clear();
  options.db = 7;
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  BACKENDS_ASSERT_OK(store->clear());
  BACKENDS_ASSERT_OK(store->dump("one", "1"));
  BACKENDS_ASSERT_OK(store->dump("two", "2"));
  EXPECT_THAT(store->size(), IsOkAndHolds(2u));
  EXPECT_THAT(store->keys(), IsOkAndHolds(ElementsAre("one", "two")));
  EXPECT_THAT(store->url(), HasSubstr("/7"));
  BACKENDS_ASSERT_OK(store->clear());
  EXPECT_THAT(store->size(), IsOkAndHolds(0u));
}

class Chunks : public ByteSource {
 public:
  Chunks(std::string value, std::optional<std::uint64_t> declared,
         std::size_t piece)
      : value_(std::move(value)), declared_(declared), piece_(piece) {}
  Result<std::size_t> Read(std::span<char> buffer) override {
    const std::size_t n =
        std::min({buffer.size(), piece_, value_.size() - at_});
    std::copy_n(value_.data() + at_, n, buffer.data());
    at_ += n;
    return n;
  }
  std::optional<std::uint64_t> size() const override { return declared_; }

 private:
  std::string value_;
  std::optional<std::uint64_t> declared_;
  std::size_t piece_;
  std::size_t at_ = 0;
};

class Collect : public ByteSink {
 public:
  Status Write(std::string_view piece) override {
    bytes += piece;
    ++pieces;
    return Status::OK();
  }
  std::string bytes;
  int pieces = 0;
};

std::string Pattern(std::size_t size, char seed) {
  std::string value(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    value[i] = static_cast<char>(seed + i * 7 + (i >> 12));
  }
  return value;
}

TEST(RedisStreamTest, LargeValuesStreamBothWaysAndAreNeverSeenHalfWritten) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const std::string old_value = Pattern(9 << 20, 'a');
  const std::string new_value = Pattern(11 << 20, 'b');
  BACKENDS_ASSERT_OK(store->dump("big", old_value));
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!done) {
      auto value = store->load("big");
      if (!value.ok() || !*value ||
          (**value != old_value && **value != new_value)) {
        ++torn;
      }
    }
  });
  Chunks source(new_value, std::nullopt, 1 << 20);
  BACKENDS_EXPECT_OK(store->dump_stream("big", source));
  done = true;
  reader.join();
  EXPECT_EQ(torn, 0);
  Collect sink;
  EXPECT_THAT(store->load_stream("big", sink), IsOkAndHolds(true));
  EXPECT_TRUE(sink.bytes == new_value);
  EXPECT_GT(sink.pieces, 1);
  // Only the value is left: no temporary or snapshot key.
  EXPECT_THAT(RedisCli({"--scan", "--pattern", store->options().prefix + "*"}),
              Optional(store->options().prefix + "big\n"));
  Collect none;
  EXPECT_THAT(store->load_stream("missing", none), IsOkAndHolds(false));
  EXPECT_EQ(none.pieces, 0);
  BACKENDS_EXPECT_OK(store->clear());
}

TEST(RedisStreamTest, ValuesOverTheLimitAreRefusedAndNothingIsWritten) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  BACKENDS_ASSERT_OK(store->dump("k", "old"));
  // Declared larger than Redis takes: refused before anything is read.
  Chunks declared("", kRedisMaxValueBytes + 1, 1);
  EXPECT_THAT(store->dump_stream("k", declared),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("larger than")));
  // Undeclared, found too large while streaming (a small limit stands in
  // for 512 MB): the old value stays and the partial one is gone.
  RedisOptions options = store->options();
  options.max_value_bytes = 3 << 20;
  auto small = Open(options);
  ASSERT_NE(small, nullptr);
  Chunks growing(Pattern(4 << 20, 'c'), std::nullopt, 1 << 20);
  EXPECT_THAT(small->dump_stream("k", growing),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(small->dump("k", std::string((3 << 20) + 1, 'x')),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(store->load("k"), IsOkAndHolds(Optional(std::string("old"))));
  EXPECT_THAT(RedisCli({"--scan", "--pattern", options.prefix + "*"}),
              Optional(options.prefix + "k\n"));
  BACKENDS_EXPECT_OK(store->clear());
}

TEST(RedisBackendTest, ListEntriesGiveSizesAndCommonPrefixes) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  BACKENDS_ASSERT_OK(store->dump("d/a", "123"));
  BACKENDS_ASSERT_OK(store->dump("d/b/c", "1"));
  BACKENDS_ASSERT_OK(store->dump("e", ""));
  ASSERT_OK_AND_ASSIGN(auto page,
                       store->list_entries({.prefix = "", .delimiter = "/"}));
  EXPECT_THAT(page.common_prefixes, ElementsAre("d/"));
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].key, "e");
  EXPECT_EQ(page.entries[0].info.size, 0u);
  ASSERT_OK_AND_ASSIGN(page, store->list_entries({.prefix = "d/"}));
  ASSERT_EQ(page.entries.size(), 2u);
  EXPECT_EQ(page.entries[0].info.size, 3u);
  BACKENDS_EXPECT_OK(store->clear());
}

}  // namespace
}  // namespace backends::testing

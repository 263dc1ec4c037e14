// The expiring caches on Redis: the conformance suite, then expiry kept by
// Redis (what redis-cli sees: PTTL), per-object timeouts, and an entry
// gone for good once expired.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "backends/redis.h"
#include "conformance/backend_conformance.h"
#include "conformance/view_adapter.h"
#include "redis_test_env.h"
#include "testutil/status_matchers.h"
#include "testutil/url_round_trip.h"

namespace backends::testing {
namespace {

using ::testing::Optional;

const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new RedisEnvironment);

Result<std::unique_ptr<RedisBackend>> Store() {
  return NewRedisBackend(TestRedisOptions());
}

INSTANTIATE_TEST_SUITE_P(
    RedisCaches, BackendConformanceTest,
    ::testing::Values(
        BackendFactory{
            .name = "JsonCache",
            .make = [](const std::filesystem::path&) -> FactoryResult {
              BACKENDS_ASSIGN_OR_RETURN(auto store, Store());
              BACKENDS_ASSIGN_OR_RETURN(auto cache,
                                        NewRedisJsonCache(std::move(store)));
              return std::unique_ptr<Backend>(std::move(cache));
            },
            .make_value = CanonicalJsonValue,
            .binary_values = false,
            .operations_per_thread = 100,
        },
        BackendFactory{
            .name = "TextCache",
            .make = [](const std::filesystem::path&) -> FactoryResult {
              BACKENDS_ASSIGN_OR_RETURN(auto store, Store());
              BACKENDS_ASSIGN_OR_RETURN(auto cache,
                                        NewRedisTextCache(std::move(store)));
              return std::unique_ptr<Backend>(std::move(cache));
            },
            .operations_per_thread = 100,
        }),
    BackendFactoryName);

long long Pttl(const std::string& name) {
  auto out = RedisCli({"PTTL", name});
  return out ? std::stoll(*out) : -100;
}

TEST(RedisCacheTest, EveryUrlReopensTheSameStoreAndLayers) {
  ASSERT_OK_AND_ASSIGN(auto store, Store());
  ExpectUrlReopens(*store, store->url(), ValueFormat::kRaw);
  JsonBackend view(std::move(store));
  ExpectUrlReopens(view.store(), view.url(), ValueFormat::kJson);
  ASSERT_OK_AND_ASSIGN(store, Store());
  ASSERT_OK_AND_ASSIGN(
      auto json, NewRedisJsonCache(std::move(store),
                                   {.timeout = std::chrono::seconds(40)}));
  EXPECT_THAT(json->url(), ::testing::HasSubstr("cache=json&timeout=40"));
  ExpectUrlReopens(*json, json->url(), ValueFormat::kJson);
  ASSERT_OK_AND_ASSIGN(store, Store());
  ASSERT_OK_AND_ASSIGN(auto text, NewRedisTextCache(std::move(store)));
  ExpectUrlReopens(*text, text->url(), ValueFormat::kText);
}

TEST(RedisCacheTest, RedisKeepsTheExpiry) {
  ASSERT_OK_AND_ASSIGN(auto store, Store());
  const std::string prefix = store->options().prefix;
  ASSERT_OK_AND_ASSIGN(auto cache,
                       NewRedisJsonCache(std::move(store),
                                         {.timeout = std::chrono::seconds(300)}));
  BACKENDS_ASSERT_OK(cache->dump("default", R"({"a": 1})"));
  BACKENDS_ASSERT_OK(
      cache->dump_json("short", Json{1, 2}, std::chrono::seconds(1)));
  BACKENDS_ASSERT_OK(cache->dump_json("forever", Json("x"), kNeverExpires));
  BACKENDS_ASSERT_OK(
      cache->dump_json("expired", Json("x"), std::chrono::seconds(0)));
  EXPECT_THAT(cache->dump_json("bad", Json("x"), std::chrono::seconds(-1)),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(cache->dump("bad", "{not json"),
              StatusIs(ErrorCode::kInvalidArgument));
  const long long default_ttl = Pttl(prefix + "default");
  EXPECT_GT(default_ttl, 290'000);
  EXPECT_LE(default_ttl, 300'000);
  EXPECT_GT(Pttl(prefix + "short"), 0);
  EXPECT_EQ(Pttl(prefix + "forever"), -1);  // no expiry
  EXPECT_EQ(Pttl(prefix + "expired"), -2);  // never stored
  // Stored as plain JSON text in the original's format (indent 4), for any
  // client to read.
  EXPECT_THAT(RedisCli({"GET", prefix + "default"}),
              Optional(std::string("{\n    \"a\": 1\n}\n")));
  EXPECT_THAT(cache->load_json("short"), IsOkAndHolds(Optional(Json{1, 2})));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_THAT(cache->load_json("short"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(cache->keys(), IsOkAndHolds(::testing::ElementsAre(
                                 "default", "forever")));
  EXPECT_THAT(cache->prune(), IsOkAndHolds(0u));
  EXPECT_EQ(cache->stats().hits, 1u);
  EXPECT_EQ(cache->stats().misses, 1u);
  BACKENDS_EXPECT_OK(cache->clear());
}

TEST(RedisCacheTest, TextEntriesExpireAfterTheDefaultTimeout) {
  ASSERT_OK_AND_ASSIGN(auto store, Store());
  const std::string prefix = store->options().prefix;
  ASSERT_OK_AND_ASSIGN(auto cache,
                       NewRedisTextCache(std::move(store),
                                         {.timeout = std::chrono::seconds(1)}));
  BACKENDS_ASSERT_OK(cache->dump("page", "<html>"));
  EXPECT_GT(Pttl(prefix + "page"), 0);
  EXPECT_THAT(cache->load("page"), IsOkAndHolds(Optional(std::string("<html>"))));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_THAT(cache->load("page"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(cache->size(), IsOkAndHolds(0u));
}

}  // namespace
}  // namespace backends::testing

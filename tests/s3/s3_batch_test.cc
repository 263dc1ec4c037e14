// Batches on the real server: load_many / dump_many / remove_many, parallel
// items() and clear(), connection reuse (counted by a FaultProxy that
// injects nothing), and a batch that meets faults on some requests.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "backends/s3.h"
#include "fault_proxy.h"
#include "s3_test_env.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::UnorderedElementsAreArray;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

std::vector<std::pair<std::string, std::string>> Items(int n) {
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < n; ++i) {
    items.emplace_back("k/" + std::to_string(i),
                       std::string(static_cast<std::size_t>(i % 7) * 100 + 1,
                                   static_cast<char>('a' + i % 26)));
  }
  return items;
}

class S3BatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    S3Options options = TestOptions("batch");
    options.connections = 8;
    ASSERT_OK_AND_ASSIGN(store_, S3Backend::Open(options));
  }
  void TearDown() override {
    if (store_) {
      BACKENDS_EXPECT_OK(store_->clear());
    }
  }
  std::unique_ptr<S3Backend> store_;
};

TEST_F(S3BatchTest, DumpLoadRemoveManyKeepInputOrder) {
  auto items = Items(100);
  for (const auto& status : store_->dump_many(items))
    BACKENDS_EXPECT_OK(status);
  std::vector<std::string> keys;
  for (const auto& item : items) keys.push_back(item.first);
  keys.push_back("missing");
  auto loaded = store_->load_many(keys);
  ASSERT_EQ(loaded.size(), keys.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    EXPECT_THAT(loaded[i], IsOkAndHolds(std::optional(items[i].second))) << i;
  }
  EXPECT_THAT(loaded.back(), IsOkAndHolds(std::nullopt));

  auto removed = store_->remove_many(keys);
  ASSERT_EQ(removed.size(), keys.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    EXPECT_THAT(removed[i], IsOkAndHolds(true)) << i;
  }
  EXPECT_THAT(removed.back(), IsOkAndHolds(false));
  EXPECT_THAT(store_->size(), IsOkAndHolds(0u));
}

TEST_F(S3BatchTest, OneBadKeyDoesNotStopTheOthers) {
  std::vector<std::pair<std::string, std::string>> items = {
      {"good", "1"}, {std::string("bad\x01", 4), "2"}, {"fine", "3"}};
  auto results = store_->dump_many(items);
  BACKENDS_EXPECT_OK(results[0]);
  EXPECT_EQ(results[1].code(), ErrorCode::kInvalidArgument);
  BACKENDS_EXPECT_OK(results[2]);
  EXPECT_THAT(store_->load("fine"),
              IsOkAndHolds(std::optional<std::string>("3")));
}

TEST_F(S3BatchTest, ItemsAndClearAreParallelAndComplete) {
  auto items = Items(150);
  for (const auto& status : store_->dump_many(items))
    BACKENDS_EXPECT_OK(status);
  ASSERT_OK_AND_ASSIGN(auto listed, store_->items());
  EXPECT_THAT(listed, UnorderedElementsAreArray(items));
  BACKENDS_ASSERT_OK(store_->clear());
  EXPECT_THAT(store_->size(), IsOkAndHolds(0u));
}

// More than one DeleteObjects batch (1000 keys each), sent in parallel.
TEST_F(S3BatchTest, ClearDeletesSeveralThousandKeys) {
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 2100; ++i)
    items.emplace_back("n" + std::to_string(i), "");
  for (const auto& status : store_->dump_many(items))
    BACKENDS_ASSERT_OK(status);
  EXPECT_THAT(store_->size(), IsOkAndHolds(2100u));
  BACKENDS_ASSERT_OK(store_->clear());
  EXPECT_THAT(store_->size(), IsOkAndHolds(0u));
}

// N workers keep N keep-alive connections: 200 requests on 4 workers open
// at most 4 connections (each curl handle serves one thread at a time and
// goes back to the pool with its connection).
TEST_F(S3BatchTest, ConnectionsAreReused) {
  auto proxy = FaultProxy::ForEndpoint(EnvOr("S3_ENDPOINT"));
  S3Options options = store_->options();
  options.endpoint = proxy->endpoint();
  options.connections = 4;
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  auto items = Items(100);
  for (const auto& status : store->dump_many(items)) BACKENDS_EXPECT_OK(status);
  std::vector<std::string> keys;
  for (const auto& item : items) keys.push_back(item.first);
  for (const auto& result : store->load_many(keys)) EXPECT_TRUE(result.ok());
  EXPECT_GE(proxy->requests(), 201);
  EXPECT_LE(proxy->connections(), 4);
  EXPECT_GE(proxy->connections(), 2);  // and they did run in parallel
}

// Faults scattered through a batch are retried per request.
TEST_F(S3BatchTest, ScatteredFaultsAreRetriedPerRequest) {
  auto proxy = FaultProxy::ForEndpoint(EnvOr("S3_ENDPOINT"));
  S3Options options = store_->options();
  options.endpoint = proxy->endpoint();
  // More attempts than faults of a kind: whichever requests the faults
  // hit (a quick retry may meet several in a row), every key gets through.
  options.retry.max_attempts = 21;
  options.retry.base_backoff = std::chrono::milliseconds(1);
  options.retry.max_backoff = std::chrono::milliseconds(4);
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  auto items = Items(60);
  proxy->Schedule({.fault = Fault::kStatus, .status = 503, .method = "PUT"},
                  20);
  proxy->Schedule(
      {.fault = Fault::kResetAfterBytes, .bytes = 50, .method = "GET"}, 20);
  for (const auto& status : store->dump_many(items)) BACKENDS_EXPECT_OK(status);
  std::vector<std::string> keys;
  for (const auto& item : items) keys.push_back(item.first);
  auto loaded = store->load_many(keys);
  for (std::size_t i = 0; i < items.size(); ++i) {
    EXPECT_THAT(loaded[i], IsOkAndHolds(std::optional(items[i].second))) << i;
  }
  EXPECT_EQ(proxy->faults(), 40);
}

}  // namespace
}  // namespace backends::testing

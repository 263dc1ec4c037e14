// Conditional writes on the real server: create-only (If-None-Match: *),
// replace-if-unchanged (If-Match: ETag), the ETags that make them usable,
// and compare-and-swap from several threads.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "backends/s3.h"
#include "s3/s3_client.h"
#include "s3_test_env.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::HasSubstr;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

class S3ConditionalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, S3Backend::Open(TestOptions("cond")));
  }
  void TearDown() override {
    if (store_) {
      BACKENDS_EXPECT_OK(store_->clear());
    }
  }
  std::unique_ptr<S3Backend> store_;
};

TEST_F(S3ConditionalTest, CreateOnlyWritesOnceThenSaysAlreadyExists) {
  ASSERT_OK_AND_ASSIGN(auto first,
                       store_->put("k", "one", {.if_absent = true}));
  EXPECT_EQ(first.etag, s3::SinglePartEtag("one"));
  auto second = store_->put("k", "two", {.if_absent = true});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_THAT(second.status().message(),
              HasSubstr("dump \"k\": precondition failed"));
  EXPECT_THAT(store_->load("k"),
              IsOkAndHolds(std::optional<std::string>("one")));
  // dump() with the same options behaves the same.
  EXPECT_EQ(store_->dump("k", "three", S3PutOptions{.if_absent = true}).code(),
            ErrorCode::kAlreadyExists);
}

TEST_F(S3ConditionalTest, ReplaceIfUnchangedFollowsTheEtag) {
  ASSERT_OK_AND_ASSIGN(auto v1, store_->put("k", "v1", {}));
  ASSERT_OK_AND_ASSIGN(auto object, store_->load_object("k", true));
  ASSERT_TRUE(object.has_value());
  EXPECT_EQ(object->etag, v1.etag);
  EXPECT_THAT(store_->etag("k"), IsOkAndHolds(std::optional(v1.etag)));

  ASSERT_OK_AND_ASSIGN(auto v2, store_->put("k", "v2", {.if_match = v1.etag}));
  EXPECT_NE(v2.etag, v1.etag);
  // The first ETag is stale now: refused, nothing written.
  auto stale = store_->put("k", "v3", {.if_match = v1.etag});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(stale.status().message(), HasSubstr("precondition failed"));
  EXPECT_THAT(store_->load("k"),
              IsOkAndHolds(std::optional<std::string>("v2")));
}

TEST_F(S3ConditionalTest, ReplaceIfUnchangedOfAMissingKeyFails) {
  auto missing =
      store_->put("gone", "v", {.if_match = s3::SinglePartEtag("x")});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(store_->contains("gone"), IsOkAndHolds(false));
  EXPECT_THAT(store_->etag("gone"), IsOkAndHolds(std::nullopt));
}

// Compare-and-swap: threads increment one counter; every increment that
// reports success is counted exactly once.
TEST_F(S3ConditionalTest, CompareAndSwapLosesNoIncrement) {
  BACKENDS_ASSERT_OK(store_->put("counter", "0", {.if_absent = true}).status());
  constexpr int kThreads = 4;
  constexpr int kIncrements = 5;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  std::vector<Status> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int done = 0, tries = 0; done < kIncrements; ++tries) {
        if (tries == 500) {
          failures[t] = InternalError("no progress after 500 tries");
          return;
        }
        auto object = store_->load_object("counter", true);
        if (!object.ok() || !object->has_value()) {
          failures[t] =
              object.ok() ? InternalError("counter vanished") : object.status();
          return;
        }
        int value = std::stoi((*object)->body);
        auto put = store_->put("counter", std::to_string(value + 1),
                               {.if_match = (*object)->etag});
        if (put.ok()) {
          ++done;
        } else if (put.status().code() == ErrorCode::kFailedPrecondition) {
          ++conflicts;
        } else {
          failures[t] = put.status();
          return;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& failure : failures) BACKENDS_EXPECT_OK(failure);
  EXPECT_THAT(store_->load("counter"),
              IsOkAndHolds(std::optional<std::string>(
                  std::to_string(kThreads * kIncrements))))
      << conflicts << " conflicts";
}

}  // namespace
}  // namespace backends::testing

// The conformance cases of load_range, copy, rename and dump_if, with the
// compare-and-swap counter every store and layer must count exactly.

#include <gmock/gmock.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "conformance/backend_conformance.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

TEST_P(BackendConformanceTest, LoadRangeEdges) {
  BACKENDS_ASSERT_OK(store_->dump("v", Value(7, 300)));
  ASSERT_OK_AND_ASSIGN(auto whole, store_->load("v"));
  ASSERT_TRUE(whole);
  const std::string& value = *whole;
  const std::uint64_t n = value.size();
  ASSERT_GT(n, 20u);
  EXPECT_THAT(store_->load_range("v", 0, 10),
              IsOkAndHolds(Optional(value.substr(0, 10))));
  EXPECT_THAT(store_->load_range("v", 5, 11),
              IsOkAndHolds(Optional(value.substr(5, 11))));
  EXPECT_THAT(store_->load_range("v", 0, n), IsOkAndHolds(Optional(value)));
  // Past the end: the bytes that exist, or none.
  EXPECT_THAT(store_->load_range("v", n - 3, 100),
              IsOkAndHolds(Optional(value.substr(n - 3))));
  EXPECT_THAT(store_->load_range("v", n, 5),
              IsOkAndHolds(Optional(std::string())));
  EXPECT_THAT(store_->load_range("v", n + 1000, 5),
              IsOkAndHolds(Optional(std::string())));
  EXPECT_THAT(store_->load_range("v", 3, 0),
              IsOkAndHolds(Optional(std::string())));
  EXPECT_THAT(store_->load_range("v", 0, UINT64_MAX),
              IsOkAndHolds(Optional(value)));
  EXPECT_THAT(store_->load_range("missing", 0, 10),
              IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->load_range("", 0, 10),
              StatusIs(ErrorCode::kInvalidArgument));
}

TEST_P(BackendConformanceTest, LoadRangeOfAnEmptyValue) {
  BACKENDS_ASSERT_OK(store_->dump("empty", Value(1, 0)));
  ASSERT_OK_AND_ASSIGN(auto whole, store_->load("empty"));
  ASSERT_TRUE(whole);
  EXPECT_THAT(store_->load_range("empty", 0, 10),
              IsOkAndHolds(Optional(whole->substr(0, 10))));
}

TEST_P(BackendConformanceTest, CopyKeepsTheSourceAndOverwrites) {
  const std::string a = Value(1, 50), b = Value(2, 60);
  BACKENDS_ASSERT_OK(store_->dump("src", a));
  BACKENDS_ASSERT_OK(store_->dump("dir/dst", b));
  ASSERT_OK_AND_ASSIGN(auto a_stored, store_->load("src"));
  EXPECT_THAT(store_->copy("src", "dir/dst"), IsOkAndHolds(true));
  EXPECT_THAT(store_->load("src"), IsOkAndHolds(a_stored));
  EXPECT_THAT(store_->load("dir/dst"), IsOkAndHolds(a_stored));
  EXPECT_THAT(store_->copy("src", "new/deep/key"), IsOkAndHolds(true));
  EXPECT_THAT(store_->load("new/deep/key"), IsOkAndHolds(a_stored));
  // The copies are independent values.
  BACKENDS_ASSERT_OK(store_->dump("src", b));
  EXPECT_THAT(store_->load("dir/dst"), IsOkAndHolds(a_stored));
  BACKENDS_ASSERT_OK(store_->dump("dir/dst", Value(3, 10)));
  ASSERT_OK_AND_ASSIGN(auto b_stored, store_->load("src"));
  EXPECT_THAT(store_->load("new/deep/key"), IsOkAndHolds(a_stored));
  // Onto itself: nothing changes.
  EXPECT_THAT(store_->copy("src", "src"), IsOkAndHolds(true));
  EXPECT_THAT(store_->load("src"), IsOkAndHolds(b_stored));
  // A missing source: false, and the destination is untouched.
  EXPECT_THAT(store_->copy("missing", "src"), IsOkAndHolds(false));
  EXPECT_THAT(store_->copy("missing", "missing"), IsOkAndHolds(false));
  EXPECT_THAT(store_->load("src"), IsOkAndHolds(b_stored));
  EXPECT_THAT(store_->list(""),
              IsOkAndHolds(std::vector<std::string>{"dir/dst", "new/deep/key",
                                                    "src"}));
  EXPECT_THAT(store_->copy("src", ""), StatusIs(ErrorCode::kInvalidArgument));
}

TEST_P(BackendConformanceTest, RenameMovesAndOverwrites) {
  BACKENDS_ASSERT_OK(store_->dump("a/src", Value(1, 50)));
  BACKENDS_ASSERT_OK(store_->dump("dst", Value(2, 60)));
  ASSERT_OK_AND_ASSIGN(auto moved, store_->load("a/src"));
  EXPECT_THAT(store_->rename("a/src", "dst"), IsOkAndHolds(true));
  EXPECT_THAT(store_->load("a/src"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->load("dst"), IsOkAndHolds(moved));
  EXPECT_THAT(store_->list(""),
              IsOkAndHolds(std::vector<std::string>{"dst"}));
  EXPECT_THAT(store_->rename("dst", "b/c/d"), IsOkAndHolds(true));
  EXPECT_THAT(store_->load("b/c/d"), IsOkAndHolds(moved));
  // Onto itself: nothing changes.
  EXPECT_THAT(store_->rename("b/c/d", "b/c/d"), IsOkAndHolds(true));
  EXPECT_THAT(store_->load("b/c/d"), IsOkAndHolds(moved));
  // A missing source: false, and the destination is untouched.
  EXPECT_THAT(store_->rename("missing", "b/c/d"), IsOkAndHolds(false));
  EXPECT_THAT(store_->load("b/c/d"), IsOkAndHolds(moved));
  EXPECT_THAT(store_->list(""),
              IsOkAndHolds(std::vector<std::string>{"b/c/d"}));
  // A copy renamed away leaves the original (same file on a filesystem).
  EXPECT_THAT(store_->copy("b/c/d", "e"), IsOkAndHolds(true));
  EXPECT_THAT(store_->rename("e", "b/c/d"), IsOkAndHolds(true));
  EXPECT_THAT(store_->list(""),
              IsOkAndHolds(std::vector<std::string>{"b/c/d"}));
  EXPECT_THAT(store_->load("b/c/d"), IsOkAndHolds(moved));
}

TEST_P(BackendConformanceTest, ConditionalWrites) {
  // Create-only.
  ASSERT_OK_AND_ASSIGN(std::string v1, store_->dump_if("k", Value(1, 20),
                                                       WriteCondition::Absent()));
  ASSERT_OK_AND_ASSIGN(auto info, store_->stat("k"));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->version, v1);
  ASSERT_OK_AND_ASSIGN(auto first, store_->load("k"));
  auto again = store_->dump_if("k", Value(2, 20), WriteCondition::Absent());
  EXPECT_THAT(again, StatusIs(ErrorCode::kAlreadyExists,
                              HasSubstr("precondition failed")));
  EXPECT_THAT(store_->load("k"), IsOkAndHolds(first));
  // Replace-if-version.
  ASSERT_OK_AND_ASSIGN(
      std::string v2,
      store_->dump_if("k", Value(3, 20), WriteCondition::Version(v1)));
  EXPECT_NE(v2, v1);
  ASSERT_OK_AND_ASSIGN(auto second, store_->load("k"));
  EXPECT_NE(second, first);
  auto stale = store_->dump_if("k", Value(4, 20), WriteCondition::Version(v1));
  EXPECT_THAT(stale, StatusIs(ErrorCode::kFailedPrecondition,
                              HasSubstr("precondition failed")));
  EXPECT_THAT(store_->load("k"), IsOkAndHolds(second));
  // A missing key fails replace-if-version.
  EXPECT_THAT(
      store_->dump_if("gone", Value(5, 20), WriteCondition::Version(v2)),
      StatusIs(ErrorCode::kFailedPrecondition));
  EXPECT_THAT(store_->load("gone"), IsOkAndHolds(std::nullopt));
  // After a remove, create-only succeeds again.
  ASSERT_THAT(store_->remove("k"), IsOkAndHolds(true));
  EXPECT_THAT(store_->dump_if("k", Value(6, 20), WriteCondition::Absent()),
              IsOk());
  // Unconditional: a dump that returns the version.
  ASSERT_OK_AND_ASSIGN(std::string v3, store_->dump_if("k", Value(7, 20), {}));
  ASSERT_OK_AND_ASSIGN(info, store_->stat("k"));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->version, v3);
}

TEST_P(BackendConformanceTest, CompareAndSwapCounterCountsExactly) {
  const auto& factory = GetParam();
  if (!factory.no_concurrency_reason.empty()) {
    GTEST_SKIP() << factory.no_concurrency_reason;
  }
  const int threads = factory.threads;
  const int increments = std::max(5, factory.operations_per_thread / 10);
  std::atomic<int> errors{0};
  std::atomic<int> retries{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < increments; ++i) {
        for (int attempt = 0;; ++attempt) {
          if (attempt == 10000) {
            ++errors;
            break;
          }
          auto info = store_->stat("counter");
          auto old = store_->load("counter");
          if (!info.ok() || !old.ok()) {
            ++errors;
            break;
          }
          const long next = *old ? std::stol(**old) + 1 : 1;
          const WriteCondition condition =
              *info ? WriteCondition::Version((*info)->version)
                    : WriteCondition::Absent();
          auto written =
              store_->dump_if("counter", std::to_string(next), condition);
          if (written.ok()) break;
          if (!IsConditionFailure(written.status())) {
            ADD_FAILURE() << written.status();
            ++errors;
            break;
          }
          ++retries;
        }
      }
    });
  }
  for (auto& thread : pool) thread.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_THAT(store_->load("counter"),
              IsOkAndHolds(Optional(std::to_string(threads * increments))));
  RecordProperty("retries", retries.load());
}

}  // namespace
}  // namespace backends::testing

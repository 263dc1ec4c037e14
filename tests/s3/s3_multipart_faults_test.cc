// Multipart uploads under network faults: a FaultProxy (fault_proxy.h)
// between the store and the real server fails part uploads. Below the
// retry limit the object arrives byte for byte; above it the upload is
// aborted, the previous value is intact and no upload is left in progress.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>

#include "backends/s3.h"
#include "fault_proxy.h"
#include "s3_stream_test_util.h"
#include "s3_test_env.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends {
namespace {

using ::backends::testing::EnvOr;
using ::backends::testing::Fault;
using ::backends::testing::FaultProxy;
using ::backends::testing::Generated;
using ::backends::testing::IsOk;
using ::backends::testing::IsOkAndHolds;
using ::backends::testing::MultipartUploadsUnder;
using ::backends::testing::S3Environment;
using ::backends::testing::ScopedTempDir;
using ::backends::testing::StatusIs;
using ::backends::testing::TestOptions;
using ::testing::HasSubstr;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

constexpr std::size_t kMiB = 1 << 20;

class S3MultipartFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_ = FaultProxy::ForEndpoint(EnvOr("S3_ENDPOINT"));
    S3Options direct = TestOptions("mpfaults");
    ASSERT_OK_AND_ASSIGN(direct_, S3Backend::Open(direct));
    options_ = direct;
    options_.endpoint = proxy_->endpoint();
    options_.transfer.multipart_threshold = 5 * kMiB;
    options_.transfer.part_size = 5 * kMiB;
    options_.transfer.parallel_parts = 2;
    options_.retry.base_backoff = std::chrono::milliseconds(1);
    options_.retry.max_backoff = std::chrono::milliseconds(4);
    options_.stall_timeout = std::chrono::seconds(2);
    ASSERT_OK_AND_ASSIGN(store_, S3Backend::Open(options_));
    prefix_ = direct.prefix;
    data_ = Generated(9, 0, 12 * kMiB + 7);  // three parts
    std::ofstream out(dir_.path() / "in", std::ios::binary);
    out.write(data_.data(), static_cast<std::streamsize>(data_.size()));
  }
  void TearDown() override {
    proxy_->ClearSchedule();
    if (direct_) {
      BACKENDS_EXPECT_OK(direct_->clear());
    }
  }
  std::string input() const { return (dir_.path() / "in").string(); }

  ScopedTempDir dir_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<S3Backend> direct_;
  S3Options options_;  // the store's, through the proxy
  std::unique_ptr<S3Backend> store_;
  std::string prefix_;
  std::string data_;
};

TEST_F(S3MultipartFaultsTest, PartFaultsBelowTheLimitStillDeliverExactBytes) {
  // Part uploads are PUTs; one answered 503, one cut while uploading.
  proxy_->Schedule({.fault = Fault::kStatus, .status = 503, .method = "PUT"});
  proxy_->Schedule(
      {.fault = Fault::kResetDuringUpload, .bytes = 4096, .method = "PUT"});
  BACKENDS_ASSERT_OK(store_->dump_file("big.bin", input()));
  ASSERT_OK_AND_ASSIGN(auto loaded, direct_->load("big.bin"));
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->size(), data_.size());
  EXPECT_TRUE(*loaded == data_) << "the object differs from the file";
  EXPECT_EQ(MultipartUploadsUnder(prefix_), 0);
}

TEST_F(S3MultipartFaultsTest, PartFaultsAboveTheLimitAbortAndKeepTheOldValue) {
  BACKENDS_ASSERT_OK(direct_->dump("big.bin", "the old value"));
  proxy_->Schedule({.fault = Fault::kStatus, .status = 503, .method = "PUT"},
                   1000);
  Status status = store_->dump_file("big.bin", input());
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), ::testing::HasSubstr("big.bin"));
  proxy_->ClearSchedule();
  EXPECT_THAT(direct_->load("big.bin"),
              IsOkAndHolds(::testing::Optional(std::string("the old value"))));
  EXPECT_EQ(MultipartUploadsUnder(prefix_), 0)
      << "a failed upload left parts on the server";
}

TEST_F(S3MultipartFaultsTest, ResetsAfterTheServerActedAreSurvived) {
  // The server stores the part but the answer is lost: the retry must not
  // corrupt the object (a part number re-uploaded replaces the first).
  proxy_->Schedule({.fault = Fault::kResetAfterForward, .method = "PUT"});
  BACKENDS_ASSERT_OK(store_->dump_file("big.bin", input()));
  ASSERT_OK_AND_ASSIGN(auto loaded, direct_->load("big.bin"));
  ASSERT_TRUE(loaded.has_value());
  EXPECT_TRUE(*loaded == data_) << "the object differs from the file";
  EXPECT_EQ(MultipartUploadsUnder(prefix_), 0);
}

TEST_F(S3MultipartFaultsTest, PartsRetryAsTheStoresRetryOptionsSay) {
  // Five failures in a row on one part (one part at a time): the policy's
  // six attempts carry it, each retry waiting through the policy's hook.
  options_.transfer.parallel_parts = 1;
  options_.retry.max_attempts = 6;
  std::atomic<int> waits{0};
  options_.retry.sleep = [&waits](std::chrono::milliseconds) { ++waits; };
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options_));
  proxy_->Schedule({.fault = Fault::kStatus, .status = 503, .method = "PUT"},
                   5);
  BACKENDS_ASSERT_OK(store->dump_file("big.bin", input()));
  EXPECT_EQ(waits, 5);
  EXPECT_EQ(proxy_->scheduled(), 0u);
  ASSERT_OK_AND_ASSIGN(auto loaded, direct_->load("big.bin"));
  ASSERT_TRUE(loaded.has_value());
  EXPECT_TRUE(*loaded == data_) << "the object differs from the file";
}

TEST_F(S3MultipartFaultsTest, PartsGiveUpAtTheRetryOptionsAttemptLimit) {
  options_.transfer.parallel_parts = 1;
  options_.retry.max_attempts = 2;
  options_.retry.sleep = [](std::chrono::milliseconds) {};
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options_));
  proxy_->Schedule({.fault = Fault::kStatus, .status = 503, .method = "PUT"},
                   2);
  Status status = store->dump_file("big.bin", input());
  EXPECT_THAT(status, StatusIs(ErrorCode::kUnavailable));
  EXPECT_THAT(status.message(), HasSubstr("part 1"));
  EXPECT_THAT(status.message(), HasSubstr("after 2 attempts"));
  proxy_->ClearSchedule();
  EXPECT_EQ(MultipartUploadsUnder(prefix_), 0);
}

}  // namespace
}  // namespace backends

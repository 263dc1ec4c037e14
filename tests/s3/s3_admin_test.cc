// Bucket creation and unfinished multipart uploads on the real server:
// create_bucket (and the LocationConstraint it sends outside us-east-1),
// list_uploads / abort_upload under the store's prefix, checked against
// what awscli lists.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include "backends/s3.h"
#include "s3_test_env.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

std::string FreshBucket(std::string_view label) {
  std::string prefix = FreshPrefix(label);  // "label-PID-N-RANDOM/"
  prefix.pop_back();
  return prefix;
}

TEST(S3AdminTest, CreateBucketMakesABucketTheStoreCanUse) {
  S3Options options = TestOptions("mb");
  options.bucket = FreshBucket("mb");
  options.check_bucket = true;
  EXPECT_THAT(S3Backend::Open(options), StatusIs(ErrorCode::kNotFound));
  options.check_bucket = false;
  ASSERT_OK_AND_ASSIGN(auto creator, S3Backend::Open(options));
  BACKENDS_ASSERT_OK(creator->create_bucket());
  options.check_bucket = true;
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  BACKENDS_ASSERT_OK(store->dump("k", "v"));
  EXPECT_THAT(store->load("k"), IsOkAndHolds(std::optional<std::string>("v")));
  BACKENDS_EXPECT_OK(store->clear());
  EXPECT_EQ(
      AwsS3Api("delete-bucket --bucket " + ShellQuote(options.bucket)).status,
      0);
}

// radosgw's zone group answers to us-east-1 only: that it refuses the
// bucket in eu-west-1 shows the constraint was sent (us-east-1 sends none).
TEST(S3AdminTest, CreateBucketSendsTheRegionOutsideUsEast1) {
  S3Options options = TestOptions("mb");
  options.bucket = FreshBucket("mb-eu");
  options.region = "eu-west-1";
  options.check_bucket = false;
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  Status created = store->create_bucket();
  EXPECT_FALSE(created.ok());
  EXPECT_THAT(created.message(), HasSubstr("InvalidLocationConstraint"));
  EXPECT_THAT(created.message(), HasSubstr(options.bucket));
}

class S3UploadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, S3Backend::Open(TestOptions("uploads")));
    prefix_ = store_->options().prefix;
  }
  void TearDown() override {
    // Whatever a failed test left open.
    if (store_) {
      auto left = store_->list_uploads();
      if (left.ok()) {
        for (const auto& upload : *left) (void)store_->abort_upload(upload);
      }
    }
    if (!outside_id_.empty()) {
      (void)AwsS3Api("abort-multipart-upload --bucket " +
                     ShellQuote(EnvOr("S3_BUCKET")) + " --key " +
                     ShellQuote(outside_) + " --upload-id " +
                     ShellQuote(outside_id_));
    }
  }
  std::unique_ptr<S3Backend> store_;
  std::string prefix_;
  std::string outside_ = FreshPrefix("not-the-store") + "x";
  std::string outside_id_;
};

TEST_F(S3UploadsTest, ListsAndAbortsTheUploadsUnderTheStoresPrefix) {
  EXPECT_THAT(store_->list_uploads(), IsOkAndHolds(::testing::IsEmpty()));
  const auto before = std::chrono::system_clock::now();
  const std::string a = AwsBeginUpload(prefix_ + "a b");
  const std::string nested = AwsBeginUpload(prefix_ + "sub/x+%y");
  outside_id_ = AwsBeginUpload(outside_);
  ASSERT_FALSE(a.empty() || nested.empty() || outside_id_.empty());

  ASSERT_OK_AND_ASSIGN(auto uploads, store_->list_uploads());
  ASSERT_THAT(uploads, ElementsAre(Field(&S3Upload::key, "a b"),
                                   Field(&S3Upload::key, "sub/x+%y")));
  EXPECT_EQ(uploads[0].upload_id, a);
  EXPECT_EQ(uploads[1].upload_id, nested);
  ASSERT_TRUE(uploads[0].initiated.has_value());
  EXPECT_LT(std::chrono::abs(*uploads[0].initiated - before),
            std::chrono::minutes(5));
  EXPECT_THAT(store_->list_uploads("sub/"),
              IsOkAndHolds(ElementsAre(Field(&S3Upload::key, "sub/x+%y"))));

  EXPECT_THAT(store_->abort_upload(uploads[0]), IsOkAndHolds(true));
  EXPECT_EQ(AwsUploadKeys(prefix_), prefix_ + "sub/x+%y\n");
  EXPECT_THAT(store_->abort_upload(uploads[0]), IsOkAndHolds(false));
  EXPECT_THAT(store_->abort_upload(uploads[1]), IsOkAndHolds(true));
  EXPECT_EQ(AwsUploadKeys(prefix_), "");
  // The upload outside the store's prefix was neither listed nor touched.
  EXPECT_EQ(AwsUploadKeys(outside_), outside_ + "\n");
}

}  // namespace
}  // namespace backends::testing

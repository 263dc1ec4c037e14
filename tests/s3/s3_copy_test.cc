// Server-side copy (S3Backend::copy_from) on the real server: CopyObject
// and, with the copy threshold lowered, UploadPartCopy parts; the client's
// traffic (counted by a FaultProxy that forwards everything) stays a few
// KiB whatever the object's size; content type, gzip encoding and the
// uncompressed size survive (checked with awscli); a failed part copy
// leaves no open upload.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "backends/s3.h"
#include "fault_proxy.h"
#include "s3_stream_test_util.h"
#include "s3_test_env.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

constexpr std::uint64_t kMiB = 1 << 20;

// Bytes of no pattern a compressor or server could shortcut.
std::string Bytes(std::size_t n, unsigned seed) {
  std::string out(n, '\0');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return out;
}

class S3CopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(source_, S3Backend::Open(TestOptions("copy-src")));
    ASSERT_OK_AND_ASSIGN(destination_,
                         S3Backend::Open(TestOptions("copy-dst")));
  }
  void TearDown() override {
    for (auto* store : {source_.get(), destination_.get()}) {
      if (store != nullptr) {
        BACKENDS_EXPECT_OK(store->clear());
      }
    }
  }
  // The destination's options, through a proxy that counts its traffic.
  S3Options Proxied(FaultProxy& proxy) const {
    S3Options options = destination_->options();
    options.endpoint = proxy.endpoint();
    return options;
  }
  // The source seen through the same proxy (one endpoint for the copy; its
  // own requests are not made, only its bucket and prefix used).
  std::unique_ptr<S3Backend> ProxiedSource(FaultProxy& proxy) const {
    S3Options options = source_->options();
    options.endpoint = proxy.endpoint();
    auto store = S3Backend::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  std::unique_ptr<S3Backend> source_, destination_;
};

TEST_F(S3CopyTest, CopyObjectKeepsBytesTypeAndGzip) {
  const std::string script(200'000, 'x');
  BACKENDS_ASSERT_OK(source_->dump("site/app.js", script));
  const std::string data = Bytes(300'000, 1);
  BACKENDS_ASSERT_OK(source_->dump(
      "data.bin", data, S3PutOptions{.cache_age = std::chrono::seconds(60)}));

  EXPECT_THAT(destination_->copy_from(*source_, "site/app.js", "copy/app.js"),
              IsOkAndHolds(true));
  EXPECT_THAT(destination_->copy_from(*source_, "data.bin", "data.bin"),
              IsOkAndHolds(true));
  EXPECT_THAT(destination_->load("copy/app.js"),
              IsOkAndHolds(std::optional(script)));
  EXPECT_THAT(destination_->load("data.bin"),
              IsOkAndHolds(std::optional(data)));
  // As stored: still gzipped, with its type and uncompressed size.
  ExpectAwsSeesContentRules(destination_->options().prefix + "copy/app.js",
                            script, "application/javascript", true);
  ASSERT_OK_AND_ASSIGN(auto object,
                       destination_->load_object("data.bin", false));
  ASSERT_TRUE(object.has_value());
  EXPECT_EQ(object->cache_control, "public, max-age=60");
  ASSERT_OK_AND_ASSIGN(auto info, destination_->stat("copy/app.js"));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, script.size());
}

TEST_F(S3CopyTest, CopyMovesNoValueBytesThroughTheClient) {
  const std::string value = Bytes(4 * kMiB, 2);
  BACKENDS_ASSERT_OK(source_->dump("big", value));
  auto proxy = FaultProxy::ForEndpoint(EnvOr("S3_ENDPOINT"));
  ASSERT_OK_AND_ASSIGN(auto destination, S3Backend::Open(Proxied(*proxy)));
  const auto before = proxy->bytes_from_client() + proxy->bytes_to_client();
  EXPECT_THAT(destination->copy_from(*ProxiedSource(*proxy), "big", "big"),
              IsOkAndHolds(true));
  EXPECT_LT(proxy->bytes_from_client() + proxy->bytes_to_client() - before,
            16'000u);
  EXPECT_THAT(destination_->load("big"), IsOkAndHolds(std::optional(value)));
}

TEST_F(S3CopyTest, LargeObjectsGoInUploadPartCopyParts) {
  const std::string value = Bytes(12 * kMiB + 5, 3);
  BACKENDS_ASSERT_OK(
      source_->dump("photo.png", value,
                    S3PutOptions{.content_type = "image/png",
                                 .cache_age = std::chrono::seconds(30)}));
  auto proxy = FaultProxy::ForEndpoint(EnvOr("S3_ENDPOINT"));
  S3Options options = Proxied(*proxy);
  options.transfer.copy_threshold = kMiB;  // parts of 5 MiB: 5 + 5 + 2
  options.transfer.part_size = 5 * kMiB;
  ASSERT_OK_AND_ASSIGN(auto destination, S3Backend::Open(options));
  const int requests = proxy->requests();
  const auto before = proxy->bytes_from_client() + proxy->bytes_to_client();
  EXPECT_THAT(
      destination->copy_from(*ProxiedSource(*proxy), "photo.png", "photo.png"),
      IsOkAndHolds(true));
  // HEAD, create, 3 part copies, complete (and radosgw's HEAD after it).
  EXPECT_GE(proxy->requests() - requests, 6);
  EXPECT_LT(proxy->bytes_from_client() + proxy->bytes_to_client() - before,
            32'000u);
  EXPECT_THAT(destination_->load("photo.png"),
              IsOkAndHolds(std::optional(value)));
  ASSERT_OK_AND_ASSIGN(auto object,
                       destination_->load_object("photo.png", false));
  ASSERT_TRUE(object.has_value());
  EXPECT_EQ(object->content_type, "image/png");
  EXPECT_EQ(object->cache_control, "public, max-age=30");
  EXPECT_EQ(MultipartUploadsUnder(destination_->options().prefix), 0);
}

TEST_F(S3CopyTest, GzipObjectCopiedInPartsStaysGzipWithItsSize) {
  // Sixteen letters at random: the gzip (about 4 MiB) stays above the
  // lowered threshold, so the copy is a multipart upload (one part), which
  // must restate the type, the encoding and the uncompressed size.
  std::string script = "var x = \"" + Bytes(7 * kMiB, 4) + "\";";
  for (auto& c : script) c = static_cast<char>('a' + (c & 15));
  BACKENDS_ASSERT_OK(source_->dump("lib.js", script));
  S3Options options = destination_->options();
  options.transfer.copy_threshold = kMiB;
  options.transfer.part_size = 5 * kMiB;
  ASSERT_OK_AND_ASSIGN(auto destination, S3Backend::Open(options));
  EXPECT_THAT(destination->copy_from(*source_, "lib.js", "lib.js"),
              IsOkAndHolds(true));
  ExpectAwsSeesContentRules(destination_->options().prefix + "lib.js", script,
                            "application/javascript", true);
}

TEST_F(S3CopyTest, MissingSourceCopiesNothing) {
  EXPECT_THAT(destination_->copy_from(*source_, "absent", "target"),
              IsOkAndHolds(false));
  EXPECT_THAT(destination_->contains("target"), IsOkAndHolds(false));
}

TEST_F(S3CopyTest, FailedPartCopyAbortsTheUpload) {
  const std::string value = Bytes(11 * kMiB, 5);
  BACKENDS_ASSERT_OK(source_->dump("v", value));
  BACKENDS_ASSERT_OK(destination_->dump("v", "old"));
  auto proxy = FaultProxy::ForEndpoint(EnvOr("S3_ENDPOINT"));
  S3Options options = Proxied(*proxy);
  options.transfer.copy_threshold = kMiB;
  options.transfer.part_size = 5 * kMiB;
  ASSERT_OK_AND_ASSIGN(auto destination, S3Backend::Open(options));
  // A 403 is not retried: the part copy fails, the upload is aborted.
  proxy->Schedule({.fault = Fault::kStatus, .status = 403, .method = "PUT"});
  auto copied = destination->copy_from(*ProxiedSource(*proxy), "v", "v");
  EXPECT_FALSE(copied.ok());
  // Parts are copied in parallel: whichever reaches the proxy first fails.
  EXPECT_THAT(copied.status().message(),
              ::testing::ContainsRegex("\\(part [0-9]+\\): s3 PUT part copy"));
  EXPECT_EQ(proxy->faults(), 1);
  EXPECT_EQ(MultipartUploadsUnder(destination_->options().prefix), 0);
  EXPECT_THAT(destination_->load("v"),
              IsOkAndHolds(std::optional<std::string>("old")));
}

// The source replaced between the copy's HEAD and its part copies: the
// upload is aborted (by the ETag pin on AWS; radosgw 16.2 ignores the pin
// and copies the new bytes, so there the second HEAD before completing
// finds the change), and the destination keeps its old value.
TEST_F(S3CopyTest, SourceReplacedDuringACopyInPartsFailsIt) {
  BACKENDS_ASSERT_OK(source_->dump("v", Bytes(6 * kMiB, 6)));
  BACKENDS_ASSERT_OK(destination_->dump("v", "old"));
  auto proxy = FaultProxy::ForEndpoint(EnvOr("S3_ENDPOINT"));
  S3Options options = Proxied(*proxy);
  options.transfer.copy_threshold = kMiB;
  ASSERT_OK_AND_ASSIGN(auto destination, S3Backend::Open(options));
  auto source = ProxiedSource(*proxy);  // its Open HEADs the bucket
  proxy->AfterAnswer("HEAD", [&] {
    BACKENDS_EXPECT_OK(source_->dump("v", Bytes(7 * kMiB, 7)));
  });
  auto copied = destination->copy_from(*source, "v", "v");
  EXPECT_THAT(copied, StatusIs(ErrorCode::kFailedPrecondition));
  EXPECT_THAT(copied.status().message(),
              ::testing::HasSubstr("changed during the copy"));
  EXPECT_THAT(destination_->load("v"),
              IsOkAndHolds(std::optional<std::string>("old")));
  EXPECT_EQ(MultipartUploadsUnder(destination_->options().prefix), 0);
}

TEST_F(S3CopyTest, CopyOntoAnotherBucketAndWithinOneStore) {
  BACKENDS_ASSERT_OK(source_->dump("k", "value"));
  S3Options other = TestOptions("copy-bucket");
  other.bucket = "copy-target-" + std::to_string(::getpid());
  other.check_bucket = false;
  ASSERT_OK_AND_ASSIGN(auto bucket, S3Backend::Open(other));
  Status created = bucket->create_bucket();
  ASSERT_TRUE(created.ok() || created.code() == ErrorCode::kAlreadyExists)
      << created;
  EXPECT_THAT(bucket->copy_from(*source_, "k", "k"), IsOkAndHolds(true));
  EXPECT_THAT(bucket->load("k"),
              IsOkAndHolds(std::optional<std::string>("value")));
  BACKENDS_EXPECT_OK(bucket->clear());
  EXPECT_EQ(
      AwsS3Api("delete-bucket --bucket " + ShellQuote(other.bucket)).status, 0);
  EXPECT_THAT(source_->copy_from(*source_, "k", "k2"), IsOkAndHolds(true));
  EXPECT_THAT(source_->load("k2"),
              IsOkAndHolds(std::optional<std::string>("value")));
}

TEST_F(S3CopyTest, SourceOnAnotherEndpointIsRefused) {
  auto proxy = FaultProxy::ForEndpoint(EnvOr("S3_ENDPOINT"));
  ASSERT_OK_AND_ASSIGN(auto elsewhere, S3Backend::Open(Proxied(*proxy)));
  auto copied = destination_->copy_from(*elsewhere, "k", "k");
  EXPECT_THAT(copied, StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(copied.status().message(), ::testing::HasSubstr("endpoint"));
  EXPECT_THAT(destination_->copy_from(*source_, "k", "../x/\n"),
              StatusIs(ErrorCode::kInvalidArgument));
}

}  // namespace
}  // namespace backends::testing

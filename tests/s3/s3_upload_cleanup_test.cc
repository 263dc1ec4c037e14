// A failed upload leaves nothing behind: whatever point a stream of
// unknown size fails at (before the threshold, right after the multipart
// upload was created, in a later part), and for a source that is cancelled
// before its first byte, dump_stream returns the source's error, keeps the
// old value, and leaves no multipart upload open on the real server.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "backends/s3.h"
#include "s3_stream_test_util.h"
#include "s3_test_env.h"
#include "testutil/status_matchers.h"

namespace backends {
namespace {

using ::backends::testing::IsOkAndHolds;
using ::backends::testing::MultipartUploadsUnder;
using ::backends::testing::S3Environment;
using ::backends::testing::StatusIs;
using ::backends::testing::TestOptions;
using ::testing::HasSubstr;
using ::testing::Optional;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

constexpr std::size_t kMiB = std::size_t{1} << 20;

// Yields 'z' bytes in 64 KiB pieces until `fail_at` bytes, then fails as a
// cancelled CLI source does; its size is unknown, like a pipe's.
class CancelledSource final : public ByteSource {
 public:
  explicit CancelledSource(std::size_t fail_at) : fail_at_(fail_at) {}
  Result<std::size_t> Read(std::span<char> buffer) override {
    if (at_ >= fail_at_) return IOError("source: interrupted by SIGINT");
    std::size_t n =
        std::min({buffer.size(), fail_at_ - at_, std::size_t{65536}});
    std::memset(buffer.data(), 'z', n);
    at_ += n;
    return n;
  }

 private:
  const std::size_t fail_at_;
  std::size_t at_ = 0;
};

class S3UploadCleanupTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(S3UploadCleanupTest, FailedStreamKeepsTheOldValueAndNoUpload) {
  S3Options options = TestOptions("cleanup");
  options.transfer.multipart_threshold = 5 * kMiB;
  options.transfer.part_size = 5 * kMiB;
  options.transfer.parallel_parts = 2;
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  BACKENDS_ASSERT_OK(store->dump("k", "old value"));
  CancelledSource source(GetParam());
  EXPECT_THAT(store->dump_stream("k", source),
              StatusIs(ErrorCode::kIOError, HasSubstr("interrupted")));
  EXPECT_EQ(MultipartUploadsUnder(options.prefix), 0);
  EXPECT_THAT(store->load("k"),
              IsOkAndHolds(Optional(std::string("old value"))));
  BACKENDS_EXPECT_OK(store->clear());
}

INSTANTIATE_TEST_SUITE_P(
    FailurePoints, S3UploadCleanupTest,
    // Before the first byte, below the threshold, just past it (the upload
    // was created, part 1 not sent), inside part 3.
    ::testing::Values(0, 1 * kMiB, 5 * kMiB + 1, 12 * kMiB),
    [](const auto& test) { return std::to_string(test.param) + "_bytes"; });

}  // namespace
}  // namespace backends

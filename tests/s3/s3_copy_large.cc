// The 6 GiB server-side copy (ctest label s3-copy-large; opt-in, skipped
// unless S3_COPY_LARGE_PIECES is set: radosgw
// then holds 12 GiB of objects in memory, so start it with RGW_MEM_BYTES of
// 14 GiB or more; CI's 2 GiB server cannot). The source is assembled inside
// the server (a multipart upload whose 96 parts are UploadPartCopy of one
// 64 MiB object), then copy_from copies it: above CopyObject's 5 GiB limit,
// in UploadPartCopy parts. A FaultProxy in front of the copying store
// counts its traffic, which must stay a few MiB for 6 GiB copied, and
// sampled ranges of the copy hold the source's bytes. Prints the times.
// S3_COPY_LARGE_PIECES=N assembles N pieces instead of 96 (a smaller run
// on a smaller server; below 5 GiB the copy threshold is lowered so the
// copy still goes in UploadPartCopy parts).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "backends/s3.h"
#include "fault_proxy.h"
#include "s3/s3_multipart.h"
#include "s3_stream_test_util.h"
#include "s3_test_env.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kPiece = 64 * kMiB;

std::uint64_t Pieces() {
  const std::string pieces = EnvOr("S3_COPY_LARGE_PIECES", "96");  // 6 GiB
  return std::max<std::uint64_t>(1, std::stoull(pieces));
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// `length` bytes of `object_key` from `offset`, by a ranged GET.
std::string Range(s3::S3Client& client, const std::string& object_key,
                  std::uint64_t offset, std::uint64_t length) {
  s3::S3Client::Request request{.method = "GET", .key = object_key};
  request.headers = {{"Range", "bytes=" + std::to_string(offset) + "-" +
                                   std::to_string(offset + length - 1)}};
  auto response = client.Send(request, "range");
  if (!response.ok() || response->status != 206) return "";
  return response->body;
}

TEST(S3CopyLargeTest, SixGibObjectCopiesInsideTheServer) {
  // Opt-in, and said so in the ctest output rather than run against a
  // server too small for it.
  if (EnvOr("S3_COPY_LARGE_PIECES", "").empty()) {
    GTEST_SKIP() << "opt-in: S3_COPY_LARGE_PIECES=96 copies 6 GiB (radosgw "
                    "with RGW_MEM_BYTES >= 14 GiB), fewer pieces less";
  }
  const std::uint64_t kPieces = Pieces();
  const std::uint64_t kSize = kPiece * kPieces;
  ASSERT_OK_AND_ASSIGN(auto source, S3Backend::Open(TestOptions("copy6g")));
  const std::string piece = Generated(7, 0, kPiece);
  BACKENDS_ASSERT_OK(source->dump("piece", piece));
  auto client = RawClient();
  ASSERT_NE(client, nullptr);
  const std::string prefix = source->options().prefix;

  // The 6 GiB source, assembled by the server from the piece.
  auto start = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(
      std::string upload_id,
      s3::CreateMultipartUpload(*client, prefix + "big", {}, "assemble"));
  std::vector<s3::S3Client::Request> parts;
  std::vector<std::string> contexts;
  for (std::uint64_t i = 0; i < kPieces; ++i) {
    s3::S3Client::Request part{.method = "PUT", .key = prefix + "big"};
    part.query = {{"partNumber", std::to_string(i + 1)},
                  {"uploadId", upload_id}};
    part.headers = {{"x-amz-copy-source",
                     "/" + EnvOr("S3_BUCKET") + "/" + prefix + "piece"}};
    part.expected_bytes = kPiece;
    parts.push_back(std::move(part));
    contexts.push_back("assemble part " + std::to_string(i + 1));
  }
  std::vector<std::string> etags;
  for (auto& answer : client->SendMany(parts, contexts, 4)) {
    ASSERT_TRUE(answer.ok() && answer->status == 200)
        << (answer.ok() ? answer->body : answer.status().ToString());
    const auto at = answer->body.find("<ETag>");
    const auto end = answer->body.find("</ETag>");
    ASSERT_NE(at, std::string::npos);
    etags.push_back(answer->body.substr(at + 6, end - at - 6));
  }
  BACKENDS_ASSERT_OK(s3::CompleteMultipartUpload(
      *client, prefix + "big", upload_id, etags, kSize, "assemble"));
  std::printf("assembling the %.2f GiB source in the server: %.1f s\n",
              static_cast<double>(kSize) / (1 << 30), SecondsSince(start));
  std::fflush(stdout);

  auto proxy = FaultProxy::ForEndpoint(EnvOr("S3_ENDPOINT"));
  S3Options options = TestOptions("copy6g-dst");
  options.endpoint = proxy->endpoint();
  if (kSize <= (std::uint64_t{5} << 30)) options.transfer.copy_threshold = kMiB;
  ASSERT_OK_AND_ASSIGN(auto destination, S3Backend::Open(options));
  S3Options from = source->options();  // one endpoint: the proxy's
  from.endpoint = proxy->endpoint();
  ASSERT_OK_AND_ASSIGN(auto proxied_source, S3Backend::Open(from));
  const auto traffic = proxy->bytes_from_client() + proxy->bytes_to_client();
  const int requests = proxy->requests();
  start = std::chrono::steady_clock::now();
  EXPECT_THAT(destination->copy_from(*proxied_source, "big", "copy"),
              IsOkAndHolds(true));
  const double seconds = SecondsSince(start);
  const auto moved =
      proxy->bytes_from_client() + proxy->bytes_to_client() - traffic;
  std::printf(
      "copy_from of %.2f GiB: %.1f s, %.0f MiB/s, %llu bytes of client "
      "traffic in %d requests\n",
      static_cast<double>(kSize) / (1 << 30), seconds,
      static_cast<double>(kSize) / kMiB / seconds,
      static_cast<unsigned long long>(moved), proxy->requests() - requests);
  RecordProperty("copy_seconds", std::to_string(seconds));
  EXPECT_LT(moved, 4 * kMiB);

  ASSERT_OK_AND_ASSIGN(auto info, destination->stat("copy"));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, kSize);
  const std::string copy_key = destination->options().prefix + "copy";
  for (std::uint64_t offset :
       {std::uint64_t{0},
        kPiece * std::max<std::uint64_t>(kPieces / 2, 1) - 4096, kSize / 6 * 5,
        kSize - kMiB}) {
    const std::string got = Range(*client, copy_key, offset, kMiB);
    std::string want;
    for (std::uint64_t at = offset; at < offset + kMiB; ++at) {
      want += piece[at % kPiece];
    }
    EXPECT_TRUE(got == want) << "bytes differ at offset " << offset;
  }
  EXPECT_EQ(MultipartUploadsUnder(destination->options().prefix), 0);
  BACKENDS_EXPECT_OK(destination->clear());
  BACKENDS_EXPECT_OK(source->clear());
}

}  // namespace
}  // namespace backends::testing

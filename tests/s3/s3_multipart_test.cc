// Multipart uploads against the real server: dump_file and dump_stream
// above the threshold (with 5 MiB parts, S3's minimum), parts in parallel,
// the part-size rule, and abort on failure (no upload left in progress).

#include "s3/s3_multipart.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "backends/s3.h"
#include "s3_stream_test_util.h"
#include "s3_test_env.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends {
namespace {

using ::backends::testing::Generated;
using ::backends::testing::IsOk;
using ::backends::testing::IsOkAndHolds;
using ::backends::testing::MultipartUploadsUnder;
using ::backends::testing::S3Environment;
using ::backends::testing::StatusIs;
using ::backends::testing::TestOptions;
using ::testing::HasSubstr;
using ::testing::Optional;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

constexpr std::uint64_t kMiB = 1 << 20;

S3Options SmallPartOptions() {
  S3Options options = TestOptions("mp");
  options.transfer.multipart_threshold = 5 * kMiB;
  options.transfer.part_size = 5 * kMiB;
  options.transfer.parallel_parts = 3;
  return options;
}

void WriteFile(const std::filesystem::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// Hands out `data` in chunks of at most `chunk` bytes; with `fail_at`,
// fails once it has handed out that many bytes.
class TestSource final : public ByteSource {
 public:
  TestSource(const std::string& data, std::size_t chunk,
             std::size_t fail_at = ~std::size_t{0}, bool tell_size = false)
      : data_(data), chunk_(chunk), fail_at_(fail_at), tell_size_(tell_size) {}
  Result<std::size_t> Read(std::span<char> buffer) override {
    if (at_ >= fail_at_) {
      return IOError("test source: disk on fire at byte " +
                     std::to_string(at_));
    }
    std::size_t n = std::min({buffer.size(), chunk_, data_.size() - at_});
    std::memcpy(buffer.data(), data_.data() + at_, n);
    at_ += n;
    return n;
  }
  std::optional<std::uint64_t> size() const override {
    if (!tell_size_) return std::nullopt;
    return data_.size();
  }

 private:
  const std::string& data_;
  const std::size_t chunk_;
  const std::size_t fail_at_;
  const bool tell_size_;
  std::size_t at_ = 0;
};

// The last 3 characters of the ETag of the object `full_key`.
std::string EtagOf(const std::string& full_key) {
  auto client = ::backends::testing::RawClient();
  s3::S3Client::Request request{.method = "HEAD", .key = full_key};
  auto response = client->Send(request, "head");
  if (!response.ok() || response->header("etag") == nullptr) return "";
  const std::string& etag = *response->header("etag");
  return etag.size() < 3 ? etag : etag.substr(etag.size() - 3);
}

TEST(PartSizeTest, AtLeastFiveMiBAndAtMostTenThousandParts) {
  EXPECT_EQ(s3::PartSizeFor(1, 1), 5 * kMiB);
  EXPECT_EQ(s3::PartSizeFor(1024 * kMiB, 8 * kMiB), 8 * kMiB);
  // 100 GiB in 8 MiB parts would be 12,800 parts: grow to 11 MiB.
  const std::uint64_t big = 100 * 1024 * kMiB;
  const std::uint64_t part = s3::PartSizeFor(big, 8 * kMiB);
  EXPECT_EQ(part % kMiB, 0u);
  EXPECT_LE((big + part - 1) / part, s3::kMaxParts);
  EXPECT_EQ(part, 11 * kMiB);
  // S3's largest part is 5 GiB.
  EXPECT_EQ(s3::PartSizeFor(~0ull, 8 * kMiB), s3::kMaxPartSize);
}

TEST(S3MultipartTest, DumpFileInPartsRoundTrips) {
  ::backends::testing::ScopedTempDir dir;
  S3Options options = SmallPartOptions();
  const std::string data = Generated(1, 0, 17 * kMiB + 12345);  // 4 parts
  WriteFile(dir.path() / "in", data);
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  BACKENDS_ASSERT_OK(store->dump_file("big.bin", (dir.path() / "in").string(),
                                      {.content_type = "application/x-test"}));
  ASSERT_OK_AND_ASSIGN(auto object, store->load_object("big.bin", false));
  ASSERT_TRUE(object.has_value());
  EXPECT_EQ(object->body.size(), data.size());
  EXPECT_TRUE(object->body == data);
  EXPECT_EQ(object->content_type, "application/x-test");
  ASSERT_OK_AND_ASSIGN(auto stat, store->stat("big.bin"));
  EXPECT_EQ(stat->size, data.size());
  // It went up in 4 parts: a multipart object's ETag ends in "-4".
  EXPECT_EQ(EtagOf(options.prefix + "big.bin"), "-4\"") << "ETag";
  EXPECT_EQ(MultipartUploadsUnder(options.prefix), 0);
  BACKENDS_EXPECT_OK(store->clear());
}

TEST(S3MultipartTest, DumpStreamInPartsRoundTrips) {
  S3Options options = SmallPartOptions();
  const std::string data = Generated(2, 0, 12 * kMiB + 7);
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  TestSource source(data, 100'003);
  BACKENDS_ASSERT_OK(store->dump_stream("s", source));
  ASSERT_OK_AND_ASSIGN(auto loaded, store->load("s"));
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->size(), data.size());
  EXPECT_TRUE(*loaded == data);
  EXPECT_EQ(MultipartUploadsUnder(options.prefix), 0);
  BACKENDS_EXPECT_OK(store->clear());
}

TEST(S3MultipartTest, StreamEndingOnAPartBoundaryRoundTrips) {
  S3Options options = SmallPartOptions();
  const std::string data = Generated(3, 0, 10 * kMiB);  // exactly 2 parts
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  TestSource source(data, 1 << 20, ~std::size_t{0}, /*tell_size=*/true);
  BACKENDS_ASSERT_OK(store->dump_stream("s", source));
  ASSERT_OK_AND_ASSIGN(auto loaded, store->load("s"));
  ASSERT_TRUE(loaded.has_value());
  EXPECT_TRUE(*loaded == data);
  BACKENDS_EXPECT_OK(store->clear());
}

TEST(S3MultipartTest, SmallObjectsGoInOnePut) {
  ::backends::testing::ScopedTempDir dir;
  S3Options options = SmallPartOptions();
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  const std::string data = Generated(4, 0, 3 * kMiB + 1);
  WriteFile(dir.path() / "in", data);
  BACKENDS_ASSERT_OK(
      store->dump_file("file.txt", (dir.path() / "in").string()));
  TestSource stream(data, 4096);
  BACKENDS_ASSERT_OK(store->dump_stream("stream", stream));
  const std::string nothing;
  TestSource empty(nothing, 1);
  BACKENDS_ASSERT_OK(store->dump_stream("empty", empty));
  WriteFile(dir.path() / "empty", "");
  BACKENDS_ASSERT_OK(
      store->dump_file("empty-file", (dir.path() / "empty").string()));
  ASSERT_OK_AND_ASSIGN(auto object, store->load_object("file.txt", false));
  ASSERT_TRUE(object.has_value());
  EXPECT_TRUE(object->body == data);
  EXPECT_EQ(object->content_type, "text/plain");
  EXPECT_THAT(store->load("stream"), IsOkAndHolds(Optional(data)));
  EXPECT_THAT(store->load("empty"), IsOkAndHolds(Optional(std::string())));
  EXPECT_THAT(store->load("empty-file"), IsOkAndHolds(Optional(std::string())));
  BACKENDS_EXPECT_OK(store->clear());
}

TEST(S3MultipartTest, SourceFailingOnPartThreeAbortsTheUpload) {
  S3Options options = SmallPartOptions();
  options.transfer.parallel_parts = 2;
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  BACKENDS_ASSERT_OK(store->dump("k", "old value"));
  const std::string data = Generated(5, 0, 20 * kMiB);
  TestSource source(data, 65536, 10 * kMiB + 100);  // inside part 3
  Status status = store->dump_stream("k", source);
  EXPECT_THAT(status, StatusIs(ErrorCode::kIOError, HasSubstr("disk on fire")));
  EXPECT_THAT(status.message(), HasSubstr("dump_stream \"k\""));
  EXPECT_EQ(MultipartUploadsUnder(options.prefix), 0);
  // Nothing replaced the old value.
  EXPECT_THAT(store->load("k"),
              IsOkAndHolds(Optional(std::string("old value"))));
  BACKENDS_EXPECT_OK(store->clear());
}

// A server whose CompleteMultipartUpload answers `complete_body` with status
// 200 (S3 may find the failure after the status line went out), and whose
// HEAD reports `head_length`; records the requests.
class ScriptedMultipartServer final : public s3::HttpTransport {
 public:
  ScriptedMultipartServer(std::string complete_body, std::string head_length,
                          std::string initiate_body)
      : complete_body_(std::move(complete_body)),
        head_length_(std::move(head_length)),
        initiate_body_(std::move(initiate_body)) {}
  Result<s3::HttpResponse> Send(const s3::HttpRequest& request,
                                std::string_view) override {
    std::scoped_lock lock(mutex_);
    const std::string query = request.url.substr(request.url.find('?') + 1);
    seen_.push_back(request.method + " " + query);
    s3::HttpResponse answer{.status = 200};
    if (request.method == "POST" && query.starts_with("uploads")) {
      answer.body = initiate_body_;
    } else if (request.method == "PUT") {
      answer.headers = {{"etag", "\"e\""}};
    } else if (request.method == "POST") {
      answer.body = complete_body_;
    } else if (request.method == "DELETE") {
      answer.status = 204;
    } else if (request.method == "HEAD") {
      answer.headers = {{"content-length", head_length_}};
    }
    return answer;
  }
  std::vector<std::string> seen() {
    std::scoped_lock lock(mutex_);
    return seen_;
  }

 private:
  const std::string complete_body_;
  const std::string head_length_;
  const std::string initiate_body_;
  std::mutex mutex_;
  std::vector<std::string> seen_;
};

constexpr std::string_view kAwsInitiate =
    "<InitiateMultipartUploadResult><UploadId>u1</UploadId>"
    "</InitiateMultipartUploadResult>";

// Uploads 11 MiB of zeros (3 parts of 5 MiB) through a scripted server;
// `seen` receives the requests it got.
Status UploadThrough(std::string complete_body, std::string head_length,
                     std::vector<std::string>* seen,
                     std::string_view initiate_body = kAwsInitiate) {
  auto* server = new ScriptedMultipartServer(std::move(complete_body),
                                             std::move(head_length),
                                             std::string(initiate_body));
  s3::S3Client client(
      {.scheme = "http", .authority = "127.0.0.1:1", .bucket = "b"},
      [] { return Result<s3::Credentials>(s3::Credentials{}); },
      std::unique_ptr<s3::HttpTransport>(server), DefaultClock());
  s3::UploadSource source;
  source.size = 11 * kMiB;
  source.read_at = [](std::uint64_t offset, char* out,
                      std::size_t n) -> Result<std::size_t> {
    n = std::min<std::uint64_t>(n, 11 * kMiB - offset);
    std::memset(out, 0, n);
    return n;
  };
  S3TransferOptions options{.multipart_threshold = 5 * kMiB,
                            .part_size = 5 * kMiB,
                            .parallel_parts = 2};
  Status status =
      s3::UploadObject(client, "k", {}, source, options, "dump_file \"k\"");
  *seen = server->seen();
  return status;
}

TEST(MultipartProtocolTest, ErrorDocumentInA200CompleteIsAnErrorAndAborts) {
  std::vector<std::string> seen;
  Status status = UploadThrough(
      "<?xml version=\"1.0\"?><Error><Code>InternalError</Code>"
      "<Message>try again</Message></Error>",
      "0", &seen);
  EXPECT_THAT(status, StatusIs(ErrorCode::kUnavailable,
                               HasSubstr("InternalError: try again")));
  EXPECT_THAT(status.message(), HasSubstr("dump_file \"k\""));
  ASSERT_EQ(seen.size(), 6u);  // create, 3 parts, complete, abort
  EXPECT_EQ(seen.front(), "POST uploads=");
  EXPECT_EQ(seen[4], "POST uploadId=u1");
  EXPECT_EQ(seen.back(), "DELETE uploadId=u1");
}

TEST(MultipartProtocolTest, EmptyEtagIsCheckedByHeadSize) {
  const std::string empty_etag =
      "<CompleteMultipartUploadResult><ETag></ETag>"
      "</CompleteMultipartUploadResult>";
  std::vector<std::string> seen;
  EXPECT_THAT(UploadThrough(empty_etag, std::to_string(11 * kMiB), &seen),
              IsOk());
  EXPECT_THAT(seen.back(), ::testing::StartsWith("HEAD "));
  EXPECT_THAT(UploadThrough(empty_etag, "5", &seen),
              StatusIs(ErrorCode::kDataLoss, HasSubstr("holds 5 bytes")));
}

TEST(MultipartProtocolTest, AnswersAreReadByTheirFieldsNotTheRootName) {
  // moto names its roots ...Response; AWS ...Result. The fields decide.
  std::vector<std::string> seen;
  EXPECT_THAT(
      UploadThrough("<?xml version=\"1.0\"?><CompleteMultipartUploadResponse "
                    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    "<Bucket>b</Bucket><Key>k</Key><ETag>\"e-3\"</ETag>"
                    "</CompleteMultipartUploadResponse>",
                    "0", &seen,
                    "<InitiateMultipartUploadResponse><Bucket>b</Bucket>"
                    "<UploadId>u1</UploadId>"
                    "</InitiateMultipartUploadResponse>"),
      IsOk());
  ASSERT_EQ(seen.size(), 5u);  // create, 3 parts, complete: no HEAD
  EXPECT_EQ(seen.back(), "POST uploadId=u1");
  // A ...Response wrapping a ...Result is read through.
  EXPECT_THAT(UploadThrough("<CompleteMultipartUploadResponse>"
                            "<CompleteMultipartUploadResult><ETag>\"e\""
                            "</ETag></CompleteMultipartUploadResult>"
                            "</CompleteMultipartUploadResponse>",
                            "0", &seen),
              IsOk());
  EXPECT_EQ(seen.back(), "POST uploadId=u1");
  // An initiate answer without an UploadId, whatever its root, is refused.
  EXPECT_THAT(
      UploadThrough("<X/>", "0", &seen,
                    "<InitiateMultipartUploadResult>"
                    "<Bucket>b</Bucket></InitiateMultipartUploadResult>"),
      StatusIs(ErrorCode::kInternal, HasSubstr("without an UploadId")));
  EXPECT_EQ(seen.size(), 1u);
  // An <Error> document answering the initiate is the error it names.
  EXPECT_THAT(UploadThrough("<X/>", "0", &seen,
                            "<Error><Code>SlowDown</Code><Message>busy"
                            "</Message></Error>"),
              StatusIs(ErrorCode::kUnavailable, HasSubstr("SlowDown: busy")));
}

TEST(S3MultipartTest, MissingFileIsNotFound) {
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(SmallPartOptions()));
  EXPECT_THAT(store->dump_file("x", "/nonexistent/dir/file"),
              StatusIs(ErrorCode::kNotFound, HasSubstr("/nonexistent/dir")));
  EXPECT_THAT(store->dump_file("x", "/tmp"),
              StatusIs(ErrorCode::kInvalidArgument));
}

}  // namespace
}  // namespace backends

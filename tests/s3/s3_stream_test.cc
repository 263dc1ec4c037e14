// Streaming downloads against the real server: load_to_file (temporary file
// + rename, parallel ranged GETs) and load_stream, and resumption of a GET
// cut mid-body by CutProxy (Range + If-Match), including an object that
// changes before the resume.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "backends/s3.h"
#include "s3_stream_test_util.h"
#include "s3_test_env.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends {
namespace {

using ::backends::testing::CutProxy;
using ::backends::testing::EnvOr;
using ::backends::testing::Generated;
using ::backends::testing::IsOkAndHolds;
using ::backends::testing::S3Environment;
using ::backends::testing::ScopedTempDir;
using ::backends::testing::StatusIs;
using ::backends::testing::TestOptions;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Optional;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

constexpr std::uint64_t kMiB = 1 << 20;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::filesystem::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// The names in `dir` (to see that no temporary file is left behind).
std::vector<std::string> Names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Appends every piece to `out`; with `fail`, fails instead.
class StringSink final : public ByteSink {
 public:
  explicit StringSink(std::string* out, bool fail = false)
      : out_(out), fail_(fail) {}
  Status Write(std::string_view piece) override {
    if (fail_) return IOError("test sink: full");
    out_->append(piece);
    return Status::OK();
  }

 private:
  std::string* out_;
  bool fail_;
};

class S3StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_ = TestOptions("st");
    options_.transfer.download_part_size = 1 * kMiB;
    options_.transfer.parallel_parts = 4;
    auto store = S3Backend::Open(options_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    if (store_) {
      BACKENDS_EXPECT_OK(store_->clear());
    }
  }

  S3Options options_;
  std::unique_ptr<S3Backend> store_;
  ScopedTempDir dir_;
};

TEST_F(S3StreamTest, LoadToFileInParallelRanges) {
  const std::string data = Generated(7, 0, 5 * kMiB + 333);  // 6 ranges
  BACKENDS_ASSERT_OK(store_->dump("obj", data));
  const auto path = dir_.path() / "out.bin";
  EXPECT_THAT(store_->load_to_file("obj", path.string()), IsOkAndHolds(true));
  const std::string got = ReadFile(path);
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"out.bin"});
}

TEST_F(S3StreamTest, LoadToFileSmallAndEmptyObjects) {
  BACKENDS_ASSERT_OK(store_->dump("small", "hello"));
  BACKENDS_ASSERT_OK(store_->dump("empty", ""));
  const auto small = dir_.path() / "small";
  const auto empty = dir_.path() / "empty";
  WriteFile(empty, "previous content");
  EXPECT_THAT(store_->load_to_file("small", small.string()),
              IsOkAndHolds(true));
  EXPECT_THAT(store_->load_to_file("empty", empty.string()),
              IsOkAndHolds(true));
  EXPECT_EQ(ReadFile(small), "hello");
  EXPECT_EQ(ReadFile(empty), "");
  EXPECT_EQ(Names(dir_.path()), (std::vector<std::string>{"empty", "small"}));
}

TEST_F(S3StreamTest, MissingKeyLeavesTheFileAlone) {
  const auto path = dir_.path() / "keep";
  WriteFile(path, "mine");
  EXPECT_THAT(store_->load_to_file("absent", path.string()),
              IsOkAndHolds(false));
  EXPECT_EQ(ReadFile(path), "mine");
  std::string sunk;
  StringSink sunk_sink(&sunk);
  EXPECT_THAT(store_->load_stream("absent", sunk_sink), IsOkAndHolds(false));
  EXPECT_EQ(sunk, "");
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"keep"});
}

TEST_F(S3StreamTest, LoadStreamDeliversEveryByteInOrder) {
  const std::string data = Generated(8, 0, 3 * kMiB + 5);
  BACKENDS_ASSERT_OK(store_->dump("obj", data));
  BACKENDS_ASSERT_OK(store_->dump("empty", ""));
  std::string sunk;
  StringSink sunk_sink(&sunk);
  EXPECT_THAT(store_->load_stream("obj", sunk_sink), IsOkAndHolds(true));
  EXPECT_TRUE(sunk == data);
  std::string none;
  StringSink none_sink(&none);
  EXPECT_THAT(store_->load_stream("empty", none_sink), IsOkAndHolds(true));
  EXPECT_EQ(none, "");
}

TEST_F(S3StreamTest, LoadStreamGivesTheDecodedValueOfGzippedObjects) {
  // dump() stores JavaScript gzipped; load_stream, like load, gives the value.
  const std::string script = "function f() { return 42; }\n";
  BACKENDS_ASSERT_OK(store_->dump("app.js", script));
  ASSERT_OK_AND_ASSIGN(auto stored, store_->load_object("app.js", false));
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->content_encoding, "gzip");
  std::string sunk;
  StringSink sunk_sink(&sunk);
  EXPECT_THAT(store_->load_stream("app.js", sunk_sink), IsOkAndHolds(true));
  EXPECT_EQ(sunk, script);
}

TEST_F(S3StreamTest, SinkErrorStopsTheDownload) {
  BACKENDS_ASSERT_OK(store_->dump("obj", Generated(9, 0, 2 * kMiB)));
  std::string unused;
  StringSink sink(&unused, /*fail=*/true);
  EXPECT_THAT(store_->load_stream("obj", sink),
              StatusIs(ErrorCode::kIOError, HasSubstr("test sink: full")));
}

TEST_F(S3StreamTest, FailedDownloadNeverClobbersTheFile) {
  // Every GET through the proxy is cut, and resuming is off.
  CutProxy proxy(EnvOr("S3_ENDPOINT"));
  S3Options options = options_;
  options.endpoint = proxy.endpoint();
  options.transfer.resume_attempts = 0;
  BACKENDS_ASSERT_OK(store_->dump("obj", Generated(10, 0, 3 * kMiB)));
  const auto path = dir_.path() / "keep";
  WriteFile(path, "mine");
  {
    ASSERT_OK_AND_ASSIGN(auto cut_store, S3Backend::Open(options));
    proxy.CutNextGet(100'000);
    EXPECT_THAT(cut_store->load_to_file("obj", path.string()),
                StatusIs(ErrorCode::kUnavailable, HasSubstr("load_to_file")));
  }
  EXPECT_EQ(proxy.cuts(), 1);
  EXPECT_EQ(ReadFile(path), "mine");
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"keep"});
}

TEST_F(S3StreamTest, CutGetResumesFromTheByteReached) {
  CutProxy proxy(EnvOr("S3_ENDPOINT"));
  S3Options options = options_;
  options.endpoint = proxy.endpoint();
  const std::string data = Generated(11, 0, 3 * kMiB + 17);
  BACKENDS_ASSERT_OK(store_->dump("obj", data));
  std::string sunk;
  {
    ASSERT_OK_AND_ASSIGN(auto cut_store, S3Backend::Open(options));
    proxy.CutNextGet(1'000'003);
    StringSink sunk_sink(&sunk);
    EXPECT_THAT(cut_store->load_stream("obj", sunk_sink), IsOkAndHolds(true));
  }
  EXPECT_EQ(proxy.cuts(), 1);
  EXPECT_EQ(sunk.size(), data.size());
  EXPECT_TRUE(sunk == data);
  // The second GET asked for the rest of the same version.
  std::vector<std::string> gets;
  for (const auto& request : proxy.requests()) {
    if (request.starts_with("GET ")) gets.push_back(request);
  }
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_THAT(gets[0], ::testing::Not(HasSubstr("Range:")));
  // The size is known from the first answer: the range names its end.
  EXPECT_THAT(gets[1], HasSubstr("Range: bytes=1000003-" +
                                 std::to_string(data.size() - 1) + "\r\n"));
  EXPECT_THAT(gets[1], HasSubstr("If-Match: \""));
}

TEST_F(S3StreamTest, CutRangedGetResumesInsideItsRange) {
  CutProxy proxy(EnvOr("S3_ENDPOINT"));
  S3Options options = options_;
  options.endpoint = proxy.endpoint();
  options.transfer.parallel_parts = 1;
  const std::string data = Generated(12, 0, 2 * kMiB + 9);
  BACKENDS_ASSERT_OK(store_->dump("obj", data));
  const auto path = dir_.path() / "out";
  {
    ASSERT_OK_AND_ASSIGN(auto cut_store, S3Backend::Open(options));
    proxy.CutNextGet(777);  // inside the first 1 MiB range
    EXPECT_THAT(cut_store->load_to_file("obj", path.string()),
                IsOkAndHolds(true));
  }
  EXPECT_EQ(proxy.cuts(), 1);
  EXPECT_TRUE(ReadFile(path) == data);
  std::vector<std::string> gets;
  for (const auto& request : proxy.requests()) {
    if (request.starts_with("GET ")) gets.push_back(request);
  }
  ASSERT_EQ(gets.size(), 4u);  // 0-1MiB cut, its resume, 1-2 MiB, 2 MiB-end
  EXPECT_THAT(gets[1], HasSubstr("Range: bytes=777-1048575\r\n"));
  EXPECT_THAT(gets[1], HasSubstr("If-Match: \""));
}

TEST_F(S3StreamTest, CutGzipGetResumesWithoutDisturbingTheDecoder) {
  // A gzip-encoded object (incompressible bytes: ~3 MiB stored) cut
  // mid-body: the resumed bytes go on into the same decoder, in order.
  const std::string data = Generated(13, 0, 3 * kMiB + 5);
  BACKENDS_ASSERT_OK(store_->dump("obj.js", data));
  CutProxy proxy(EnvOr("S3_ENDPOINT"));
  S3Options through_proxy = options_;
  through_proxy.endpoint = proxy.endpoint();
  ASSERT_OK_AND_ASSIGN(auto cut_store, S3Backend::Open(through_proxy));
  std::string sunk;
  StringSink sunk_sink(&sunk);
  proxy.CutNextGet(1'000'003);
  EXPECT_THAT(cut_store->load_stream("obj.js", sunk_sink), IsOkAndHolds(true));
  EXPECT_TRUE(sunk == data);
  const auto path = dir_.path() / "out";
  proxy.CutNextGet(777);
  EXPECT_THAT(cut_store->load_to_file("obj.js", path.string()),
              IsOkAndHolds(true));
  EXPECT_TRUE(ReadFile(path) == data);
  EXPECT_EQ(proxy.cuts(), 2);
}

TEST_F(S3StreamTest, ObjectChangedBeforeTheResumeFailsClearly) {
  CutProxy proxy(EnvOr("S3_ENDPOINT"));
  S3Options options = options_;
  options.endpoint = proxy.endpoint();
  const std::string first = Generated(13, 0, 2 * kMiB);
  const std::string second = Generated(14, 0, 2 * kMiB);
  BACKENDS_ASSERT_OK(store_->dump("obj", first));
  std::string sunk;
  Status status;
  {
    ASSERT_OK_AND_ASSIGN(auto cut_store, S3Backend::Open(options));
    proxy.CutNextGet(500'000, [&] {
      // Another writer replaces the object while our GET is broken.
      BACKENDS_EXPECT_OK(store_->dump("obj", second));
    });
    StringSink sunk_sink(&sunk);
    auto loaded = cut_store->load_stream("obj", sunk_sink);
    status = loaded.status();
  }
  EXPECT_THAT(status, StatusIs(ErrorCode::kFailedPrecondition,
                               HasSubstr("changed during the download")));
  // What was delivered is a prefix of the first version only.
  EXPECT_EQ(sunk.size(), 500'000u);
  EXPECT_TRUE(sunk == first.substr(0, sunk.size()));
}

}  // namespace
}  // namespace backends

// The content rules on every S3 upload path, against the real server:
// dump, dump_stream and dump_file store the gzip types gzipped (with the
// uncompressed size recorded), other types as given, and each object reads
// back as the original bytes through our loads, awscli + gunzip, and curl
// --compressed on its public URL; a multipart-sized gzip stream too.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "backends/s3.h"
#include "s3_test_env.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends {
namespace {

using ::backends::testing::AwsGetObject;
using ::backends::testing::CurlCompressed;
using ::backends::testing::EnvOr;
using ::backends::testing::ExpectAwsSeesContentRules;
using ::backends::testing::Gunzip;
using ::backends::testing::PipeLikeSource;
using ::backends::testing::S3Environment;
using ::backends::testing::ScopedTempDir;
using ::backends::testing::StatusIs;
using ::backends::testing::TestOptions;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

constexpr std::size_t kMiB = 1 << 20;

// JavaScript that gzip shrinks only about 2x (random names and strings), so
// 20 MiB stays larger than one 5 MiB part once compressed.
std::string Script(std::size_t size, unsigned seed) {
  std::mt19937_64 random(seed);
  std::string out;
  out.reserve(size + 64);
  char hex[17];
  while (out.size() < size) {
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(random()));
    out += "var v" + std::to_string(random() % 100000) + " = \"" + hex +
           "\"; // é\n";
  }
  out.resize(size);
  return out;
}

class StringSink final : public ByteSink {
 public:
  Status Write(std::string_view piece) override {
    out.append(piece);
    return Status::OK();
  }
  std::string out;
};

enum class Path { kDump, kDumpStream, kDumpFile };

class S3GzipUploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_ = TestOptions("gzip");
    options_.public_read = true;  // so curl can read the objects
    options_.transfer.multipart_threshold = 5 * kMiB;
    options_.transfer.part_size = 5 * kMiB;
    options_.transfer.parallel_parts = 2;
    options_.transfer.download_part_size = 1 * kMiB;
    ASSERT_OK_AND_ASSIGN(store_, S3Backend::Open(options_));
  }
  void TearDown() override {
    if (store_) {
      BACKENDS_EXPECT_OK(store_->clear());
    }
  }

  Status Upload(Path path, const std::string& key, const std::string& value) {
    switch (path) {
      case Path::kDump:
        return store_->dump(key, value);
      case Path::kDumpStream: {
        PipeLikeSource source(value);
        return store_->dump_stream(key, source);
      }
      case Path::kDumpFile: {
        const auto file = dir_.path() / "upload";
        std::ofstream(file, std::ios::binary | std::ios::trunc) << value;
        return store_->dump_file(key, file.string());
      }
    }
    return Status::OK();
  }

  // Every reader gives back `value`; the stored object has `type` and, for
  // the gzip types, Content-Encoding gzip and the uncompressed size.
  // With `peers`, awscli and curl read it too (slower: a second each).
  void ExpectStored(const std::string& key, const std::string& value,
                    const std::string& type, bool gzipped, bool peers = true) {
    SCOPED_TRACE(key);
    ASSERT_OK_AND_ASSIGN(auto loaded, store_->load(key));
    EXPECT_TRUE(loaded == value) << "load differs";
    StringSink sink;
    ASSERT_OK_AND_ASSIGN(bool found, store_->load_stream(key, sink));
    EXPECT_TRUE(found);
    EXPECT_TRUE(sink.out == value) << "load_stream differs";
    const auto file = dir_.path() / "download";
    ASSERT_OK_AND_ASSIGN(found, store_->load_to_file(key, file.string()));
    EXPECT_TRUE(found);
    std::ifstream in(file, std::ios::binary);
    EXPECT_TRUE(std::string(std::istreambuf_iterator<char>(in), {}) == value)
        << "load_to_file differs";
    ASSERT_OK_AND_ASSIGN(auto info, store_->stat(key));
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->size, value.size());
    ASSERT_OK_AND_ASSIGN(auto stored, store_->load_object(key, false));
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->content_type, type);
    EXPECT_EQ(stored->content_encoding, gzipped ? "gzip" : "");
    if (!peers) return;

    ExpectAwsSeesContentRules(options_.prefix + key, value, type, gzipped);
    const std::string url = EnvOr("S3_ENDPOINT") + "/" + options_.bucket + "/" +
                            options_.prefix + key;
    EXPECT_TRUE(CurlCompressed(url) == value) << "curl --compressed " << url;
  }

  void ExpectEveryTypeStoredRight(Path path) {
    const std::string js = Script(300'000, 1);
    const std::string css = "body { color: #333; }\n";
    const std::string html = "<!doctype html><p>é</p>\n";
    BACKENDS_ASSERT_OK(Upload(path, "app.js", js));
    BACKENDS_ASSERT_OK(Upload(path, "style.css", css));
    BACKENDS_ASSERT_OK(Upload(path, "index.html", html));
    BACKENDS_ASSERT_OK(Upload(path, "empty.js", ""));
    ExpectStored("app.js", js, "application/javascript", true);
    ExpectStored("style.css", css, "text/css", true, false);
    ExpectStored("index.html", html, "text/html", false);
    ExpectStored("empty.js", "", "application/javascript", true, false);
  }

  S3Options options_;
  std::unique_ptr<S3Backend> store_;
  ScopedTempDir dir_;
};

TEST_F(S3GzipUploadTest, DumpAppliesTheContentRules) {
  ExpectEveryTypeStoredRight(Path::kDump);
}

TEST_F(S3GzipUploadTest, DumpStreamAppliesTheContentRules) {
  ExpectEveryTypeStoredRight(Path::kDumpStream);
}

TEST_F(S3GzipUploadTest, DumpFileAppliesTheContentRules) {
  ExpectEveryTypeStoredRight(Path::kDumpFile);
}

TEST_F(S3GzipUploadTest, MultipartGzipStreamRecordsItsSizeAfterwards) {
  // Size unknown up front: the size is recorded by a copy onto itself,
  // which must keep the type, the encoding and the public-read ACL.
  const std::string js = Script(20 * kMiB, 2);
  BACKENDS_ASSERT_OK(Upload(Path::kDumpStream, "bundle.js", js));
  ASSERT_OK_AND_ASSIGN(auto stored, store_->load_object("bundle.js", false));
  ASSERT_TRUE(stored.has_value());
  EXPECT_GT(stored->body.size(), 5 * kMiB) << "not a multipart upload";
  EXPECT_LT(stored->body.size(), js.size());
  ExpectStored("bundle.js", js, "application/javascript", true);
}

TEST_F(S3GzipUploadTest, MultipartGzipFileCarriesItsSizeFromTheStart) {
  const std::string js = Script(20 * kMiB, 3);
  BACKENDS_ASSERT_OK(Upload(Path::kDumpFile, "bundle.js", js));
  ExpectStored("bundle.js", js, "application/javascript", true);
}

TEST_F(S3GzipUploadTest, WrongSizeHintIsCorrectedFromTheBytesRead) {
  class LyingSource final : public ByteSource {
   public:
    explicit LyingSource(const std::string& bytes) : inner_(bytes) {}
    Result<std::size_t> Read(std::span<char> buffer) override {
      return inner_.Read(buffer);
    }
    std::optional<std::uint64_t> size() const override { return 12345; }

   private:
    PipeLikeSource inner_;
  };
  const std::string small = Script(1000, 4);
  LyingSource source(small);
  BACKENDS_ASSERT_OK(store_->dump_stream("small.js", source));
  ASSERT_OK_AND_ASSIGN(auto info, store_->stat("small.js"));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, small.size());
  const std::string big = Script(20 * kMiB, 5);
  LyingSource big_source(big);
  BACKENDS_ASSERT_OK(store_->dump_stream("big.js", big_source));
  ASSERT_OK_AND_ASSIGN(info, store_->stat("big.js"));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, big.size());
}

TEST_F(S3GzipUploadTest, CorruptGzipObjectIsDataLossOnEveryLoad) {
  // Written by another tool: claims gzip, holds something else.
  const std::string body = (dir_.path() / "bad").string();
  std::ofstream(body, std::ios::binary) << "\x1f\x8b not really gzip";
  auto put = ::backends::testing::RunCommand(
      "/usr/bin/aws --endpoint-url " +
      ::backends::testing::ShellQuote(EnvOr("S3_ENDPOINT")) +
      " s3api put-object --bucket " +
      ::backends::testing::ShellQuote(options_.bucket) + " --key " +
      ::backends::testing::ShellQuote(options_.prefix + "bad.js") +
      " --content-type application/javascript --content-encoding gzip"
      " --body " +
      ::backends::testing::ShellQuote(body) + " 2>&1");
  ASSERT_EQ(put.status, 0) << put.output;
  EXPECT_THAT(store_->load("bad.js"), StatusIs(ErrorCode::kDataLoss));
  StringSink sink;
  EXPECT_THAT(store_->load_stream("bad.js", sink),
              StatusIs(ErrorCode::kDataLoss));
  const auto file = dir_.path() / "out";
  EXPECT_THAT(store_->load_to_file("bad.js", file.string()),
              StatusIs(ErrorCode::kDataLoss));
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST_F(S3GzipUploadTest, JsonStoreIsApplicationJsonOnEveryPath) {
  S3Options options = options_;
  options.gzip_types.push_back("application/json");  // gzip JSON too
  ASSERT_OK_AND_ASSIGN(auto json, S3JsonBackend::Open(options));
  const std::string value = "{\"a\": [1, 2]}";
  BACKENDS_ASSERT_OK(json.s3().dump("one.js", value));
  PipeLikeSource source(value);
  BACKENDS_ASSERT_OK(json.s3().dump_stream("two.css", source));
  const auto file = dir_.path() / "v.json";
  std::ofstream(file, std::ios::binary) << value;
  BACKENDS_ASSERT_OK(json.s3().dump_file("three.html", file.string()));
  for (const char* key : {"one.js", "two.css", "three.html"}) {
    SCOPED_TRACE(key);
    auto aws = AwsGetObject(options_.prefix + key);
    ASSERT_TRUE(aws.ok) << aws.error;
    EXPECT_EQ(aws.content_type, "application/json");
    EXPECT_EQ(aws.content_encoding, "gzip");
    EXPECT_EQ(Gunzip(aws.body), value);
    ASSERT_OK_AND_ASSIGN(auto loaded, json.load(key));
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ((*loaded)["a"][1], 2);
  }
}

}  // namespace
}  // namespace backends

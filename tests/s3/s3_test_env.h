#pragma once

// What the S3 tests share: the server's coordinates from the environment,
// a fresh key prefix per test, and an HTTP client that is not ours (the curl
// binary) to check what anonymous readers and other tools see.
//
// The test command (scripts/test.sh, through scripts/s3-server.sh run)
// starts radosgw on 127.0.0.1 and exports S3_ENDPOINT, S3_BUCKET,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION. When
// they are missing every S3 test FAILS, saying so; only an explicit
// BACKENDS_SKIP_S3=1 turns that into a skip (for developers without the
// server).

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "backends/s3.h"

namespace backends::testing {

inline std::string EnvOr(const char* name, std::string fallback = "") {
  const char* value = std::getenv(name);
  return value == nullptr ? fallback : std::string(value);
}

/// The names of the variables the S3 tests need that are not set.
inline std::vector<std::string> MissingS3Env() {
  std::vector<std::string> missing;
  for (const char* name : {"S3_ENDPOINT", "S3_BUCKET", "AWS_ACCESS_KEY_ID",
                           "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}) {
    if (EnvOr(name).empty()) missing.push_back(name);
  }
  return missing;
}

/// Registered once per S3 test binary: fails (or, with BACKENDS_SKIP_S3=1,
/// skips) every test when the server's environment is missing.
class S3Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto missing = MissingS3Env();
    if (missing.empty()) return;
    std::string names;
    for (const auto& name : missing) names += " " + name;
    if (EnvOr("BACKENDS_SKIP_S3") == "1") {
      GTEST_SKIP() << "BACKENDS_SKIP_S3=1 and no S3 server (missing" << names
                   << ")";
    }
    FAIL() << "the S3 tests need a running S3 server: missing" << names
           << ". Run them through scripts/test.sh, or `eval \"$(scripts/"
              "s3-server.sh start)\"` first; set BACKENDS_SKIP_S3=1 to skip "
              "them explicitly.";
  }
};

/// A prefix no other test (or process) uses: "t-PID-N-RANDOM/".
inline std::string FreshPrefix(std::string_view label = "t") {
  static std::atomic<int> counter{0};
  static const unsigned seed = std::random_device{}();
  return std::string(label) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++) + "-" + std::to_string(seed % 100000) + "/";
}

/// Options for the test server with a fresh prefix. Credentials come from
/// the environment (the standard chain).
inline S3Options TestOptions(std::string_view label = "t") {
  S3Options options;
  options.bucket = EnvOr("S3_BUCKET");
  options.endpoint = EnvOr("S3_ENDPOINT");
  options.prefix = FreshPrefix(label);
  return options;
}

/// Output and exit status of a shell command.
struct CommandResult {
  int status = -1;
  std::string output;
};

inline CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    result.output.append(buffer, n);
  }
  int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

/// Single-quotes `text` for sh.
inline std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

/// The contents of the file at `path`, or std::nullopt if it cannot be read.
inline std::optional<std::string> ReadFileOr(const char* path) {
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return std::nullopt;
  std::string out;
  char buffer[65536];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0)
    out.append(buffer, n);
  std::fclose(f);
  return out;
}

/// What the curl binary gets from `url` without credentials: the HTTP
/// status and the body.
struct CurlAnswer {
  int http_status = 0;
  std::string body;
};

inline CurlAnswer CurlGet(const std::string& url) {
  // The body goes to a file, the status code to stdout.
  char path[] = "/tmp/backends-s3-curl-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd >= 0) ::close(fd);
  CurlAnswer answer;
  auto result = RunCommand("curl -s -o " + ShellQuote(path) +
                           " -w '%{http_code}' " + ShellQuote(url));
  answer.http_status = std::atoi(result.output.c_str());
  answer.body = ReadFileOr(path).value_or("");
  ::unlink(path);
  return answer;
}

/// Writes `data` to a new temporary file; returns its path ("" on failure).
inline std::string WriteTempFile(const std::string& data) {
  char path[] = "/tmp/backends-s3-data-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return "";
  std::size_t written = 0;
  while (written < data.size()) {
    auto n = ::write(fd, data.data() + written, data.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return path;
}

/// PUTs `body` to `url` with the curl binary; returns the HTTP status.
inline int CurlPut(const std::string& url, const std::string& body) {
  const std::string path = WriteTempFile(body);
  if (path.empty()) return -1;
  auto result = RunCommand("curl -s -o /dev/null -w '%{http_code}' -T " +
                           ShellQuote(path) + " " + ShellQuote(url));
  ::unlink(path.c_str());
  return std::atoi(result.output.c_str());
}

/// Runs `/usr/bin/aws s3api ARGS --output text` against the test server
/// (stderr joined to the output).
inline CommandResult AwsS3Api(const std::string& args) {
  return RunCommand("/usr/bin/aws --endpoint-url " +
                    ShellQuote(EnvOr("S3_ENDPOINT")) + " --output text s3api " +
                    args + " 2>&1");
}

/// The keys of the unfinished multipart uploads under `prefix` in the test
/// bucket, as awscli lists them, one per line ("" if none).
inline std::string AwsUploadKeys(const std::string& prefix) {
  auto listed = AwsS3Api("list-multipart-uploads --bucket " +
                         ShellQuote(EnvOr("S3_BUCKET")) + " --prefix " +
                         ShellQuote(prefix) + " --query 'Uploads[].Key'");
  if (listed.status != 0) return "aws failed: " + listed.output;
  std::string keys;
  for (char c : listed.output) keys += c == '\t' ? '\n' : c;
  return keys == "None\n" ? "" : keys;
}

/// Begins a multipart upload of `object_key` in the test bucket with
/// awscli; returns its upload id ("" on failure).
inline std::string AwsBeginUpload(const std::string& object_key) {
  auto begun = AwsS3Api("create-multipart-upload --bucket " +
                        ShellQuote(EnvOr("S3_BUCKET")) + " --key " +
                        ShellQuote(object_key) + " --query UploadId");
  if (begun.status != 0) return "";
  std::string id = begun.output;
  while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) {
    id.pop_back();
  }
  return id;
}

/// An object as awscli (/usr/bin/aws s3api) sees it on the test server:
/// head-object's fields, and get-object's body, which awscli saves as
/// stored (gzip stays gzip). `ok` is false, with `error`, if a call failed.
struct AwsObject {
  bool ok = false;
  std::string error;
  std::string content_type;
  std::string content_encoding;
  std::string uncompressed_size;  // x-amz-meta-uncompressed-size
  std::string body;
};

inline AwsObject AwsGetObject(const std::string& object_key) {
  AwsObject object;
  char path[] = "/tmp/backends-s3-aws-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd >= 0) ::close(fd);
  auto get = RunCommand(
      "/usr/bin/aws --endpoint-url " + ShellQuote(EnvOr("S3_ENDPOINT")) +
      " --output text s3api get-object --bucket " +
      ShellQuote(EnvOr("S3_BUCKET")) + " --key " + ShellQuote(object_key) +
      " --query "
      "'[ContentType,ContentEncoding,Metadata.\"uncompressed-size\"]' " +
      ShellQuote(path) + " 2>&1");
  if (get.status != 0) {
    object.error = get.output;
  } else {
    std::string fields = get.output;
    if (!fields.empty() && fields.back() == '\n') fields.pop_back();
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t tab; (tab = fields.find('\t', start)) != std::string::npos;
         start = tab + 1) {
      parts.push_back(fields.substr(start, tab - start));
    }
    parts.push_back(fields.substr(start));
    parts.resize(3);
    for (auto& part : parts) {
      if (part == "None") part.clear();
    }
    object.content_type = parts[0];
    object.content_encoding = parts[1];
    object.uncompressed_size = parts[2];
    if (auto body = ReadFileOr(path)) {
      object.body = std::move(*body);
      object.ok = true;
    }
  }
  ::unlink(path);
  return object;
}

/// `data` through the gunzip binary (what a user of the stored object
/// would run); empty if it is not gzip.
inline std::string Gunzip(const std::string& data) {
  const std::string path = WriteTempFile(data);
  if (path.empty()) return "";
  auto result = RunCommand("gunzip -c < " + ShellQuote(path) + " 2>/dev/null");
  ::unlink(path.c_str());
  return result.status == 0 ? result.output : "";
}

/// The body curl delivers for `url` with --compressed (it asks for gzip
/// and decodes it as a browser does); empty on failure.
inline std::string CurlCompressed(const std::string& url) {
  auto result = RunCommand("curl -sf --compressed " + ShellQuote(url));
  return result.status == 0 ? result.output : "";
}

/// Checks, through awscli, that `object_key` is stored with `type` and,
/// when `gzipped`, Content-Encoding gzip and the uncompressed size, its
/// bytes gunzipping to `value`; otherwise stored as `value`, unencoded.
inline void ExpectAwsSeesContentRules(const std::string& object_key,
                                      const std::string& value,
                                      const std::string& type, bool gzipped) {
  AwsObject aws = AwsGetObject(object_key);
  ASSERT_TRUE(aws.ok) << aws.error;
  EXPECT_EQ(aws.content_type, type);
  if (gzipped) {
    EXPECT_EQ(aws.content_encoding, "gzip");
    EXPECT_EQ(aws.uncompressed_size, std::to_string(value.size()));
    EXPECT_TRUE(Gunzip(aws.body) == value) << "gunzip of the stored bytes";
  } else {
    EXPECT_EQ(aws.content_encoding, "");
    EXPECT_TRUE(aws.body == value) << "the stored bytes differ";
  }
}

/// A string as a ByteSource of unknown size, as a pipe is.
class PipeLikeSource final : public ByteSource {
 public:
  explicit PipeLikeSource(std::string bytes) : bytes_(std::move(bytes)) {}
  Result<std::size_t> Read(std::span<char> buffer) override {
    const std::size_t n = std::min(buffer.size(), bytes_.size() - offset_);
    std::copy_n(bytes_.data() + offset_, n, buffer.data());
    offset_ += n;
    return n;
  }

 private:
  std::string bytes_;
  std::size_t offset_ = 0;
};

}  // namespace backends::testing

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

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
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
  if (FILE* f = std::fopen(path, "rb")) {
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) {
      answer.body.append(buffer, n);
    }
    std::fclose(f);
  }
  ::unlink(path);
  return answer;
}

/// PUTs `body` to `url` with the curl binary; returns the HTTP status.
inline int CurlPut(const std::string& url, const std::string& body) {
  char path[] = "/tmp/backends-s3-curl-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return -1;
  std::size_t written = 0;
  while (written < body.size()) {
    auto n = ::write(fd, body.data() + written, body.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
  auto result = RunCommand("curl -s -o /dev/null -w '%{http_code}' -T " +
                           ShellQuote(path) + " " + ShellQuote(url));
  ::unlink(path);
  return std::atoi(result.output.c_str());
}

}  // namespace backends::testing

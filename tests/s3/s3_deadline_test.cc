// Deadlines by default (issue 20): a server that dribbles its headers or
// body a few bytes a second (slowloris) never trips the no-progress check,
// so every request has a deadline that grows with the bytes it moves
// (request_timeout + bytes / min_transfer_rate) and the retry budget scales
// the same way. A ScriptedServer on 127.0.0.1 plays the slow server; the
// tests set a deadline of about a second and check that load, load_stream,
// load_to_file, list and the CLI's get and ls end with kDeadlineExceeded
// well within ten times what they should take. Also: GET answers without an
// ETag, and error messages that name their operation once.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

#include "backends/s3.h"
#include "s3/retry.h"
#include "s3_test_env.h"
#include "scripted_server.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr milliseconds kDribble{50};  // 20 bytes a second
constexpr milliseconds kTimeout{1000};

// What a request through the store may take at most here: the budget
// (1 s) plus one attempt's deadline (1 s, checked about once a second),
// times ten for slow (sanitized) builds.
constexpr seconds kBound{30};

int Count(const std::string& text, std::string_view part) {
  int n = 0;
  for (auto at = text.find(part); at != std::string::npos;
       at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

S3Options SlowServerOptions(const ScriptedServer& server) {
  S3Options options;
  options.bucket = "bucket";
  options.region = "us-east-1";
  options.endpoint = server.endpoint();
  options.addressing = S3Addressing::kPathStyle;
  options.access_key_id = "AKIDEXAMPLE";
  options.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  options.check_bucket = false;
  options.request_timeout = kTimeout;  // min_transfer_rate: the default
  options.retry.budget = kTimeout;
  options.retry.base_backoff = milliseconds(1);
  return options;
}

// Headers that never end: one byte of an endless header line at a time.
bool DribbleHeaders(int fd, const std::string&,
                    const std::atomic<bool>& stopping) {
  if (!SendAll(fd, "HTTP/1.1 200 OK\r\nx-slow: ")) return false;
  while (SendSlowly(fd, "a", kDribble, stopping)) {
  }
  return false;
}

// A complete head announcing a megabyte, then the body a byte at a time.
bool DribbleBody(int fd, const std::string&,
                 const std::atomic<bool>& stopping) {
  if (!SendAll(fd,
               "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nETag: "
               "\"e\"\r\nContent-Type: application/xml\r\n\r\n<")) {
    return false;
  }
  while (SendSlowly(fd, "x", kDribble, stopping)) {
  }
  return false;
}

struct SlowCase {
  std::string name;
  ScriptedServer::Respond respond;
};

void PrintTo(const SlowCase& c, std::ostream* os) { *os << c.name; }

class SlowlorisTest : public ::testing::TestWithParam<SlowCase> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, S3Backend::Open(SlowServerOptions(server_)));
    start_ = Clock::now();
  }
  // The status ends the request as a deadline, in bounded time.
  void ExpectDeadline(const Status& status, std::string_view operation) {
    EXPECT_LT(Clock::now() - start_, kBound);
    EXPECT_EQ(status.code(), ErrorCode::kDeadlineExceeded) << status;
    EXPECT_THAT(status.message(), HasSubstr("exceeded its deadline"));
    EXPECT_EQ(Count(status.message(), std::string(operation) + " "), 1)
        << status;
  }

  ScriptedServer server_{GetParam().respond};
  std::unique_ptr<S3Backend> store_;
  Clock::time_point start_;
};

TEST_P(SlowlorisTest, LoadEndsWithDeadlineExceeded) {
  ExpectDeadline(store_->load("k").status(), "load");
}

TEST_P(SlowlorisTest, LoadStreamEndsWithDeadlineExceeded) {
  struct Discard final : ByteSink {
    Status Write(std::string_view) override { return Status::OK(); }
  } sink;
  ExpectDeadline(store_->load_stream("k", sink).status(), "load_stream");
}

TEST_P(SlowlorisTest, LoadToFileEndsWithDeadlineExceeded) {
  ScopedTempDir dir;
  const std::string path = (dir.path() / "out").string();
  ExpectDeadline(store_->load_to_file("k", path).status(), "load_to_file");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_P(SlowlorisTest, ListingEndsWithDeadlineExceeded) {
  ExpectDeadline(store_->keys().status(), "list");
  start_ = Clock::now();
  ExpectDeadline(store_->size().status(), "size");
}

// The deadline does not depend on the retry or stall settings: with one
// attempt and the default stall check (60 s) it still fires.
TEST_P(SlowlorisTest, OneAttemptEndsWithinItsDeadline) {
  S3Options options = SlowServerOptions(server_);
  options.retry.max_attempts = 1;
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  ExpectDeadline(store->load("k").status(), "load");
  EXPECT_EQ(server_.requests(), 1);
}

// The CLI opens stores from URLs: the deadline settings are URL parameters.
TEST_P(SlowlorisTest, CliGetAndLsExitWithTheDeadlineError) {
#ifndef BACKENDS_CLI_PATH
  GTEST_SKIP() << "built without the backends tool";
#else
  const std::string url = "s3://bucket/?endpoint=" + server_.endpoint() +
                          "&region=us-east-1&check_bucket=0&"
                          "request_timeout_ms=1000&retry_budget_ms=1000";
  const std::string env =
      "AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/"
      "K7MDENG/bPxRfiCYEXAMPLEKEY ";
  for (const char* verb : {"get", "ls"}) {
    start_ = Clock::now();
    std::string command = env + ShellQuote(BACKENDS_CLI_PATH) + " " + verb +
                          " " + ShellQuote(url);
    if (std::string_view(verb) == "get") command += " k";
    CommandResult result = RunCommand(command + " 2>&1 >/dev/null");
    EXPECT_LT(Clock::now() - start_, kBound) << verb;
    EXPECT_EQ(result.status, 3) << verb << ": " << result.output;
    EXPECT_THAT(result.output, HasSubstr("exceeded its deadline")) << verb;
  }
#endif
}

INSTANTIATE_TEST_SUITE_P(
    Slow, SlowlorisTest,
    ::testing::Values(SlowCase{"DribbledHeaders", DribbleHeaders},
                      SlowCase{"DribbledBody", DribbleBody}),
    [](const auto& test) { return test.param.name; });

// ---- the rule scales with the bytes moved ----

// A body sent steadily at 50 KB/s takes longer than the bare timeout
// (500 ms) but well within 500 ms + bytes / 10 KB/s: it arrives whole.
TEST(DeadlineTest, ASteadyTransferOutlastsTheBareTimeout) {
  const std::string body(30'000, 'v');
  ScriptedServer server([&](int fd, const std::string&,
                            const std::atomic<bool>& stopping) {
    if (!SendAll(fd,
                 "HTTP/1.1 200 OK\r\nContent-Length: 30000\r\nETag: "
                 "\"e\"\r\n\r\n")) {
      return false;
    }
    for (std::size_t at = 0; at < body.size(); at += 1000) {
      if (stopping || !SendAll(fd, std::string_view(body).substr(at, 1000))) {
        return false;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    return true;
  });
  S3Options options = SlowServerOptions(server);
  options.request_timeout = milliseconds(500);
  options.min_transfer_rate = 10'000;
  options.retry.max_attempts = 1;
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  const auto start = Clock::now();
  EXPECT_THAT(store->load("k"), IsOkAndHolds(body));
  EXPECT_GT(Clock::now() - start, milliseconds(500));
}

TEST(DeadlineTest, DefaultsAndArithmetic) {
  const S3Options defaults;
  EXPECT_EQ(defaults.request_timeout, seconds(30));
  EXPECT_EQ(defaults.min_transfer_rate, 64u << 10);
  EXPECT_EQ(defaults.retry.budget, seconds(120));
  const auto grace = defaults.request_timeout;
  const auto rate = defaults.min_transfer_rate;
  EXPECT_EQ(s3::ScaledDeadline(grace, rate, 0), seconds(30));
  // 1 GiB at 64 KiB/s: 16384 s more.
  EXPECT_EQ(s3::ScaledDeadline(grace, rate, 1ull << 30),
            seconds(30) + seconds(16384));
  // Fractions of a second count: 1000 bytes at 3000 B/s is 333 ms.
  EXPECT_EQ(s3::ScaledDeadline(milliseconds(0), 3000, 1000), milliseconds(333));
  // Rate zero: the grace alone, whatever the size.
  EXPECT_EQ(s3::ScaledDeadline(grace, 0, 1ull << 40), seconds(30));
  // Absurd sizes saturate (a century) instead of overflowing.
  const auto huge = s3::ScaledDeadline(grace, 1, UINT64_MAX);
  EXPECT_GT(huge, std::chrono::hours(24 * 365 * 99));
  EXPECT_EQ(s3::ScaledDeadline(milliseconds::max(), 1, 1), milliseconds::max());
}

TEST(DeadlineTest, RetryBudgetScalesWithTheBytesMoved) {
  std::int64_t now_ms = 0;
  S3RetryOptions retry{
      .max_attempts = 100,
      .budget = milliseconds(1000),
      .base_backoff = milliseconds(0),
      .max_backoff = milliseconds(0),
      .sleep = [](milliseconds) {},
      .now = [&] { return Clock::time_point(milliseconds(now_ms)); }};
  s3::RetryTimer timer(retry, /*min_rate=*/1000);
  now_ms = 999;
  EXPECT_TRUE(timer.WithinBudget(0));
  now_ms = 1500;
  EXPECT_FALSE(timer.WithinBudget(0));
  EXPECT_FALSE(timer.WaitBeforeRetry(0));
  EXPECT_TRUE(timer.WithinBudget(1000));  // 1 s + 1000 B at 1000 B/s
  EXPECT_TRUE(timer.WaitBeforeRetry(1000));
  now_ms = 2000;
  EXPECT_FALSE(timer.WithinBudget(1000));
}

TEST(DeadlineTest, UrlParametersSetAndPrintTheDeadline) {
  ASSERT_OK_AND_ASSIGN(
      Url url, Url::Parse("s3://b/?request_timeout_ms=0&min_transfer_rate="
                          "1000&max_attempts=2&retry_budget_ms=5000"));
  ASSERT_OK_AND_ASSIGN(auto options, S3Options::FromUrl(url));
  EXPECT_EQ(options.request_timeout, milliseconds(0));  // off, as asked
  EXPECT_EQ(options.min_transfer_rate, 1000u);
  EXPECT_EQ(options.retry.max_attempts, 2);
  EXPECT_EQ(options.retry.budget, milliseconds(5000));
  ASSERT_OK_AND_ASSIGN(Url zero, Url::Parse("s3://b/?max_attempts=0"));
  EXPECT_THAT(S3Options::FromUrl(zero), StatusIs(ErrorCode::kInvalidArgument));
  options.endpoint = "http://127.0.0.1:1";
  options.region = "us-east-1";
  options.anonymous = true;
  options.check_bucket = false;
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  EXPECT_THAT(store->url(), AllOf(HasSubstr("request_timeout_ms=0"),
                                  HasSubstr("min_transfer_rate=1000"),
                                  HasSubstr("max_attempts=2"),
                                  HasSubstr("retry_budget_ms=5000")));
  options.request_timeout = S3Options().request_timeout;
  ASSERT_OK_AND_ASSIGN(auto plain, S3Backend::Open(options));
  EXPECT_THAT(plain->url(), Not(HasSubstr("request_timeout_ms")));
}

// ---- GET answers without an ETag, and messages that say things once ----

// Collects what load_stream delivers; fails on demand.
struct Collect final : ByteSink {
  Status Write(std::string_view piece) override {
    if (!fail_with.empty()) return IOError(fail_with);
    bytes += piece;
    return Status::OK();
  }
  std::string bytes;
  std::string fail_with;
};

// Answers every GET with `head` and then `body` (cut at `cut` bytes with a
// close, when set).
ScriptedServer::Respond Answer(std::string head, std::string body,
                               std::size_t cut = std::string::npos) {
  return
      [head, body, cut](int fd, const std::string&, const std::atomic<bool>&) {
        const bool whole = cut >= body.size();
        return SendAll(fd, head + body.substr(0, cut)) && whole;
      };
}

TEST(NoEtagTest, NothingToResumeMeansNoError) {
  ScriptedServer server(
      Answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "hello"));
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(SlowServerOptions(server)));
  Collect sink;
  EXPECT_THAT(store->load_stream("k", sink), IsOkAndHolds(true));
  EXPECT_EQ(sink.bytes, "hello");
  EXPECT_THAT(store->load("k"), IsOkAndHolds(std::string("hello")));
  ScopedTempDir dir;
  const std::string path = (dir.path() / "out").string();
  EXPECT_THAT(store->load_to_file("k", path), IsOkAndHolds(true));
}

TEST(NoEtagTest, AResumeThatNeedsItSaysSo) {
  ScriptedServer server(
      Answer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "0123456789", 4));
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(SlowServerOptions(server)));
  Collect sink;
  Status status = store->load_stream("k", sink).status();
  EXPECT_EQ(status.code(), ErrorCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), AllOf(HasSubstr("cannot resume at byte 4"),
                                      HasSubstr("no ETag")));
  EXPECT_EQ(Count(status.message(), "load_stream"), 1) << status;
  EXPECT_EQ(sink.bytes, "0123");
  EXPECT_EQ(server.requests(), 1);
}

TEST(NoEtagTest, RangedDownloadOfALargeObjectSaysSo) {
  const std::string part(1 << 20, 'p');
  ScriptedServer server(
      Answer("HTTP/1.1 206 Partial Content\r\nContent-Length: 1048576\r\n"
             "Content-Range: bytes 0-1048575/2097152\r\n\r\n",
             part));
  S3Options options = SlowServerOptions(server);
  options.transfer.download_part_size = 1 << 20;
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  ScopedTempDir dir;
  const std::string path = (dir.path() / "out").string();
  EXPECT_THAT(store->load_to_file("k", path),
              StatusIs(ErrorCode::kFailedPrecondition,
                       HasSubstr("the server sent no ETag")));
  EXPECT_FALSE(std::filesystem::exists(path));
}

// Errors raised while an answer streams (a bad Content-Range, a failing
// sink) name the operation and key once, not "load_stream \"k\":
// load_stream \"k\": ...".
TEST(MessageTest, StreamingErrorsNameTheOperationOnce) {
  ScriptedServer server(
      Answer("HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nETag: "
             "\"e\"\r\nContent-Range: bytes 7-11/12\r\n\r\n",
             "hello"));
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(SlowServerOptions(server)));
  Collect sink;
  Status status = store->load_stream("k", sink).status();
  EXPECT_THAT(status.message(), HasSubstr("answered bytes from 7"));
  EXPECT_EQ(Count(status.message(), "load_stream \"k\""), 1) << status;

  ScriptedServer good(Answer(
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"e\"\r\n\r\n", "hello"));
  ASSERT_OK_AND_ASSIGN(store, S3Backend::Open(SlowServerOptions(good)));
  sink.fail_with = "disk full";
  status = store->load_stream("k", sink).status();
  EXPECT_THAT(status, StatusIs(ErrorCode::kIOError,
                               HasSubstr("load_stream \"k\": disk full")));
  EXPECT_EQ(Count(status.message(), "load_stream"), 1) << status;
}

}  // namespace
}  // namespace backends::testing

// Retries under injected faults: a FaultProxy (fault_proxy.h) sits between
// the store and the real S3 server and resets, stalls, truncates or answers
// 5xx by schedule. Below the attempt limit every operation succeeds with
// exactly the right bytes; above it the operation fails with a clear error
// (the last cause's code, the number of attempts) and leaves no object
// behind. A second store talks to the server directly to check what is
// really stored. Backoffs are a few milliseconds, the stall timeout 1 s.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <random>

#include "backends/s3.h"
#include "fault_proxy.h"
#include "s3/curl_transport.h"
#include "s3/retry.h"
#include "s3/s3_client.h"
#include "s3/sigv4.h"
#include "s3_test_env.h"
#include "testutil/fake_clock.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::HasSubstr;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

std::string RandomBytes(std::size_t n, unsigned seed) {
  std::mt19937 random(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(random() & 0xff);
  return out;
}

class S3FaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_ = FaultProxy::ForEndpoint(EnvOr("S3_ENDPOINT"));
    S3Options direct = TestOptions("faults");
    ASSERT_OK_AND_ASSIGN(direct_, S3Backend::Open(direct));
    ASSERT_OK_AND_ASSIGN(store_, OpenThroughProxy(4));
  }
  void TearDown() override {
    proxy_->ClearSchedule();
    if (direct_) {
      BACKENDS_EXPECT_OK(direct_->clear());
    }
  }

  // A store on the same prefix whose requests go through the proxy.
  Result<std::unique_ptr<S3Backend>> OpenThroughProxy(int max_attempts) {
    S3Options options = direct_->options();
    options.endpoint = proxy_->endpoint();
    options.retry.max_attempts = max_attempts;
    options.retry.base_backoff = milliseconds(1);
    options.retry.max_backoff = milliseconds(4);
    options.retry.sleep = [this](milliseconds wait) {
      waits_ += static_cast<int>(wait.count() >= 0);
      std::this_thread::sleep_for(wait);
    };
    options.stall_timeout = std::chrono::seconds(1);
    return S3Backend::Open(options);
  }

  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<S3Backend> direct_;
  std::unique_ptr<S3Backend> store_;
  std::atomic<int> waits_{0};
  const std::string value_ = RandomBytes(64 << 10, 7);
};

// ---- below the limit: every fault kind, on every request kind ----

struct FaultCase {
  std::string name;
  FaultSpec spec;
  int times;  // faults in a row (the store allows 4 attempts)
};
void PrintTo(const FaultCase& c, std::ostream* os) {
  *os << c.name << " x" << c.times;
}

class S3FaultKindsTest : public S3FaultsTest,
                         public ::testing::WithParamInterface<FaultCase> {
 protected:
  void Inject(const std::string& method) {
    FaultSpec spec = GetParam().spec;
    spec.method = method;
    proxy_->Schedule(spec, GetParam().times);
  }
  void ExpectAllInjected() {
    EXPECT_EQ(proxy_->scheduled(), 0u);
    EXPECT_EQ(proxy_->faults(), GetParam().times);
    // One backoff per fault, except where curl itself resent the request
    // at once (a reused connection that died before answering).
    EXPECT_GE(waits_, 1);
    EXPECT_LE(waits_, GetParam().times);
  }
};

TEST_P(S3FaultKindsTest, DumpStoresExactlyTheBytes) {
  Inject("PUT");
  BACKENDS_ASSERT_OK(store_->dump("k", value_));
  ExpectAllInjected();
  ASSERT_OK_AND_ASSIGN(auto stored, direct_->load("k"));
  EXPECT_EQ(stored, value_);
}

TEST_P(S3FaultKindsTest, LoadReturnsExactlyTheBytes) {
  BACKENDS_ASSERT_OK(direct_->dump("k", value_));
  Inject("GET");
  ASSERT_OK_AND_ASSIGN(auto loaded, store_->load("k"));
  ExpectAllInjected();
  EXPECT_EQ(loaded, value_);
}

TEST_P(S3FaultKindsTest, RemoveAndContainsSurvive) {
  BACKENDS_ASSERT_OK(direct_->dump("k", value_));
  Inject("HEAD");
  EXPECT_THAT(store_->contains("k"), IsOkAndHolds(true));
  ExpectAllInjected();
  proxy_->Schedule({.fault = GetParam().spec.fault,
                    .status = GetParam().spec.status,
                    .bytes = GetParam().spec.bytes,
                    .method = "DELETE"},
                   GetParam().times);
  EXPECT_THAT(store_->remove("k"), IsOkAndHolds(true));
  EXPECT_EQ(proxy_->scheduled(), 0u);
  EXPECT_THAT(direct_->contains("k"), IsOkAndHolds(false));
}

TEST_P(S3FaultKindsTest, ListAndClearSurvive) {
  BACKENDS_ASSERT_OK(direct_->dump("a", "1"));
  BACKENDS_ASSERT_OK(direct_->dump("b", "2"));
  Inject("GET");
  EXPECT_THAT(store_->list(""),
              IsOkAndHolds(std::vector<std::string>{"a", "b"}));
  ExpectAllInjected();
  Inject("POST");  // DeleteObjects is safe to repeat
  BACKENDS_ASSERT_OK(store_->clear());
  EXPECT_EQ(proxy_->scheduled(), 0u);
  EXPECT_THAT(direct_->size(), IsOkAndHolds(0u));
}

INSTANTIATE_TEST_SUITE_P(
    Faults, S3FaultKindsTest,
    ::testing::Values(
        FaultCase{"SlowDown503", {.fault = Fault::kStatus, .status = 503}, 3},
        FaultCase{"Internal500", {.fault = Fault::kStatus, .status = 500}, 3},
        FaultCase{"BadGateway502", {.fault = Fault::kStatus, .status = 502}, 3},
        FaultCase{"Timeout504", {.fault = Fault::kStatus, .status = 504}, 3},
        FaultCase{"TooMany429", {.fault = Fault::kStatus, .status = 429}, 3},
        FaultCase{
            "ResetBeforeForward", {.fault = Fault::kResetBeforeForward}, 3},
        FaultCase{"ResetDuringUpload",
                  {.fault = Fault::kResetDuringUpload, .bytes = 1000},
                  3},
        FaultCase{"AnswerLost", {.fault = Fault::kResetAfterForward}, 3},
        FaultCase{"ResetMidBody",
                  {.fault = Fault::kResetAfterBytes, .bytes = 1000},
                  3},
        FaultCase{"TruncatedBody", {.fault = Fault::kTruncate, .bytes = 1}, 3},
        FaultCase{"Stall", {.fault = Fault::kStall, .bytes = 0}, 1}),
    [](const auto& test) { return test.param.name; });

// ---- above the limit: a clear error, nothing half-written ----

// curl resends a request by itself when a reused connection dies before
// answering, so a reset may cost no attempt of ours: schedule plenty.
constexpr int kMoreThanAttempts = 8;

TEST_F(S3FaultsTest, UploadCutEveryTimeFailsAndWritesNothing) {
  proxy_->Schedule({.fault = Fault::kResetDuringUpload,
                    .bytes = value_.size() / 2,
                    .method = "PUT"},
                   kMoreThanAttempts);
  Status status = store_->dump("k", value_);
  EXPECT_EQ(status.code(), ErrorCode::kUnavailable) << status;
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("dump \"k\""), HasSubstr("4 attempts")));
  EXPECT_THAT(direct_->load("k"), IsOkAndHolds(std::nullopt));
}

TEST_F(S3FaultsTest, PersistentSlowDownNamesTheCauseAndTheAttempts) {
  proxy_->Schedule({.fault = Fault::kStatus, .status = 503, .method = "PUT"},
                   4);
  Status status = store_->dump("k", value_);
  EXPECT_EQ(status.code(), ErrorCode::kUnavailable) << status;
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("dump \"k\""), HasSubstr("503"),
                    HasSubstr("SlowDown"), HasSubstr("4 attempts")));
  EXPECT_EQ(proxy_->faults(), 4);
  EXPECT_THAT(direct_->load("k"), IsOkAndHolds(std::nullopt));
}

TEST_F(S3FaultsTest, TruncatedEveryTimeFailsTheLoad) {
  BACKENDS_ASSERT_OK(direct_->dump("k", value_));
  proxy_->Schedule({.fault = Fault::kTruncate, .bytes = 100, .method = "GET"},
                   kMoreThanAttempts);
  auto loaded = store_->load("k");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(loaded.status().message(), HasSubstr("4 attempts"));
}

TEST_F(S3FaultsTest, StalledEveryTimeIsADeadlineError) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenThroughProxy(2));
  BACKENDS_ASSERT_OK(direct_->dump("k", value_));
  proxy_->Schedule({.fault = Fault::kStall, .bytes = 0, .method = "GET"}, 2);
  auto loaded = store->load("k");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), ErrorCode::kDeadlineExceeded)
      << loaded.status();
  EXPECT_THAT(loaded.status().message(),
              AllOf(HasSubstr("load \"k\""), HasSubstr("2 attempts")));
}

TEST_F(S3FaultsTest, RetriesDisabledMeansOneAttempt) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenThroughProxy(1));
  proxy_->Schedule({.fault = Fault::kStatus, .status = 503, .method = "PUT"},
                   2);
  Status status = store->dump("k", value_);
  EXPECT_EQ(status.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(proxy_->faults(), 1);
  EXPECT_EQ(proxy_->scheduled(), 1u);
}

// A create-only PUT whose answer is lost: the retry meets its own object
// (412), recognises it by its write id and reports success.
TEST_F(S3FaultsTest, CreateOnlyWriteWhoseAnswerWasLostSucceeds) {
  proxy_->Schedule({.fault = Fault::kResetAfterForward, .method = "PUT"});
  auto put = store_->put("k", value_, {.if_absent = true});
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(proxy_->faults(), 1);
  EXPECT_EQ(put->etag, s3::SinglePartEtag(value_));
  EXPECT_THAT(direct_->load("k"), IsOkAndHolds(value_));
  // Another create-only write of other bytes is refused.
  EXPECT_EQ(store_->put("k", "other", {.if_absent = true}).status().code(),
            ErrorCode::kAlreadyExists);
}

// ---- the policy itself ----

// The budget stops retrying, measured on an injected monotonic clock that
// only the (fake) waits move: no real waiting.
TEST_F(S3FaultsTest, TimeBudgetEndsTheRetries) {
  auto now = std::make_shared<std::atomic<std::int64_t>>(0);
  S3Options options = direct_->options();
  options.endpoint = proxy_->endpoint();
  options.retry = {.max_attempts = 1000,
                   .budget = milliseconds(1000),
                   .base_backoff = milliseconds(100),
                   .max_backoff = milliseconds(100),
                   .sleep = [now](milliseconds wait) { *now += wait.count(); },
                   .now =
                       [now] {
                         return std::chrono::steady_clock::time_point(
                             milliseconds(now->load()));
                       }};
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  proxy_->Schedule({.fault = Fault::kStatus, .status = 503, .method = "GET"},
                   1000);
  auto loaded = store->load("k");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(loaded.status().message(), HasSubstr("gave up after"));
  EXPECT_LT(now->load(), 1000);  // never waits past the budget
  EXPECT_GT(proxy_->scheduled(), 0u);
  EXPECT_EQ(static_cast<std::size_t>(proxy_->faults()) + proxy_->scheduled(),
            1000u);
}

TEST(RetryPolicyTest, FullJitterStaysUnderTheExponentialCeiling) {
  S3RetryOptions options{.base_backoff = milliseconds(10),
                         .max_backoff = milliseconds(300)};
  for (int attempt = 1; attempt <= 12; ++attempt) {
    const std::int64_t ceiling =
        std::min<std::int64_t>(300, 10ll << (attempt - 1));
    std::int64_t largest = 0;
    for (int i = 0; i < 400; ++i) {
      auto wait = s3::FullJitterBackoff(options, attempt).count();
      ASSERT_GE(wait, 0);
      ASSERT_LE(wait, ceiling) << "attempt " << attempt;
      largest = std::max(largest, wait);
    }
    // Uniform over [0, ceiling]: 400 draws all in the lower half would be
    // a broken distribution (chance 2^-400).
    EXPECT_GT(largest, ceiling / 2) << "attempt " << attempt;
  }
}

TEST(RetryPolicyTest, OnlyRequestsSafeToRepeat) {
  EXPECT_TRUE(s3::IsRepeatable("GET", {}));
  EXPECT_TRUE(s3::IsRepeatable("HEAD", {}));
  EXPECT_TRUE(s3::IsRepeatable("PUT", {}));
  EXPECT_TRUE(s3::IsRepeatable("DELETE", {}));
  EXPECT_TRUE(s3::IsRepeatable("POST", {{"delete", ""}}));
  EXPECT_FALSE(s3::IsRepeatable("POST", {{"uploads", ""}}));
  EXPECT_FALSE(s3::IsRepeatable("POST", {{"uploadId", "x"}}));
  EXPECT_TRUE(s3::IsRetryableAnswer(503, ""));
  EXPECT_TRUE(
      s3::IsRetryableAnswer(400, "<Error><Code>RequestTimeout</Code></Error>"));
  EXPECT_FALSE(s3::IsRetryableAnswer(400, "<Error><Code>Bad</Code></Error>"));
  EXPECT_FALSE(s3::IsRetryableAnswer(404, ""));
  EXPECT_FALSE(s3::IsRetryableAnswer(412, ""));
}

// A non-repeatable request through the client is sent once even when the
// answer is retryable; the answer is returned as is.
TEST_F(S3FaultsTest, NonRepeatablePostIsSentOnce) {
  auto endpoint = proxy_->endpoint();
  s3::S3Client client(
      {.scheme = "http",
       .authority = endpoint.substr(7),
       .bucket = EnvOr("S3_BUCKET"),
       .region = EnvOr("AWS_DEFAULT_REGION")},
      [] {
        return Result<s3::Credentials>(s3::Credentials{
            .access_key_id = EnvOr("AWS_ACCESS_KEY_ID"),
            .secret_access_key = EnvOr("AWS_SECRET_ACCESS_KEY")});
      },
      s3::NewCurlTransport({}), DefaultClock(),
      S3RetryOptions{.max_attempts = 5, .base_backoff = milliseconds(1)});
  proxy_->Schedule({.fault = Fault::kStatus, .status = 503}, 2);
  const int before = proxy_->requests();
  ASSERT_OK_AND_ASSIGN(
      auto response,
      client.Send({.method = "POST", .key = "k", .query = {{"uploads", ""}}},
                  "start upload"));
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(proxy_->requests() - before, 1);
}

// Each attempt is signed afresh: a retry made later carries a later date.
class FlakyTransport final : public s3::HttpTransport {
 public:
  Result<s3::HttpResponse> Send(const s3::HttpRequest& request,
                                std::string_view) override {
    for (const auto& [name, value] : request.headers) {
      if (name == "x-amz-date" || name == "X-Amz-Date") dates.push_back(value);
    }
    if (dates.size() == 1) return UnavailableError("connection reset");
    return s3::HttpResponse{.status = 200};
  }
  std::vector<std::string> dates;
};

TEST(RetrySigningTest, EachAttemptIsSignedWithAFreshDate) {
  auto clock = std::make_shared<FakeClock>();
  auto transport = std::make_unique<FlakyTransport>();
  auto* flaky = transport.get();
  s3::S3Client client(
      {.scheme = "http",
       .authority = "127.0.0.1:9",
       .bucket = "b",
       .region = "us-east-1"},
      [] {
        return Result<s3::Credentials>(s3::Credentials{
            .access_key_id = "AKIDEXAMPLE", .secret_access_key = "secret123"});
      },
      std::move(transport), clock,
      S3RetryOptions{.max_attempts = 3, .sleep = [clock](milliseconds) {
                       clock->Advance(std::chrono::seconds(5));
                     }});
  ASSERT_OK_AND_ASSIGN(auto response,
                       client.Send({.method = "GET", .key = "k"}, "load"));
  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(flaky->dates.size(), 2u);
  EXPECT_NE(flaky->dates[0], flaky->dates[1]);
}

}  // namespace
}  // namespace backends::testing

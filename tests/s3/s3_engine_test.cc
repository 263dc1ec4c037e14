// The transfer engine: many requests through one curl multi loop, batches
// on a bounded number of threads, per-key errors, deadlines and stalls
// enforced inside the loop, a transport destroyed with requests in flight,
// and the transfer parameters of s3:// URLs.

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "backends/s3.h"
#include "fault_proxy.h"
#include "loopback.h"
#include "s3/curl_transport.h"
#include "s3_test_env.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

// Threads of this process now.
int CountThreads() {
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int n = 0;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n;
}

// Samples CountThreads() on its own thread until destroyed; max() excludes
// the sampler itself.
class ThreadPeak {
 public:
  ThreadPeak()
      : sampler_([this] {
          while (!stop_) {
            peak_ = std::max(peak_.load(), CountThreads() - 1);
            std::this_thread::yield();
          }
        }) {}
  ~ThreadPeak() { Stop(); }
  int Stop() {
    stop_ = true;
    if (sampler_.joinable()) sampler_.join();
    return peak_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> peak_{0};
  std::thread sampler_;
};

std::vector<std::pair<std::string, std::string>> Items(int n) {
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < n; ++i) {
    items.emplace_back("e/" + std::to_string(i),
                       std::string(1024, static_cast<char>('a' + i % 26)));
  }
  return items;
}

std::vector<std::string> Keys(
    const std::vector<std::pair<std::string, std::string>>& items) {
  std::vector<std::string> keys;
  for (const auto& item : items) keys.push_back(item.first);
  return keys;
}

class S3EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, S3Backend::Open(TestOptions("engine")));
  }
  void TearDown() override {
    if (store_) {
      BACKENDS_EXPECT_OK(store_->clear());
    }
  }
  // A store of the same folder through `proxy`.
  std::unique_ptr<S3Backend> Through(const FaultProxy& proxy,
                                     S3Options options) {
    options.endpoint = proxy.endpoint();
    auto store = S3Backend::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  std::unique_ptr<S3Backend> store_;
};

// A batch of 128 keeps 16 requests in flight with no thread per request:
// the caller signs and collects, the store's loop thread moves the bytes.
TEST_F(S3EngineTest, Batch128RunsOnTheCallerAndTheLoopThread) {
  auto items = Items(128);
  const int before = CountThreads();
  ThreadPeak peak;
  for (const auto& status : store_->dump_many(items)) {
    BACKENDS_EXPECT_OK(status);
  }
  for (const auto& result : store_->load_many(Keys(items))) {
    EXPECT_TRUE(result.ok() && result->has_value()) << result.status();
  }
  // The store's loop thread existed before; nothing else may appear but a
  // short-lived helper of curl's (e.g. a resolver thread).
  EXPECT_LE(peak.Stop() - before, 1);
}

// One transport, many requests at once through its one loop: every one is
// answered, whatever the interleaving.
TEST_F(S3EngineTest, ManyConcurrentRequestsThroughOneLoop) {
  auto transport = s3::NewCurlTransport({});
  const std::string url = EnvOr("S3_ENDPOINT") + "/";
  constexpr int kRequests = 200;
  std::mutex mutex;
  std::condition_variable all_done;
  int answered = 0, failed = 0;
  s3::HttpRequest request{.method = "GET", .url = url};
  const int before = CountThreads();
  for (int i = 0; i < kRequests; ++i) {
    transport->Start(request, "engine test",
                     [&](Result<s3::HttpResponse> response) {
                       std::scoped_lock lock(mutex);
                       if (response.ok() && response->status > 0) {
                         ++answered;
                       } else {
                         ++failed;
                       }
                       all_done.notify_one();
                     });
  }
  EXPECT_LE(CountThreads() - before, 1);  // no thread per request
  std::unique_lock lock(mutex);
  all_done.wait(lock, [&] { return answered + failed == kRequests; });
  EXPECT_EQ(answered, kRequests);
  // Synchronous sends from several threads share the same loop.
  lock.unlock();
  std::vector<std::thread> senders;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    senders.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto response = transport->Send(request, "engine test");
        if (response.ok() && response->status > 0) ++ok;
      }
    });
  }
  for (auto& sender : senders) sender.join();
  EXPECT_EQ(ok.load(), 80);
}

// Faults on some requests of a batch become those keys' errors; the other
// keys succeed.
TEST_F(S3EngineTest, BatchWithFailingKeysGetsPerKeyErrors) {
  auto items = Items(24);
  for (const auto& status : store_->dump_many(items)) {
    BACKENDS_ASSERT_OK(status);
  }
  auto proxy = FaultProxy::ForEndpoint(EnvOr("S3_ENDPOINT"));
  S3Options options = store_->options();
  options.retry.max_attempts = 1;
  auto store = Through(*proxy, options);
  ASSERT_NE(store, nullptr);
  proxy->Schedule({.fault = Fault::kStatus, .status = 403, .method = "GET"}, 5);
  auto keys = Keys(items);
  keys.push_back(std::string("bad\x01", 4));
  auto loaded = store->load_many(keys);
  ASSERT_EQ(loaded.size(), keys.size());
  int failed = 0, fine = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (loaded[i].ok()) {
      EXPECT_EQ(loaded[i]->value_or(""), items[i].second) << i;
      ++fine;
    } else {
      EXPECT_EQ(loaded[i].status().code(), ErrorCode::kUnavailable)
          << loaded[i].status();
      EXPECT_THAT(loaded[i].status().message(), HasSubstr(items[i].first));
      ++failed;
    }
  }
  EXPECT_EQ(failed, 5);
  EXPECT_EQ(fine, 19);
  EXPECT_THAT(loaded.back(), StatusIs(ErrorCode::kInvalidArgument));

  // The same faults, retried: every key gets through, each on its own.
  options.retry.max_attempts = 3;
  options.retry.base_backoff = std::chrono::milliseconds(1);
  auto retrying = Through(*proxy, options);
  ASSERT_NE(retrying, nullptr);
  proxy->Schedule({.fault = Fault::kStatus, .status = 503, .method = "GET"}, 5);
  keys.pop_back();
  for (const auto& result : retrying->load_many(keys)) {
    EXPECT_TRUE(result.ok() && result->has_value()) << result.status();
  }
}

// A stalled answer inside a batch ends with kDeadlineExceeded from the loop
// (the deadline, then the stall timeout) while the other keys succeed.
TEST_F(S3EngineTest, DeadlineAndStallAreEnforcedInTheLoop) {
  auto items = Items(6);
  for (const auto& status : store_->dump_many(items)) {
    BACKENDS_ASSERT_OK(status);
  }
  auto proxy = FaultProxy::ForEndpoint(EnvOr("S3_ENDPOINT"));
  S3Options options = store_->options();
  options.retry.max_attempts = 1;
  options.request_timeout = std::chrono::milliseconds(1000);
  auto store = Through(*proxy, options);
  ASSERT_NE(store, nullptr);
  proxy->Schedule({.fault = Fault::kStall, .bytes = 10, .method = "GET"});
  auto loaded = store->load_many(Keys(items));
  int timed_out = 0;
  for (const auto& result : loaded) {
    if (!result.ok()) {
      EXPECT_EQ(result.status().code(), ErrorCode::kDeadlineExceeded);
      ++timed_out;
    }
  }
  EXPECT_EQ(timed_out, 1);

  // No request deadline: the stall timeout ends it.
  options.request_timeout = std::chrono::milliseconds(0);
  options.stall_timeout = std::chrono::seconds(1);
  auto stalling = Through(*proxy, options);
  ASSERT_NE(stalling, nullptr);
  proxy->Schedule({.fault = Fault::kStall, .bytes = 0, .method = "GET"});
  EXPECT_THAT(stalling->load(items[0].first),
              StatusIs(ErrorCode::kDeadlineExceeded));
}

// Destroying a transport whose requests never get an answer completes each
// of them with an error, and returns.
TEST(CurlEngineTest, DestroyedWithRequestsInFlightCompletesThem) {
  int port = 0;
  const int listener = ListenOnLoopback(&port);  // accepts, never answers
  ASSERT_GE(listener, 0);
  std::atomic<int> completed{0};
  std::atomic<int> errors{0};
  {
    auto transport = s3::NewCurlTransport({});
    s3::HttpRequest request{.method = "GET",
                            .url = "http://127.0.0.1:" + std::to_string(port)};
    for (int i = 0; i < 8; ++i) {
      transport->Start(request, "silent", [&](Result<s3::HttpResponse> r) {
        if (!r.ok()) ++errors;
        ++completed;
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(completed.load(), 8);
  EXPECT_EQ(errors.load(), 8);
  ::close(listener);
}

TEST(S3EngineUrlTest, TransferParametersRoundTripThroughUrl) {
  ASSERT_OK_AND_ASSIGN(
      Url url, Url::Parse("s3://b/p?connections=64&stall_timeout=5&"
                          "part_size=16777216&multipart_threshold=1048576&"
                          "parallel_parts=8&download_part_size=2097152"));
  ASSERT_OK_AND_ASSIGN(auto options, S3Options::FromUrl(url));
  EXPECT_EQ(options.connections, 64u);
  EXPECT_EQ(options.stall_timeout, std::chrono::seconds(5));
  EXPECT_EQ(options.transfer.part_size, 16u << 20);
  EXPECT_EQ(options.transfer.multipart_threshold, 1u << 20);
  EXPECT_EQ(options.transfer.parallel_parts, 8u);
  EXPECT_EQ(options.transfer.download_part_size, 2u << 20);
  options.endpoint = "http://127.0.0.1:1";
  options.region = "us-east-1";
  options.anonymous = true;
  options.check_bucket = false;
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  const std::string printed = store->url();
  EXPECT_THAT(printed,
              AllOf(HasSubstr("connections=64"), HasSubstr("stall_timeout=5"),
                    HasSubstr("part_size=16777216"),
                    HasSubstr("multipart_threshold=1048576"),
                    HasSubstr("parallel_parts=8"),
                    HasSubstr("download_part_size=2097152")));
  ASSERT_OK_AND_ASSIGN(Url again, Url::Parse(printed));
  ASSERT_OK_AND_ASSIGN(auto reopened, S3Options::FromUrl(again));
  EXPECT_EQ(reopened.connections, 64u);
  EXPECT_EQ(reopened.transfer.download_part_size, 2u << 20);

  ASSERT_OK_AND_ASSIGN(
      auto plain, S3Backend::Open(S3Options{.bucket = "b",
                                            .region = "us-east-1",
                                            .endpoint = "http://127.0.0.1:1",
                                            .anonymous = true,
                                            .check_bucket = false}));
  for (const char* name :
       {"connections", "stall_timeout", "part_size", "multipart_threshold",
        "parallel_parts", "download_part_size"}) {
    EXPECT_THAT(plain->url(), Not(HasSubstr(std::string(name) + "=")));
  }
}

TEST(S3EngineUrlTest, BadTransferParametersAreRejectedByName) {
  for (const char* query :
       {"connections=0", "connections=x", "connections=-1",
        "connections=100000", "stall_timeout=0", "part_size=1024",
        "part_size=6000000000", "multipart_threshold=9999999999",
        "parallel_parts=0", "download_part_size=10", "connection=4"}) {
    ASSERT_OK_AND_ASSIGN(Url url, Url::Parse(std::string("s3://b/?") + query));
    auto options = S3Options::FromUrl(url);
    const std::string name =
        std::string(query).substr(0, std::string(query).find('='));
    EXPECT_THAT(options, StatusIs(ErrorCode::kInvalidArgument)) << query;
    EXPECT_THAT(options.status().message(), HasSubstr(name)) << query;
  }
}

}  // namespace
}  // namespace backends::testing

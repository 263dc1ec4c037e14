// S3Backend against the raw HTTP it must do, on the same radosgw, in the
// same process, repetitions interleaved at random:
// - sequential 1 KiB PUT/GET: ours (dump/load) vs one libcurl easy handle
//   (keep-alive) sending the same requests;
// - 16-way 1 KiB PUT/GET: ours (16 threads sharing one store; and the batch
//   API dump_many/load_many) vs curl multi with 16 easy handles, presigned
//   and, for the batches, header-signed per request with our SigV4 code
//   (the same work a batch does; process CPU time on both sides);
// - 1 MiB GET: ours vs the raw loop against radosgw, and both against nginx
//   on loopback serving the same bytes (the ceiling for GETs); 1 KiB PUTs to
//   an nginx location that discards them (the ceiling for PUTs);
// - ranges: load_range of 4 KiB at random offsets of a 1 GiB object vs the
//   same ranged GET (Range header) through one libcurl easy handle;
// - bulk: 1000 x 1 KiB up and down with 16 threads (the peers, awscli and
//   rclone, run from bench/s3_peers.py against the same server).
//
// The raw requests are signed in advance with presigned URLs made by the
// store (presign(), SigV4 query signing, UNSIGNED-PAYLOAD): the raw loops do
// no signing work at all, so they are a floor for the client, not a peer.
//
// Environment: S3_ENDPOINT, S3_BUCKET, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION (scripts/s3-server.sh env);
// BENCH_NGINX_PORT (nginx started by scripts/bench.sh; without it the nginx
// benchmarks report an error and the table says "not run").

#include <benchmark/benchmark.h>
#include <curl/curl.h>

#include <cstring>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backends/s3.h"
#include "bench_util.h"
#include "s3/sigv4.h"

namespace backends::bench {
namespace {

constexpr std::size_t kKeys = 128;  // 16 handles x 8 requests.
constexpr int kParallel = 16;
constexpr std::size_t kBulk = 1000;
constexpr std::size_t kSmall = 1024;
constexpr std::size_t kLarge = 1 << 20;

std::string Env(const char* name, const char* fallback = nullptr) {
  const char* value = std::getenv(name);
  if (value && *value) return value;
  if (fallback) return fallback;
  Die(std::string("environment variable ") + name +
      " is not set (run through scripts/bench.sh)");
}

S3Options BaseOptions(const std::string& endpoint) {
  S3Options options;
  options.endpoint = endpoint;
  options.bucket = Env("S3_BUCKET", "testbucket");
  options.region = Env("AWS_DEFAULT_REGION", "us-east-1");
  options.addressing = S3Addressing::kPathStyle;
  options.access_key_id = Env("AWS_ACCESS_KEY_ID");
  options.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
  options.connections = kParallel;
  return options;
}

size_t Append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// One easy handle set up for a keep-alive request loop.
class Easy {
 public:
  Easy() : curl_(curl_easy_init()) {
    if (!curl_) Die("curl_easy_init");
    headers_ = curl_slist_append(nullptr, "Expect:");
    headers_ = curl_slist_append(headers_, "Content-Type:");
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Append);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body_);
    curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  }
  ~Easy() {
    curl_easy_cleanup(curl_);
    curl_slist_free_all(headers_);
  }
  Easy(const Easy&) = delete;
  Easy& operator=(const Easy&) = delete;

  // Sets up a GET (put == nullptr) or a PUT of `*put` to `url`.
  void Prepare(const std::string& url, const std::string* put) {
    body_.clear();
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    if (put) {
      curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, "PUT");
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(put->size()));
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, put->data());
    } else {
      curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, nullptr);
    }
  }
  // After a transfer: dies unless it answered 2xx with `expect` bytes
  // (expect == npos: any body).
  void Verify(CURLcode code, std::size_t expect) {
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK || status / 100 != 2 ||
        (expect != std::string::npos && body_.size() != expect)) {
      Die("raw curl request: " + std::string(curl_easy_strerror(code)) +
          ", HTTP " + std::to_string(status) + ", " +
          std::to_string(body_.size()) + " bytes");
    }
  }
  // A Range header ("first-last") for the next GETs; nullptr: none.
  void SetRange(const char* range) {
    curl_easy_setopt(curl_, CURLOPT_RANGE, range);
  }
  void Run(const std::string& url, const std::string* put, std::size_t expect) {
    Prepare(url, put);
    Verify(curl_easy_perform(curl_), expect);
  }
  // Signs every request in the header with libcurl's own SigV4
  // (CURLOPT_AWS_SIGV4), as our client does, instead of presigned URLs.
  void SignWithSigV4(const std::string& access_key, const std::string& secret,
                     const std::string& region) {
    sigv4_ = "aws:amz:" + region + ":s3";
    userpwd_ = access_key + ":" + secret;
    curl_easy_setopt(curl_, CURLOPT_AWS_SIGV4, sigv4_.c_str());
    curl_easy_setopt(curl_, CURLOPT_USERPWD, userpwd_.c_str());
    // libcurl 7.88 does not add the payload hash S3 requires: the empty
    // body's SHA-256, as our client sends for a GET.
    // For GETs only: a fresh header list, since libcurl would sign the
    // "Expect:" and "Content-Type:" removals as empty headers.
    curl_slist_free_all(headers_);
    headers_ = curl_slist_append(
        nullptr,
        "x-amz-content-sha256: "
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
  }
  // Replaces the request headers: `signed_headers`, plus the removals of
  // Expect and of curl's default Content-Type (unsigned, like ours).
  void SetHeaders(
      const std::vector<std::pair<std::string, std::string>>& signed_headers) {
    curl_slist_free_all(headers_);
    headers_ = curl_slist_append(nullptr, "Expect:");
    headers_ = curl_slist_append(headers_, "Content-Type:");
    for (const auto& [name, value] : signed_headers) {
      headers_ = curl_slist_append(headers_, (name + ": " + value).c_str());
    }
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
  }
  CURL* get() { return curl_; }

 private:
  CURL* curl_;
  curl_slist* headers_;
  std::string body_;
  std::string sigv4_, userpwd_;
};

// 16 easy handles in one multi handle; each sends `per_handle` requests in
// turn, the 16 in parallel. Connections stay in the multi's cache.
class Multi {
 public:
  Multi() : multi_(curl_multi_init()), easy_(kParallel) {}
  ~Multi() { curl_multi_cleanup(multi_); }
  Multi(const Multi&) = delete;
  Multi& operator=(const Multi&) = delete;

  // `sign`, if set, signs request `index` on its handle after Prepare.
  using Signer = std::function<void(Easy& easy, std::size_t index)>;
  void Run(const std::vector<std::string>& urls, const std::string* put,
           std::size_t expect, int per_handle, const Signer& sign = {}) {
    std::vector<int> done(kParallel, 0);
    auto start = [&](int h) {
      const std::size_t index = (h * per_handle + done[h]) % urls.size();
      easy_[h].Prepare(urls[index], put);
      if (sign) sign(easy_[h], index);
      curl_easy_setopt(easy_[h].get(), CURLOPT_PRIVATE,
                       reinterpret_cast<void*>(static_cast<intptr_t>(h)));
      curl_multi_add_handle(multi_, easy_[h].get());
    };
    for (int h = 0; h < kParallel; ++h) start(h);
    int running = kParallel;
    while (running > 0) {
      curl_multi_perform(multi_, &running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        void* priv = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        int h = static_cast<int>(reinterpret_cast<intptr_t>(priv));
        CURLcode code = msg->data.result;
        curl_multi_remove_handle(multi_, msg->easy_handle);
        easy_[h].Verify(code, expect);
        if (++done[h] < per_handle) {
          start(h);
          ++running;
        }
      }
      if (running > 0) curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
  }

 private:
  CURLM* multi_;
  std::vector<Easy> easy_;
};

// The stores, presigned URLs and values, made once.
struct Fixture {
  std::string small = MakeBytes(kSmall, 3);
  std::string large = MakeBytes(kLarge, 4);
  std::unique_ptr<S3Backend> store;
  std::vector<std::string> keys;  // kKeys small values.
  std::vector<std::string> get_urls, put_urls;
  std::string large_url;
  std::string plain_base;  // Unsigned: endpoint/bucket/bench/.
  // nginx on loopback: the same bytes at the same paths.
  std::unique_ptr<S3Backend> nginx_store;
  std::string nginx_small_url, nginx_large_url, nginx_put_url;
  std::string nginx_error;

  Fixture() {
    S3Options options = BaseOptions(Env("S3_ENDPOINT"));
    options.prefix = "bench/";
    store = Check(S3Backend::Open(options), "open the S3 store");
    for (std::size_t i = 0; i < kKeys; ++i) {
      keys.push_back(KeyName(i));
      Check(store->dump(keys.back(), small), "put a small value");
      get_urls.push_back(
          Check(store->presign(keys.back(), std::chrono::hours(2),
                               S3PresignMethod::kGet),
                "presign GET"));
      put_urls.push_back(
          Check(store->presign(keys.back(), std::chrono::hours(2),
                               S3PresignMethod::kPut),
                "presign PUT"));
    }
    Check(store->dump("large", large), "put the 1 MiB value");
    plain_base =
        Env("S3_ENDPOINT") + "/" + Env("S3_BUCKET", "testbucket") + "/bench/";
    large_url = Check(
        store->presign("large", std::chrono::hours(2), S3PresignMethod::kGet),
        "presign GET large");

    const char* port = std::getenv("BENCH_NGINX_PORT");
    if (!port || !*port) {
      nginx_error = "BENCH_NGINX_PORT not set (nginx not started)";
      return;
    }
    std::string endpoint = std::string("http://127.0.0.1:") + port;
    // bench.sh's nginx serves <root>/<bucket>/bench/{k000000,large} with
    // these bytes and discards PUTs: the paths our store asks for.
    std::string base =
        endpoint + "/" + Env("S3_BUCKET", "testbucket") + "/bench/";
    nginx_small_url = base + KeyName(0);
    nginx_large_url = base + "large";
    nginx_put_url = base + "put";
    options = BaseOptions(endpoint);
    options.prefix = "bench/";
    options.check_bucket = false;
    options.retry.max_attempts = 1;
    auto opened = S3Backend::Open(options);
    if (!opened.ok()) {
      nginx_error = "open against nginx: " + opened.status().ToString();
      return;
    }
    nginx_store = *std::move(opened);
  }
  static Fixture& Get() {
    static Fixture fixture;
    return fixture;
  }
};

void Count(benchmark::State& state, std::size_t requests, std::size_t size) {
  state.SetItemsProcessed(state.iterations() * requests);
  state.SetBytesProcessed(state.iterations() * requests * size);
}

// --- sequential 1 KiB ---------------------------------------------------

void BM_PutOurs(benchmark::State& state) {
  auto& f = Fixture::Get();
  std::size_t i = 0;
  for (auto _ : state) {
    Check(f.store->dump(f.keys[i++ % kKeys], f.small), "dump");
  }
  Count(state, 1, kSmall);
}

void BM_PutRaw(benchmark::State& state) {
  auto& f = Fixture::Get();
  Easy easy;
  std::size_t i = 0;
  for (auto _ : state) easy.Run(f.put_urls[i++ % kKeys], &f.small, 0);
  Count(state, 1, kSmall);
}

void BM_GetOurs(benchmark::State& state) {
  auto& f = Fixture::Get();
  std::size_t i = 0;
  for (auto _ : state) {
    auto value = Check(f.store->load(f.keys[i++ % kKeys]), "load");
    if (!value || value->size() != kSmall) Die("load: wrong value");
  }
  Count(state, 1, kSmall);
}

void BM_GetRaw(benchmark::State& state) {
  auto& f = Fixture::Get();
  Easy easy;
  std::size_t i = 0;
  for (auto _ : state) easy.Run(f.get_urls[i++ % kKeys], nullptr, kSmall);
  Count(state, 1, kSmall);
}

BENCHMARK(BM_PutOurs)->Name("s3/put/ours/1024")->UseRealTime();
BENCHMARK(BM_PutRaw)->Name("s3/put/raw/1024")->UseRealTime();
BENCHMARK(BM_GetOurs)->Name("s3/get/ours/1024")->UseRealTime();
BENCHMARK(BM_GetRaw)->Name("s3/get/raw/1024")->UseRealTime();

// --- 16-way 1 KiB: one iteration = 128 requests -----------------------

constexpr int kPerHandle = kKeys / kParallel;

// Threads of this process now (the batch rows report it: the caller, the
// store's loop thread and Google Benchmark's own).
int CountThreads() {
  int n = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    (void)entry;
    ++n;
  }
  return n;
}

// Context switches (voluntary and not) of the process so far: what the
// engine's hand-offs between the caller and the loop thread cost.
double ContextSwitches() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_nvcsw + usage.ru_nivcsw);
}

template <bool kPut>
void BM_ParallelOursThreads(benchmark::State& state) {
  auto& f = Fixture::Get();
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kParallel; ++t) {
      threads.emplace_back([&f, t] {
        for (int r = 0; r < kPerHandle; ++r) {
          const std::string& key = f.keys[t * kPerHandle + r];
          if (kPut) {
            Check(f.store->dump(key, f.small), "parallel dump");
          } else {
            auto value = Check(f.store->load(key), "parallel load");
            if (!value || value->size() != kSmall) Die("load: wrong value");
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  Count(state, kKeys, kSmall);
}

template <bool kPut>
void BM_ParallelOursBatch(benchmark::State& state) {
  auto& f = Fixture::Get();
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& key : f.keys) items.emplace_back(key, f.small);
  const double switches = ContextSwitches();
  for (auto _ : state) {
    if (kPut) {
      for (const auto& status : f.store->dump_many(items)) {
        Check(status, "dump_many");
      }
    } else {
      for (auto& value : f.store->load_many(f.keys)) {
        auto got = Check(std::move(value), "load_many");
        if (!got || got->size() != kSmall) Die("load_many: wrong value");
      }
    }
  }
  state.counters["csw_per_request"] =
      (ContextSwitches() - switches) /
      static_cast<double>(state.iterations() * kKeys);
  state.counters["threads"] = CountThreads();
  Count(state, kKeys, kSmall);
}

template <bool kPut>
void BM_ParallelRaw(benchmark::State& state) {
  auto& f = Fixture::Get();
  Multi multi;
  for (auto _ : state) {
    multi.Run(kPut ? f.put_urls : f.get_urls, kPut ? &f.small : nullptr,
              kPut ? 0 : kSmall, kPerHandle);
  }
  Count(state, kKeys, kSmall);
}

// The same 16-way GET/PUTs on curl multi with 16 handles, each request
// header-signed with our SigV4 code as the store signs it (payload hash
// and signature per request): the baseline for dump_many/load_many.
template <bool kPut>
void BM_ParallelRawSigned(benchmark::State& state) {
  auto& f = Fixture::Get();
  const std::string endpoint = Env("S3_ENDPOINT");
  const std::string host = endpoint.substr(endpoint.find("//") + 2);
  const std::string bucket = Env("S3_BUCKET", "testbucket");
  const s3::Credentials credentials{
      .access_key_id = Env("AWS_ACCESS_KEY_ID"),
      .secret_access_key = Env("AWS_SECRET_ACCESS_KEY")};
  const std::string region = Env("AWS_DEFAULT_REGION", "us-east-1");
  std::vector<std::string> urls;
  for (const auto& key : f.keys) urls.push_back(f.plain_base + key);
  auto sign = [&](Easy& easy, std::size_t index) {
    s3::SigningRequest request{
        .method = kPut ? "PUT" : "GET",
        .host = host,
        .path = "/" + bucket + "/bench/" + f.keys[index],
        .payload_sha256 = s3::Sha256Hex(kPut ? f.small : "")};
    s3::SigningScope scope{.region = region,
                           .service = "s3",
                           .time = std::chrono::system_clock::now()};
    easy.SetHeaders(
        Check(s3::SignHeaders(request, credentials, scope), "sign").headers);
  };
  Multi multi;
  const double switches = ContextSwitches();
  for (auto _ : state) {
    multi.Run(urls, kPut ? &f.small : nullptr, kPut ? 0 : kSmall, kPerHandle,
              sign);
  }
  state.counters["csw_per_request"] =
      (ContextSwitches() - switches) /
      static_cast<double>(state.iterations() * kKeys);
  state.counters["threads"] = CountThreads();
  Count(state, kKeys, kSmall);
}

BENCHMARK(BM_ParallelOursThreads<true>)
    ->Name("s3/put16/ours/1024")
    ->UseRealTime();
// Process CPU time (all threads: the engine works on its loop thread), so
// the cpu column compares client CPU per request with the raw baseline.
BENCHMARK(BM_ParallelOursBatch<true>)
    ->Name("s3/put16/ours_batch/1024")
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(BM_ParallelRawSigned<true>)
    ->Name("s3/put16/raw_signed/1024")
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(BM_ParallelRaw<true>)->Name("s3/put16/raw/1024")->UseRealTime();
BENCHMARK(BM_ParallelOursThreads<false>)
    ->Name("s3/get16/ours/1024")
    ->UseRealTime();
BENCHMARK(BM_ParallelOursBatch<false>)
    ->Name("s3/get16/ours_batch/1024")
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(BM_ParallelRawSigned<false>)
    ->Name("s3/get16/raw_signed/1024")
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(BM_ParallelRaw<false>)->Name("s3/get16/raw/1024")->UseRealTime();

// --- GET ceiling: 1 MiB (and 1 KiB) from radosgw and from nginx ---------

void BM_LargeGetOurs(benchmark::State& state) {
  auto& f = Fixture::Get();
  for (auto _ : state) {
    auto value = Check(f.store->load("large"), "load large");
    if (!value || value->size() != kLarge) Die("load large: wrong value");
  }
  Count(state, 1, kLarge);
}

void BM_LargeGetRaw(benchmark::State& state) {
  auto& f = Fixture::Get();
  Easy easy;
  for (auto _ : state) easy.Run(f.large_url, nullptr, kLarge);
  Count(state, 1, kLarge);
}

// --- ranges: 4 KiB of a 1 GiB object ------------------------------------

struct BigObject {
  static constexpr std::uint64_t kBytes = std::uint64_t{1} << 30;
  static constexpr std::uint64_t kRange = 4096;
  std::string url;
  BigObject() {
    auto& f = Fixture::Get();
    const std::string chunk = MakeBytes(1 << 20, 5);
    RepeatedSource source(chunk, kBytes);
    Check(f.store->dump_stream("big.bin", source), "put the 1 GiB object");
    url = Check(f.store->presign("big.bin", std::chrono::hours(2),
                                 S3PresignMethod::kGet),
                "presign GET big");
  }
  static BigObject& Get() {
    static BigObject big;
    return big;
  }
  static std::uint64_t Offset(std::uint64_t i) {
    return (i * 2654435761u * kRange) % (kBytes - kRange);
  }
};

void BM_RangeOurs(benchmark::State& state) {
  auto& f = Fixture::Get();
  BigObject::Get();
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto got = Check(f.store->load_range("big.bin", BigObject::Offset(i++),
                                         BigObject::kRange),
                     "load_range");
    if (!got || got->size() != BigObject::kRange) Die("load_range: short");
  }
  Count(state, 1, BigObject::kRange);
}

void BM_RangeRaw(benchmark::State& state) {
  auto& big = BigObject::Get();
  Easy easy;
  std::uint64_t i = 0;
  for (auto _ : state) {
    const std::uint64_t first = BigObject::Offset(i++);
    const std::string range = std::to_string(first) + "-" +
                              std::to_string(first + BigObject::kRange - 1);
    easy.SetRange(range.c_str());
    easy.Run(big.url, nullptr, BigObject::kRange);
  }
  Count(state, 1, BigObject::kRange);
}

BENCHMARK(BM_RangeOurs)->Name("s3/range4k_of_1g/ours")->UseRealTime();
BENCHMARK(BM_RangeRaw)->Name("s3/range4k_of_1g/raw")->UseRealTime();

// The raw loop with header signing (libcurl's SigV4) instead of presigned
// URLs: shows what the signing style costs the client and the server.
void BM_GetRawSigV4(benchmark::State& state) {
  auto& f = Fixture::Get();
  std::size_t size = state.range(0);
  Easy easy;
  easy.SignWithSigV4(Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"),
                     Env("AWS_DEFAULT_REGION", "us-east-1"));
  std::string url = f.plain_base + (size == kLarge ? "large" : KeyName(0));
  for (auto _ : state) easy.Run(url, nullptr, size);
  Count(state, 1, size);
}

// Our client against nginx: `key` is "large" or KeyName(0).
void BM_NginxGetOurs(benchmark::State& state) {
  auto& f = Fixture::Get();
  if (!f.nginx_store) return state.SkipWithError(f.nginx_error.c_str());
  std::size_t size = state.range(0);
  std::string key = size == kLarge ? "large" : KeyName(0);
  for (auto _ : state) {
    auto value = Check(f.nginx_store->load(key), "load from nginx");
    if (!value || value->size() != size) Die("load from nginx: wrong size");
  }
  Count(state, 1, size);
}

void BM_NginxGetRaw(benchmark::State& state) {
  auto& f = Fixture::Get();
  if (!f.nginx_store) return state.SkipWithError(f.nginx_error.c_str());
  std::size_t size = state.range(0);
  Easy easy;
  const std::string& url =
      size == kLarge ? f.nginx_large_url : f.nginx_small_url;
  for (auto _ : state) easy.Run(url, nullptr, size);
  Count(state, 1, size);
}

void BM_NginxPutOurs(benchmark::State& state) {
  auto& f = Fixture::Get();
  if (!f.nginx_store) return state.SkipWithError(f.nginx_error.c_str());
  for (auto _ : state) Check(f.nginx_store->dump("put", f.small), "dump");
  Count(state, 1, kSmall);
}

void BM_NginxPutRaw(benchmark::State& state) {
  auto& f = Fixture::Get();
  if (!f.nginx_store) return state.SkipWithError(f.nginx_error.c_str());
  Easy easy;
  for (auto _ : state) easy.Run(f.nginx_put_url, &f.small, std::string::npos);
  Count(state, 1, kSmall);
}

BENCHMARK(BM_LargeGetOurs)->Name("s3/get/ours/1048576")->UseRealTime();
BENCHMARK(BM_LargeGetRaw)->Name("s3/get/raw/1048576")->UseRealTime();
BENCHMARK(BM_GetRawSigV4)
    ->Name("s3/get/raw_sigv4")
    ->Arg(kSmall)
    ->Arg(kLarge)
    ->UseRealTime();
BENCHMARK(BM_NginxGetOurs)
    ->Name("nginx/get/ours")
    ->Arg(kSmall)
    ->Arg(kLarge)
    ->UseRealTime();
BENCHMARK(BM_NginxGetRaw)
    ->Name("nginx/get/raw")
    ->Arg(kSmall)
    ->Arg(kLarge)
    ->UseRealTime();
BENCHMARK(BM_NginxPutOurs)->Name("nginx/put/ours/1024")->UseRealTime();
BENCHMARK(BM_NginxPutRaw)->Name("nginx/put/raw/1024")->UseRealTime();

// --- bulk: 1000 x 1 KiB, 16 threads; one iteration per repetition -------

template <bool kPut>
void BM_Bulk(benchmark::State& state) {
  auto& f = Fixture::Get();
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < kBulk; ++i) keys.push_back("bulk/" + KeyName(i));
  if (!kPut) {  // The objects to download exist before timing.
    static bool uploaded = false;
    if (!uploaded) {
      for (const auto& key : keys) Check(f.store->dump(key, f.small), "bulk");
      uploaded = true;
    }
  }
  for (auto _ : state) {
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kParallel; ++t) {
      threads.emplace_back([&] {
        for (std::size_t i = next++; i < kBulk; i = next++) {
          if (kPut) {
            Check(f.store->dump(keys[i], f.small), "bulk dump");
          } else {
            auto value = Check(f.store->load(keys[i]), "bulk load");
            if (!value || value->size() != kSmall) Die("bulk: wrong value");
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  Count(state, kBulk, kSmall);
}

// Registered only with BENCH_S3_BULK=1: bench/s3_peers.py runs them
// interleaved with awscli and rclone.
void RegisterBulk() {
  benchmark::RegisterBenchmark("s3/bulk_up/ours", BM_Bulk<true>)
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("s3/bulk_down/ours", BM_Bulk<false>)
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace
}  // namespace backends::bench

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const char* bulk = std::getenv("BENCH_S3_BULK");
  if (bulk && std::string(bulk) == "1") backends::bench::RegisterBulk();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  curl_global_cleanup();
  return 0;
}

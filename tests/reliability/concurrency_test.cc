// Many threads: 4 threads run the stress workload (stress_ops.h) on one
// folder, sharing one store instance, each with its own instance, and on a
// JsonCache folder. Labelled `concurrency`: CI also runs it under
// ThreadSanitizer. CONCURRENCY_OPS sets the operations per thread (default
// 2000).

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backends/cache.h"
#include "backends/file.h"
#include "reliability/stress_check.h"
#include "reliability/stress_ops.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::reliability {
namespace {

constexpr std::uint64_t kThreads = 4;

std::uint64_t OpsPerThread() {
  const char* env = std::getenv("CONCURRENCY_OPS");
  long long ops = env != nullptr ? std::atoll(env) : 2000;
  return ops > 0 ? static_cast<std::uint64_t>(ops) : 2000;
}

// Runs one worker per store in `stores` (a store may appear several times).
void RunThreads(const std::vector<Backend*>& stores, bool json_values,
                const char* what, std::uint64_t ops = OpsPerThread()) {
  std::vector<StressResult> results(stores.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < stores.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] =
          RunStress(*stores[i], StressConfig{.worker = i,
                                             .workers = stores.size(),
                                             .operations = ops,
                                             .seed = 99 + i,
                                             .json_values = json_values});
    });
  }
  for (auto& t : threads) t.join();
  StressResult total;
  for (const auto& r : results) {
    EXPECT_EQ(r.error, "");
    total.dumps += r.dumps;
    total.loads += r.loads;
    total.hits += r.hits;
    total.removes += r.removes;
    total.conflicts += r.conflicts;
  }
  EXPECT_GT(total.hits, 0u);
  std::printf(
      "threads[%s]: %zu threads x %llu operations: %llu dumps, %llu "
      "loads (%llu found, all complete), %llu removes, %llu "
      "documented conflicts\n",
      what, stores.size(), static_cast<unsigned long long>(ops),
      static_cast<unsigned long long>(total.dumps),
      static_cast<unsigned long long>(total.loads),
      static_cast<unsigned long long>(total.hits),
      static_cast<unsigned long long>(total.removes),
      static_cast<unsigned long long>(total.conflicts));
}

TEST(ConcurrencyTest, ThreadsShareOneFileStore) {
  backends::testing::ScopedTempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto store, FileBackend::Open(tmp.path()));
  RunThreads(std::vector<Backend*>(kThreads, store.get()), false,
             "one FileBackend");
  ExpectLegalFinalState(*store, tmp.path(), kThreads, false);
}

TEST(ConcurrencyTest, ThreadsWithTheirOwnFileStoreOnOneFolder) {
  backends::testing::ScopedTempDir tmp;
  std::vector<std::unique_ptr<FileBackend>> owned;
  std::vector<Backend*> stores;
  for (std::uint64_t i = 0; i < kThreads; ++i) {
    ASSERT_OK_AND_ASSIGN(auto store, FileBackend::Open(tmp.path()));
    stores.push_back(store.get());
    owned.push_back(std::move(store));
  }
  RunThreads(stores, false, "a FileBackend each");
  ExpectLegalFinalState(*owned[0], tmp.path(), kThreads, false);
}

TEST(ConcurrencyTest, ThreadsShareOneJsonCacheFolder) {
  backends::testing::ScopedTempDir tmp;
  auto cache =
      JsonCache::Open(tmp.path(), CacheOptions{.timeout = kNeverExpires});
  ASSERT_TRUE(cache.ok()) << cache.status();
  // JSON values of up to 256 KiB are slow to parse in a Debug or TSan
  // build: a quarter of the operations.
  RunThreads(std::vector<Backend*>(kThreads, &cache->store()), true,
             "one JsonCache", OpsPerThread() / 4 + 1);
  ExpectLegalFinalState(cache->store(), tmp.path(), kThreads, true);
}

}  // namespace
}  // namespace backends::reliability

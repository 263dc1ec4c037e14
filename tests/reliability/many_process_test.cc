// Many processes: 4 worker processes (stress_worker.cc) dump, load, remove
// and list overlapping keys in one folder. No load may return a partial or
// mixed value, the only error allowed is the documented kFailedPrecondition
// of a value standing where a folder is needed, and the final state must be
// legal. RELIABILITY_OPS sets the operations per worker (default 3000).

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "backends/cache.h"
#include "backends/file.h"
#include "reliability/stress_check.h"
#include "reliability/subprocess.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::reliability {
namespace {

constexpr int kWorkers = 4;

std::uint64_t OpsPerWorker() {
  const char* env = std::getenv("RELIABILITY_OPS");
  long long ops = env != nullptr ? std::atoll(env) : 3000;
  return ops > 0 ? static_cast<std::uint64_t>(ops) : 3000;
}

void RunWorkers(const std::string& mode) {
  backends::testing::ScopedTempDir tmp;
  const auto root = tmp.path() / "store";
  const std::uint64_t ops = OpsPerWorker();
  std::vector<std::unique_ptr<Subprocess>> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.push_back(std::make_unique<Subprocess>(
        std::vector<std::string>{BACKENDS_STRESS_WORKER, mode, root.string(),
                                 std::to_string(w), std::to_string(kWorkers),
                                 std::to_string(ops), std::to_string(1234 + w)},
        tmp.path() / ("worker" + std::to_string(w) + ".stderr")));
    ASSERT_TRUE(workers.back()->ok());
  }
  std::uint64_t totals[6] = {0, 0, 0, 0, 0, 0};
  for (int w = 0; w < kWorkers; ++w) {
    std::string out = workers[w]->ReadAll();
    int status = workers[w]->Wait();
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "worker " << w << " ended with " << DescribeWait(status) << ": "
        << workers[w]->Stderr();
    std::istringstream in(out);
    for (auto& t : totals) {
      std::uint64_t v = 0;
      ASSERT_TRUE(in >> v) << "worker " << w << " printed: " << out;
      t += v;
    }
  }
  if (mode == "json") {
    auto cache = JsonCache::Open(root, CacheOptions{.timeout = kNeverExpires});
    ASSERT_TRUE(cache.ok()) << cache.status();
    ExpectLegalFinalState(cache->store(), root, kWorkers, true);
  } else {
    ASSERT_OK_AND_ASSIGN(auto file, FileBackend::Open(root));
    ExpectLegalFinalState(*file, root, kWorkers, false);
  }
  std::printf(
      "many-process[%s]: %d processes x %llu operations: %llu dumps, %llu "
      "loads (%llu found, all complete), %llu removes, %llu lists, %llu "
      "documented conflicts\n",
      mode.c_str(), kWorkers, static_cast<unsigned long long>(ops),
      static_cast<unsigned long long>(totals[0]),
      static_cast<unsigned long long>(totals[1]),
      static_cast<unsigned long long>(totals[2]),
      static_cast<unsigned long long>(totals[3]),
      static_cast<unsigned long long>(totals[4]),
      static_cast<unsigned long long>(totals[5]));
  EXPECT_GT(totals[2], 0u) << "no load ever found a value";
}

TEST(ManyProcessTest, FourProcessesOnOneFileFolder) { RunWorkers("file"); }

TEST(ManyProcessTest, FourProcessesOnOneJsonCacheFolder) { RunWorkers("json"); }

}  // namespace
}  // namespace backends::reliability

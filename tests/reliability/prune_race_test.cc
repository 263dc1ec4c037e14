// The prune race (issue 20; workload in prune_race.h): while writers make
// their entries expired and then fresh again, pruners and readers remove the
// expired entries they find. No fresh entry may be lost, in threads or in
// processes. PRUNE_RACE_ROUNDS sets the rounds per writer (default 1500).

#include "reliability/prune_race.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "reliability/subprocess.h"
#include "testutil/temp_dir.h"

namespace backends::reliability {
namespace {

constexpr int kWriters = 2;

std::uint64_t Rounds() {
  const char* env = std::getenv("PRUNE_RACE_ROUNDS");
  long long rounds = env != nullptr ? std::atoll(env) : 1500;
  return rounds > 0 ? static_cast<std::uint64_t>(rounds) : 1500;
}

class PruneRaceTest : public ::testing::TestWithParam<CacheKind> {};

TEST_P(PruneRaceTest, ThreadsLoseNoFreshEntry) {
  backends::testing::ScopedTempDir tmp;
  const auto root = tmp.path() / "cache";
  std::atomic<bool> stop{false};
  std::string pruner_error, reader_error;
  std::thread pruner([&] {
    pruner_error = RunRacePruner(GetParam(), root, /*read=*/false, stop);
  });
  std::thread reader([&] {
    reader_error = RunRacePruner(GetParam(), root, /*read=*/true, stop);
  });
  std::vector<RaceResult> results(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back(
        [&, w] { results[w] = RunRaceWriter(GetParam(), root, w, Rounds()); });
  }
  for (auto& t : writers) t.join();
  stop = true;
  pruner.join();
  reader.join();
  EXPECT_EQ(pruner_error, "");
  EXPECT_EQ(reader_error, "");
  for (const auto& r : results) {
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.rounds, Rounds());
    EXPECT_EQ(r.lost, 0u) << "fresh entries lost in " << r.rounds << " rounds";
    std::printf("writer: %llu rounds, %llu lost, %llu transient misses\n",
                static_cast<unsigned long long>(r.rounds),
                static_cast<unsigned long long>(r.lost),
                static_cast<unsigned long long>(r.transient_misses));
  }
}

TEST_P(PruneRaceTest, ProcessesLoseNoFreshEntry) {
  backends::testing::ScopedTempDir tmp;
  const auto root = tmp.path() / "cache";
  const auto stop_file = tmp.path() / "stop";
  const std::string kind = GetParam() == CacheKind::kJson ? "json" : "text";
  std::vector<std::unique_ptr<Subprocess>> removers;
  for (const std::string role : {"pruner", "reader"}) {
    removers.push_back(std::make_unique<Subprocess>(
        std::vector<std::string>{BACKENDS_PRUNE_RACE_WORKER, kind, role,
                                 root.string(), stop_file.string()},
        tmp.path() / (role + ".stderr")));
    ASSERT_TRUE(removers.back()->ok());
  }
  std::vector<std::unique_ptr<Subprocess>> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.push_back(std::make_unique<Subprocess>(
        std::vector<std::string>{BACKENDS_PRUNE_RACE_WORKER, kind, "writer",
                                 root.string(), std::to_string(w),
                                 std::to_string(Rounds())},
        tmp.path() / ("writer" + std::to_string(w) + ".stderr")));
    ASSERT_TRUE(writers.back()->ok());
  }
  for (int w = 0; w < kWriters; ++w) {
    std::istringstream out(writers[w]->ReadAll());
    int status = writers[w]->Wait();
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "writer " << w << ": " << DescribeWait(status) << ": "
        << writers[w]->Stderr();
    std::uint64_t rounds = 0, lost = 0, transient = 0;
    ASSERT_TRUE(out >> rounds >> lost >> transient);
    std::printf("writer %d: %llu rounds, %llu lost, %llu transient misses\n", w,
                static_cast<unsigned long long>(rounds),
                static_cast<unsigned long long>(lost),
                static_cast<unsigned long long>(transient));
    EXPECT_EQ(rounds, Rounds());
    EXPECT_EQ(lost, 0u) << "writer " << w << " lost fresh entries";
  }
  std::ofstream(stop_file).put('\n');
  for (auto& p : removers) {
    p->ReadAll();
    int status = p->Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << DescribeWait(status) << ": " << p->Stderr();
  }
}

INSTANTIATE_TEST_SUITE_P(Caches, PruneRaceTest,
                         ::testing::Values(CacheKind::kJson, CacheKind::kText),
                         [](const auto& param) {
                           return param.param == CacheKind::kJson ? "JsonCache"
                                                                  : "TextCache";
                         });

}  // namespace
}  // namespace backends::reliability

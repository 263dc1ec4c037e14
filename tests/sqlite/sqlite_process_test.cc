// Processes sharing one SQLite store: four writers at once (no error, no
// lost write) and a writer killed with SIGKILL again and again (every
// acknowledged write survives, no value is torn). The worker is
// sqlite_worker.cc.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "backends/sqlite.h"
#include "reliability/sealed_value.h"
#include "reliability/subprocess.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using reliability::DescribeWait;
using reliability::Subprocess;
using reliability::Unseal;

TEST(SqliteProcessTest, FourProcessesMixedOperationsLoseNothing) {
  ScopedTempDir temp;
  const fs::path db = temp.path() / "shared.db";
  constexpr int kProcesses = 4;
  constexpr int kOps = 5000;
  std::vector<std::unique_ptr<Subprocess>> workers;
  for (int id = 0; id < kProcesses; ++id) {
    workers.push_back(std::make_unique<Subprocess>(
        std::vector<std::string>{BACKENDS_SQLITE_WORKER, "mixed", db.string(),
                                 std::to_string(id), std::to_string(kOps)},
        temp.path() / ("worker" + std::to_string(id) + ".err")));
    ASSERT_TRUE(workers.back()->ok());
  }
  std::map<std::string, std::string> expected;
  for (auto& worker : workers) {
    std::istringstream lines(worker->ReadAll());
    const int status = worker->Wait();
    ASSERT_EQ(status, 0) << DescribeWait(status) << ": " << worker->Stderr();
    std::string key, gen;
    while (lines >> key >> gen) expected[key] = gen;
  }
  ASSERT_GT(expected.size(), 100u);
  auto store = NewSqliteBackend(db);
  BACKENDS_ASSERT_OK(store);
  for (const auto& [key, gen] : expected) {
    auto value = (*store)->load(key);
    BACKENDS_ASSERT_OK(value);
    if (gen == "-") {
      EXPECT_FALSE(value->has_value()) << key;
      continue;
    }
    ASSERT_TRUE(value->has_value()) << key << " lost";
    auto sealed = Unseal(**value);
    ASSERT_TRUE(sealed.has_value()) << key << " torn";
    EXPECT_EQ(std::to_string(sealed->gen), gen) << key;
  }
  // Keys every process wrote: each holds one complete value.
  auto shared = (*store)->list("shared/");
  BACKENDS_ASSERT_OK(shared);
  EXPECT_FALSE(shared->empty());
  for (const auto& key : *shared) {
    auto value = (*store)->load(key);
    BACKENDS_ASSERT_OK(value);
    ASSERT_TRUE(value->has_value());
    EXPECT_TRUE(Unseal(**value).has_value()) << key;
  }
}

int Kills() {
  const char* env = std::getenv("RELIABILITY_KILLS");
  const int kills = env != nullptr ? std::atoi(env) : 0;
  return kills > 0 ? kills / 4 : 40;
}

TEST(SqliteProcessTest, SigkilledWriterKeepsEveryAcknowledgedWrite) {
  ScopedTempDir temp;
  const fs::path db = temp.path() / "crash.db";
  std::map<std::string, std::uint64_t> acknowledged;
  std::mt19937 random(12345);
  for (int round = 0; round < Kills(); ++round) {
    // Each round's generations start past every earlier round's.
    Subprocess writer({BACKENDS_SQLITE_WORKER, "crash", db.string(),
                       std::to_string((round + 1) * 10'000'000ull)},
                      temp.path() / "writer.err");
    ASSERT_TRUE(writer.ok());
    // Read acknowledgements for a while (timed from the first, so a slow
    // start, as under a sanitizer, still writes), then kill mid-write.
    const auto pause = std::chrono::milliseconds(20 + random() % 120);
    std::optional<std::chrono::steady_clock::time_point> deadline;
    std::string line;
    char c;
    bool alive = true;
    while (!deadline || std::chrono::steady_clock::now() < *deadline) {
      if (!writer.ReadByte(c)) {
        alive = false;
        break;
      }
      if (c != '\n') {
        line += c;
        continue;
      }
      const auto space = line.find(' ');
      acknowledged[line.substr(0, space)] = std::stoull(line.substr(space + 1));
      line.clear();
      if (!deadline) deadline = std::chrono::steady_clock::now() + pause;
    }
    ASSERT_TRUE(alive) << writer.Stderr();
    writer.Kill();
    writer.Wait();

    auto store = NewSqliteBackend(db);
    BACKENDS_ASSERT_OK(store);
    for (const auto& [key, gen] : acknowledged) {
      auto value = (*store)->load(key);
      BACKENDS_ASSERT_OK(value);
      ASSERT_TRUE(value->has_value()) << key << " lost after kill " << round;
      auto sealed = Unseal(**value);
      ASSERT_TRUE(sealed.has_value()) << key << " torn after kill " << round;
      EXPECT_GE(sealed->gen, gen) << key << " went back after kill " << round;
    }
  }
  EXPECT_GT(acknowledged.size(), 10u);
}

}  // namespace
}  // namespace backends::testing

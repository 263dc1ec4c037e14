// The caches on SQLite (sqlite_cache.h): the conformance suite, then expiry
// kept in columns (per-object and default timeouts, prune as one statement,
// live-only listings), limits shared by every cache object on one table,
// and the documented schema read by Python's sqlite3.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "backends/memory.h"
#include "backends/sqlite_cache.h"
#include "cache/cache_adapters.h"
#include "conformance/backend_conformance.h"
#include "conformance/view_adapter.h"
#include "testutil/fake_clock.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::Optional;
using std::chrono::seconds;

FactoryResult JsonOn(const fs::path& dir, CacheOptions options = {}) {
  BACKENDS_ASSIGN_OR_RETURN(
      auto cache, OpenSqliteJsonCache(dir / "cache.db", {}, std::move(options)));
  return std::unique_ptr<Backend>(
      std::make_unique<JsonCacheAsBackend>(std::move(cache)));
}

INSTANTIATE_TEST_SUITE_P(
    SqliteCaches, BackendConformanceTest,
    ::testing::Values(
        BackendFactory{
            .name = "JsonCache",
            .make = [](const fs::path& dir) { return JsonOn(dir); },
            .make_value = CanonicalJsonValue,
            .binary_values = false,
        },
        BackendFactory{
            .name = "JsonCacheLimited",
            .make =
                [](const fs::path& dir) {
                  return JsonOn(dir, {.limits = {.max_entries = 2000,
                                                 .max_bytes = 64 << 20}});
                },
            .make_value = CanonicalJsonValue,
            .binary_values = false,
        },
        BackendFactory{
            .name = "TextCache",
            .make = [](const fs::path& dir) -> FactoryResult {
              BACKENDS_ASSIGN_OR_RETURN(auto cache,
                                        OpenSqliteTextCache(dir / "cache.db"));
              return std::unique_ptr<Backend>(
                  std::make_unique<TextCacheAsBackend>(std::move(cache)));
            },
            .make_value = Utf8TextValue,
            .binary_values = false,
        },
        BackendFactory{
            .name = "ReadThroughSqliteCacheOverMemory",
            .make = [](const fs::path& dir) -> FactoryResult {
              BACKENDS_ASSIGN_OR_RETURN(
                  auto table, NewSqliteBackend(dir / "front.db"));
              BACKENDS_ASSIGN_OR_RETURN(
                  auto front, NewSqliteTextCacheBackend(std::move(table)));
              BACKENDS_ASSIGN_OR_RETURN(
                  auto layer,
                  NewReadThroughBackend(std::move(front),
                                        std::make_unique<VolatileBackend>()));
              return std::unique_ptr<Backend>(std::move(layer));
            },
        }),
    BackendFactoryName);

class SqliteCacheTest : public ::testing::Test {
 protected:
  JsonCache OpenJson(CacheOptions options = {}, SqliteOptions store = {}) {
    options.clock = clock_;
    auto cache = OpenSqliteJsonCache(db_, store, options);
    EXPECT_THAT(cache, IsOk());
    return std::move(cache).value();
  }

  // Rows of the table, expired ones included, as another program sees them.
  int RawRows(const std::string& table = "backends") {
    auto store = NewSqliteBackend(db_, {.table = table});
    EXPECT_THAT(store, IsOk());
    auto size = (*store)->size();
    EXPECT_THAT(size, IsOk());
    return static_cast<int>(*size);
  }

  ScopedTempDir temp_;
  fs::path db_ = temp_.path() / "cache.db";
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
};

TEST_F(SqliteCacheTest, DefaultAndPerObjectTimeouts) {
  JsonCache cache = OpenJson({.timeout = seconds(10)});
  BACKENDS_ASSERT_OK(cache.set("short", 1, seconds(2)));
  BACKENDS_ASSERT_OK(cache.set("default", 2));
  BACKENDS_ASSERT_OK(cache.set("forever", 3, kNeverExpires));
  BACKENDS_ASSERT_OK(cache.set("dead", 4, seconds(0)));
  EXPECT_THAT(cache.get("dead"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(cache.keys(), IsOkAndHolds(ElementsAre("default", "forever",
                                                     "short")));
  clock_->Advance(seconds(2));
  EXPECT_THAT(cache.get("short"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(cache.get("default"), IsOkAndHolds(Optional(Json(2))));
  clock_->Advance(seconds(8));
  EXPECT_THAT(cache.contains("default"), IsOkAndHolds(false));
  clock_->Advance(std::chrono::hours(24 * 365 * 100));
  EXPECT_THAT(cache.get("forever"), IsOkAndHolds(Optional(Json(3))));
  EXPECT_THAT(cache.size(), IsOkAndHolds(1u));
  EXPECT_GE(cache.stats().expirations, 3u);
  EXPECT_THAT(cache.set("neg", 1, seconds(-1)),
              StatusIs(ErrorCode::kInvalidArgument));
}

TEST_F(SqliteCacheTest, ListingsShowLiveRowsAndPruneDeletesTheRest) {
  JsonCache cache = OpenJson({.timeout = seconds(60)});
  for (int i = 0; i < 10; ++i) {
    BACKENDS_ASSERT_OK(
        cache.set("k" + std::to_string(i), i, seconds(i < 6 ? 5 : 600)));
  }
  clock_->Advance(seconds(5));
  // Listing and counting skip the expired rows without touching them.
  EXPECT_THAT(cache.size(), IsOkAndHolds(4u));
  EXPECT_THAT(cache.list("k"),
              IsOkAndHolds(ElementsAre("k6", "k7", "k8", "k9")));
  auto items = cache.items();
  BACKENDS_ASSERT_OK(items);
  EXPECT_EQ(items->size(), 4u);
  EXPECT_EQ(RawRows(), 10);
  EXPECT_THAT(cache.prune(), IsOkAndHolds(6u));
  EXPECT_EQ(RawRows(), 4);
  EXPECT_THAT(cache.prune(), IsOkAndHolds(0u));
}

TEST_F(SqliteCacheTest, ExpiredRowIsRemovedOnlyIfUnchanged) {
  JsonCache reader = OpenJson({.timeout = seconds(5)});
  JsonCache writer = OpenJson({.timeout = seconds(5)});
  BACKENDS_ASSERT_OK(writer.set("k", "old"));
  EXPECT_THAT(reader.get("k"), IsOkAndHolds(Optional(Json("old"))));
  // The reader's decoded copy is not served once another object rewrote it.
  BACKENDS_ASSERT_OK(writer.set("k", "new"));
  EXPECT_THAT(reader.get("k"), IsOkAndHolds(Optional(Json("new"))));
  EXPECT_THAT(reader.get("k"), IsOkAndHolds(Optional(Json("new"))));
  EXPECT_GE(reader.stats().decoded_hits, 1u);
  BACKENDS_ASSERT_OK(writer.remove("k").status());
  EXPECT_THAT(reader.get("k"), IsOkAndHolds(std::nullopt));
  clock_->Advance(seconds(5));
  BACKENDS_ASSERT_OK(writer.set("k", "fresh"));
  EXPECT_THAT(reader.get("k"), IsOkAndHolds(Optional(Json("fresh"))));
}

TEST_F(SqliteCacheTest, LimitsAreSharedByEveryCacheOnTheTable) {
  const CacheOptions bounded{.limits = {.max_entries = 3}};
  JsonCache a = OpenJson(bounded);
  JsonCache b = OpenJson(bounded);
  BACKENDS_ASSERT_OK(a.set("1", 1));
  BACKENDS_ASSERT_OK(b.set("2", 2));
  BACKENDS_ASSERT_OK(a.set("3", 3));
  EXPECT_THAT(b.get("1"), IsOkAndHolds(Optional(Json(1))));  // 1 is now used
  BACKENDS_ASSERT_OK(a.set("4", 4));                         // evicts 2
  EXPECT_THAT(a.keys(), IsOkAndHolds(ElementsAre("1", "3", "4")));
  EXPECT_EQ(a.stats().evictions, 1u);
  // A byte bound keeps the newest entry even when alone it is larger.
  JsonCache bytes = OpenJson({.limits = {.max_bytes = 10}}, {.table = "small"});
  BACKENDS_ASSERT_OK(bytes.set("x", "12345"));
  BACKENDS_ASSERT_OK(bytes.set("big", std::string(40, 'y')));
  EXPECT_THAT(bytes.keys(), IsOkAndHolds(ElementsAre("big")));
}

TEST_F(SqliteCacheTest, ProcessesShareOneBoundedCache) {
  // 4 processes x 300 writes and reads of their own keys into one cache
  // bounded at 50 entries: no error, and the bound holds for the table.
  constexpr int kProcesses = 4;
  constexpr int kWrites = 300;
  constexpr std::uint64_t kBound = 50;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Opened after the fork: SQLite connections never cross one.
      auto cache = OpenSqliteJsonCache(
          db_, {}, {.limits = {.max_entries = kBound}});
      if (!cache.ok()) ::_exit(2);
      for (int i = 0; i < kWrites; ++i) {
        const std::string key = std::to_string(p) + "/" + std::to_string(i);
        if (!cache->set(key, i).ok()) ::_exit(3);
        auto value = cache->get(key);
        // Evicted already by the others' writes, or exactly ours.
        if (!value.ok() || (*value && **value != Json(i))) ::_exit(4);
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  EXPECT_LE(RawRows(), static_cast<int>(kBound));
  EXPECT_GE(RawRows(), static_cast<int>(kBound) - kProcesses);
}

TEST_F(SqliteCacheTest, TextCacheExpiresByItsTimeout) {
  auto cache = OpenSqliteTextCache(db_, {.table = "pages"},
                                   {.timeout = seconds(30), .clock = clock_});
  BACKENDS_ASSERT_OK(cache);
  BACKENDS_ASSERT_OK(cache->set("p", "héllo"));
  EXPECT_THAT(cache->get("p"), IsOkAndHolds(Optional(std::string("héllo"))));
  EXPECT_THAT(cache->set("bad", std::string("\xff")),
              StatusIs(ErrorCode::kInvalidArgument));
  clock_->Advance(seconds(30));
  EXPECT_THAT(cache->get("p"), IsOkAndHolds(std::nullopt));
  EXPECT_EQ(RawRows("pages"), 0);
}

TEST_F(SqliteCacheTest, OpeningOnAStoreTableAddsTheColumns) {
  {
    auto store = NewSqliteBackend(db_);
    BACKENDS_ASSERT_OK(store);
    BACKENDS_ASSERT_OK((*store)->dump("old", "[1]"));
    BACKENDS_ASSERT_OK((*store)->dump("bad", "not json"));
  }
  JsonCache cache = OpenJson();
  clock_->Advance(std::chrono::hours(24 * 365));
  EXPECT_THAT(cache.get("old"), IsOkAndHolds(Optional(Json::array({1}))));
  EXPECT_THAT(cache.get("bad"), StatusIs(ErrorCode::kDataLoss));
  EXPECT_EQ(RawRows(), 2);  // A value that is not JSON is left in place.
}

TEST_F(SqliteCacheTest, PythonReadsTheDocumentedSchema) {
  {
    JsonCache cache = OpenJson({.timeout = seconds(60)});
    BACKENDS_ASSERT_OK(cache.set("live", {{"a", 1}}));
    BACKENDS_ASSERT_OK(cache.set("dead", 2, seconds(1)));
    BACKENDS_ASSERT_OK(cache.set("forever", 3, kNeverExpires));
  }
  clock_->Advance(seconds(1));
  const fs::path script = temp_.path() / "read.py";
  std::ofstream(script)
      << "import json, sqlite3, sys\n"
         "db = sqlite3.connect(sys.argv[1])\n"
         "now = int(sys.argv[2])\n"
         "rows = db.execute('SELECT key, value FROM backends'\n"
         "                  ' WHERE expires_ns IS NULL OR expires_ns > ?'\n"
         "                  ' ORDER BY key', (now,)).fetchall()\n"
         "for key, value in rows:\n"
         "    print(key, json.dumps(json.loads(value), sort_keys=True))\n";
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          clock_->now().time_since_epoch())
                          .count();
  const std::string command = "/usr/bin/python3 " + script.string() + " " +
                              db_.string() + " " + std::to_string(now_ns);
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
  EXPECT_EQ(::pclose(pipe), 0);
  EXPECT_EQ(out, "forever 3\nlive {\"a\": 1}\n");
}

}  // namespace
}  // namespace backends::testing

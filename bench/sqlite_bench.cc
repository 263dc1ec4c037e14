// SqliteBackend against bare SQLite loops in the same folder (issue 14).
//
//   sqlite/dump/ours        SqliteBackend::dump, 1 KiB, 1000 keys overwritten
//   sqlite/dump/raw         the floor the issue names: a prepared UPSERT on a
//                           WITHOUT ROWID (key, value) table, WAL,
//                           synchronous=NORMAL, one transaction per write
//   sqlite/dump/raw_rowid   the same loop on our schema (a rowid table with
//                           mtime and version columns): what our schema costs
//   sqlite/load/ours, sqlite/load/raw, sqlite/load/raw_rowid   likewise, a
//                           prepared SELECT of one key
//   sqlite/load/ours/threads:N   loads from N threads (scaling)
//   sqlite/dump_many/ours   SqliteBackend::dump_many of 100,000 x 1 KiB;
//   sqlite/dump_many/raw    a bare loop of the same UPSERTs (our schema) in
//                           one transaction. Both report time per key (one
//                           batch per repetition).
//
//   sqlite/json_get/ours, sqlite/json_set/ours, sqlite/text_get/ours,
//   sqlite/text_set/ours    JsonCache / TextCache on SQLite
//                           (OpenSqlite*Cache), the workload of cache_bench
//                           (1000 keys, the 1 KiB JSON document or 1 KiB of
//                           text, default timeout): against
//                           python3-diskcache's get and set in report.py.
//   sqlite/data_version/raw a bare PRAGMA data_version: the floor of the
//                           check json_get makes before serving a copy.
//
// The bare loops bind the same random version and time our dump binds, so
// they differ from ours only by what the library adds.

#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "backends/sqlite.h"
#include "backends/sqlite_cache.h"
#include "bench_util.h"

namespace backends::bench {
namespace {

constexpr int kKeys = 1000;
constexpr std::size_t kValueBytes = 1024;

const std::vector<std::string>& Keys() {
  static const auto* keys = [] {
    auto* out = new std::vector<std::string>();
    for (int i = 0; i < kKeys; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "k%06d", i);
      out->push_back(name);
    }
    return out;
  }();
  return *keys;
}

struct Raw {
  sqlite3* db = nullptr;
  sqlite3_stmt* put = nullptr;
  sqlite3_stmt* get = nullptr;
  ~Raw() {
    sqlite3_finalize(put);
    sqlite3_finalize(get);
    sqlite3_close(db);
  }
};

void Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    Die(std::string(sql) + ": " + (error ? error : "?"));
  }
}

// A bare connection with our pragmas, on either schema.
std::unique_ptr<Raw> OpenRaw(const std::string& path, bool rowid) {
  auto raw = std::make_unique<Raw>();
  if (sqlite3_open(path.c_str(), &raw->db) != SQLITE_OK) Die("open " + path);
  Exec(raw->db, "PRAGMA journal_mode = WAL");
  Exec(raw->db, "PRAGMA synchronous = NORMAL");
  if (rowid) {
    Exec(raw->db,
         "CREATE TABLE IF NOT EXISTS t (key TEXT PRIMARY KEY NOT NULL,"
         " modified_ns INTEGER NOT NULL, version INTEGER NOT NULL,"
         " value BLOB NOT NULL)");
  } else {
    Exec(raw->db,
         "CREATE TABLE IF NOT EXISTS t (key TEXT PRIMARY KEY NOT NULL,"
         " value BLOB NOT NULL) WITHOUT ROWID");
  }
  const char* put =
      rowid ? "INSERT INTO t (key, modified_ns, version, value)"
              " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET"
              " modified_ns = excluded.modified_ns,"
              " version = excluded.version, value = excluded.value"
            : "INSERT INTO t (key, value) VALUES (?1, ?4) ON CONFLICT (key)"
              " DO UPDATE SET value = excluded.value";
  if (sqlite3_prepare_v2(raw->db, put, -1, &raw->put, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(raw->db, "SELECT value FROM t WHERE key = ?1", -1,
                         &raw->get, nullptr) != SQLITE_OK) {
    Die(sqlite3_errmsg(raw->db));
  }
  return raw;
}

void RawPut(Raw& raw, const std::string& key, const std::string& value,
            std::mt19937_64& random) {
  sqlite3_bind_text(raw.put, 1, key.data(), static_cast<int>(key.size()),
                    SQLITE_STATIC);
  if (sqlite3_bind_parameter_count(raw.put) >= 3) {
    sqlite3_bind_int64(
        raw.put, 2,
        std::chrono::system_clock::now().time_since_epoch().count());
    sqlite3_bind_int64(raw.put, 3, static_cast<sqlite3_int64>(random() >> 1));
  }
  sqlite3_bind_blob(raw.put, 4, value.data(), static_cast<int>(value.size()),
                    SQLITE_STATIC);
  if (sqlite3_step(raw.put) != SQLITE_DONE) Die(sqlite3_errmsg(raw.db));
  sqlite3_reset(raw.put);
}

std::size_t RawGet(Raw& raw, const std::string& key) {
  sqlite3_bind_text(raw.get, 1, key.data(), static_cast<int>(key.size()),
                    SQLITE_STATIC);
  if (sqlite3_step(raw.get) != SQLITE_ROW) Die("raw load: missing key");
  const void* data = sqlite3_column_blob(raw.get, 0);
  const int size = sqlite3_column_bytes(raw.get, 0);
  std::string copy(static_cast<const char*>(data),
                   static_cast<std::size_t>(size));
  sqlite3_reset(raw.get);
  return copy.size();
}

std::unique_ptr<Backend> OpenOurs(const std::string& name) {
  const auto dir = FreshDir("sqlite-" + name);
  auto store = Check(NewSqliteBackend(dir / "store.db"), "open sqlite");
  const std::string value = MakeBytes(kValueBytes);
  for (const auto& key : Keys()) Check(store->dump(key, value), "fill");
  return store;
}

std::unique_ptr<Raw> FilledRaw(const std::string& name, bool rowid) {
  const auto dir = FreshDir("sqlite-" + name);
  auto raw = OpenRaw((dir / "raw.db").string(), rowid);
  const std::string value = MakeBytes(kValueBytes);
  std::mt19937_64 random(1);
  for (const auto& key : Keys()) RawPut(*raw, key, value, random);
  return raw;
}

void BM_DumpOurs(benchmark::State& state) {
  auto store = OpenOurs("dump-ours");
  const std::string value = MakeBytes(kValueBytes, 2);
  std::size_t i = 0;
  for (auto _ : state) {
    Check(store->dump(Keys()[i++ % kKeys], value), "dump");
  }
}
BENCHMARK(BM_DumpOurs)->Name("sqlite/dump/ours")->UseRealTime();

void DumpRaw(benchmark::State& state, bool rowid) {
  auto raw = FilledRaw(rowid ? "dump-raw-rowid" : "dump-raw", rowid);
  const std::string value = MakeBytes(kValueBytes, 2);
  std::mt19937_64 random(2);
  std::size_t i = 0;
  for (auto _ : state) RawPut(*raw, Keys()[i++ % kKeys], value, random);
}
BENCHMARK_CAPTURE(DumpRaw, raw, false)->Name("sqlite/dump/raw")->UseRealTime();
BENCHMARK_CAPTURE(DumpRaw, raw_rowid, true)
    ->Name("sqlite/dump/raw_rowid")
    ->UseRealTime();

void BM_LoadOurs(benchmark::State& state) {
  static std::unique_ptr<Backend> store;
  if (state.thread_index() == 0) store = OpenOurs("load-ours");
  // Threads start their loops together, after thread 0's setup.
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto value = Check(store->load(Keys()[i++ % kKeys]), "load");
    benchmark::DoNotOptimize(value);
  }
  if (state.thread_index() == 0) store.reset();
}
BENCHMARK(BM_LoadOurs)
    ->Name("sqlite/load/ours")
    ->UseRealTime()
    ->Threads(1)
    ->Threads(2);

void LoadRaw(benchmark::State& state, bool rowid) {
  auto raw = FilledRaw(rowid ? "load-raw-rowid" : "load-raw", rowid);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(RawGet(*raw, Keys()[i++ % kKeys]));
  }
}
BENCHMARK_CAPTURE(LoadRaw, raw, false)->Name("sqlite/load/raw")->UseRealTime();
BENCHMARK_CAPTURE(LoadRaw, raw_rowid, true)
    ->Name("sqlite/load/raw_rowid")
    ->UseRealTime();

template <typename Cache, typename Value>
struct FilledCache {
  Value value;
  Cache cache;
  FilledCache(Cache opened, Value v) : value(std::move(v)), cache(std::move(opened)) {
    for (const auto& key : Keys()) Check(cache.set(key, value), "fill");
  }
};

FilledCache<JsonCache, Json>& JsonCacheDb() {
  static auto* filled = new FilledCache<JsonCache, Json>(
      Check(OpenSqliteJsonCache(FreshDir("sqlite-json-cache") / "cache.db"),
            "open"),
      MakeJsonDocument(1024));
  return *filled;
}

FilledCache<TextCache, std::string>& TextCacheDb() {
  static auto* filled = new FilledCache<TextCache, std::string>(
      Check(OpenSqliteTextCache(FreshDir("sqlite-text-cache") / "cache.db"),
            "open"),
      MakeBytes(kValueBytes));
  return *filled;
}

template <typename Filled>
void CacheGet(benchmark::State& state, Filled& (*filled)()) {
  auto& f = filled();
  std::size_t i = 0;
  for (auto _ : state) {
    auto value = Check(f.cache.get(Keys()[i++ % kKeys]), "get");
    if (!value) Die("get: a live entry is missing");
    benchmark::DoNotOptimize(value);
  }
}

template <typename Filled>
void CacheSet(benchmark::State& state, Filled& (*filled)()) {
  auto& f = filled();
  std::size_t i = 0;
  for (auto _ : state) Check(f.cache.set(Keys()[i++ % kKeys], f.value), "set");
}

BENCHMARK_CAPTURE(CacheGet, json, &JsonCacheDb)
    ->Name("sqlite/json_get/ours")
    ->UseRealTime();
BENCHMARK_CAPTURE(CacheSet, json, &JsonCacheDb)
    ->Name("sqlite/json_set/ours")
    ->UseRealTime();
BENCHMARK_CAPTURE(CacheGet, text, &TextCacheDb)
    ->Name("sqlite/text_get/ours")
    ->UseRealTime();
BENCHMARK_CAPTURE(CacheSet, text, &TextCacheDb)
    ->Name("sqlite/text_set/ours")
    ->UseRealTime();

// The floor of a decoded copy's check: a bare prepared PRAGMA data_version
// (one read transaction) on a file of the cache's size.
void BM_DataVersionRaw(benchmark::State& state) {
  auto raw = FilledRaw("data-version", true);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(raw->db, "PRAGMA data_version", -1, &stmt, nullptr) !=
      SQLITE_OK) {
    Die("prepare PRAGMA data_version");
  }
  for (auto _ : state) {
    if (sqlite3_step(stmt) != SQLITE_ROW) Die("PRAGMA data_version");
    benchmark::DoNotOptimize(sqlite3_column_int64(stmt, 0));
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
}
BENCHMARK(BM_DataVersionRaw)
    ->Name("sqlite/data_version/raw")
    ->UseRealTime();

constexpr int kBatch = 100'000;

std::vector<std::pair<std::string, std::string>> BatchItems() {
  std::vector<std::pair<std::string, std::string>> items;
  const std::string value = MakeBytes(kValueBytes, 3);
  for (int i = 0; i < kBatch; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "m%06d", i);
    items.emplace_back(name, value);
  }
  return items;
}

void BM_DumpManyOurs(benchmark::State& state) {
  const auto dir = FreshDir("sqlite-many-ours");
  auto store = Check(NewSqliteBackend(dir / "store.db"), "open sqlite");
  const auto items = BatchItems();
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    Check(store->dump_many(items), "dump_many");
    const std::chrono::duration<double> took =
        std::chrono::steady_clock::now() - start;
    state.SetIterationTime(took.count() / kBatch);
  }
}
BENCHMARK(BM_DumpManyOurs)
    ->Name("sqlite/dump_many/ours")
    ->UseManualTime()
    ->Iterations(1);

void BM_DumpManyRaw(benchmark::State& state) {
  const auto dir = FreshDir("sqlite-many-raw");
  auto raw = OpenRaw((dir / "raw.db").string(), true);
  const auto items = BatchItems();
  std::mt19937_64 random(3);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    Exec(raw->db, "BEGIN IMMEDIATE");
    for (const auto& [key, value] : items) RawPut(*raw, key, value, random);
    Exec(raw->db, "COMMIT");
    const std::chrono::duration<double> took =
        std::chrono::steady_clock::now() - start;
    state.SetIterationTime(took.count() / kBatch);
  }
}
BENCHMARK(BM_DumpManyRaw)
    ->Name("sqlite/dump_many/raw")
    ->UseManualTime()
    ->Iterations(1);

}  // namespace
}  // namespace backends::bench

BENCHMARK_MAIN();

// JsonCache and its envelope layer: timeouts, expiry on every access,
// prune/clear, the on-disk format against the Python original, limits,
// counters, failures of the store underneath, and two processes sharing a
// folder.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "backends/cache.h"
#include "backends/memory.h"
#include "cache/envelope.h"
#include "cache/json_cache_fixture.h"
#include "testutil/fake_clock.h"
#include "testutil/faulty_backend.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Runs a command; returns its exit status and stdout.
std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, out};
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    out.append(buffer, n);
  }
  return {::pclose(pipe), out};
}

std::string Python(const std::string& args) {
  return std::string(BACKENDS_PYTHON3) + " " + BACKENDS_ORIGINAL_CACHE_SCRIPT +
         " " + args;
}

using JsonCacheTest = JsonCacheFolderTest;

TEST_F(JsonCacheTest, BadExpirationIsQuotedOnce) {
  JsonCache cache = Open();
  std::ofstream(dir_.path() / "k")
      << R"({"content": 1, "expiration": "10000-01-01T00:00:00"})";
  EXPECT_THAT(cache.get("k"),
              StatusIs(ErrorCode::kDataLoss,
                       ::testing::HasSubstr(
                           "bad expiration \"10000-01-01T00:00:00\", want")));
}

TEST_F(JsonCacheTest, DeepContentIsACleanError) {
  JsonCache cache = Open();
  Json value = Json::array();
  for (int i = 0; i < 1023; ++i) value = Json::array({std::move(value)});
  BACKENDS_ASSERT_OK(cache.set("fits", value));  // 1024 levels, enveloped.
  EXPECT_THAT(cache.get("fits"), IsOkAndHolds(Optional(value)));
  value = Json::array({std::move(value)});
  EXPECT_THAT(cache.set("deep", value), StatusIs(ErrorCode::kInvalidArgument));
  std::ofstream(dir_.path() / "stored")
      << "{\"content\": " << std::string(100000, '[')
      << std::string(100000, ']')
      << ", \"expiration\": \"2999-01-01T00:00:00\"}";
  EXPECT_THAT(cache.get("stored"), StatusIs(ErrorCode::kDataLoss));
  EXPECT_THAT(cache.prune(), IsOkAndHolds(0u));  // Reported, never deleted.
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "stored"));
}

TEST_F(JsonCacheTest, PerObjectTimeoutOverridesDefault) {
  JsonCache cache = Open();
  const Json value = {{"v", 1}};
  BACKENDS_ASSERT_OK(cache.dump("default", value));
  BACKENDS_ASSERT_OK(cache.set("ten", value, seconds(10)));
  BACKENDS_ASSERT_OK(cache.dump("zero", value, seconds(0)));
  BACKENDS_ASSERT_OK(cache.dump("never", value, kNeverExpires));
  BACKENDS_ASSERT_OK(cache.dump("long", value, seconds(1000)));
  // 0 means already expired, not "the default".
  EXPECT_THAT(cache.load("zero"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(cache.load("ten"), IsOkAndHolds(Optional(value)));
  clock_->Advance(seconds(9));
  EXPECT_THAT(cache.get("ten"), IsOkAndHolds(Optional(value)));
  clock_->Advance(seconds(1));
  EXPECT_THAT(cache.load("ten"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(cache.load("default"), IsOkAndHolds(Optional(value)));
  clock_->Advance(seconds(290));  // 300 s after the dump.
  EXPECT_THAT(cache.load("default"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(cache.load("long"), IsOkAndHolds(Optional(value)));
  clock_->Set(FakeClock::At(2250, 1, 1));
  EXPECT_THAT(cache.keys(), IsOkAndHolds(ElementsAre("never")));
  EXPECT_THAT(cache.store().dump("bad", "{}", seconds(-1)),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(JsonCache::InMemory({.timeout = seconds(-5)}),
              StatusIs(ErrorCode::kInvalidArgument));
}

TEST_F(JsonCacheTest, WritesTheOriginalsEnvelope) {
  JsonCache cache = Open();
  BACKENDS_ASSERT_OK(cache.dump("k", {{"b", 1}, {"a", "caf\u00e9"}}));
  BACKENDS_ASSERT_OK(cache.dump("n", Json::array({1, 2}), kNeverExpires));
  EXPECT_EQ(ReadFile(dir_.path() / "k"),
            "{\n    \"content\": {\n        \"a\": \"caf\\u00e9\",\n"
            "        \"b\": 1\n    },\n"
            "    \"expiration\": \"2030-01-01T00:05:00\"\n}");
  EXPECT_EQ(ReadFile(dir_.path() / "n"),
            "{\n    \"content\": [\n        1,\n        2\n    ],\n"
            "    \"expiration\": \"9999-12-31T23:59:59\"\n}");
}

TEST(EnvelopeTextTest, MatchesDumpJsonOfTheWholeEnvelope) {
  const Json values[] = {
      Json::parse(R"({"z":[1,{"y":"a\nb","x":[]},{}],"a":"\u4e2d","m":null})"),
      Json::array(), Json::object(), Json("text"), Json(1.5)};
  const JsonFormat formats[] = {
      {}, {.indent = 2}, {.indent = -1}, {.indent = 4, .ensure_ascii = false}};
  const auto when = std::chrono::sys_seconds(seconds(1893456300));
  for (const auto& format : formats) {
    for (const auto& value : values) {
      Json whole = {{"content", value}, {"expiration", "2030-01-01T00:05:00"}};
      EXPECT_EQ(cache_internal::WrapEnvelope(DumpJson(value, format).value(),
                                             when, format),
                DumpJson(whole, format).value())
          << value.dump() << " indent " << format.indent;
    }
  }
}

TEST_F(JsonCacheTest, ExpiryIsCheckedOnEveryAccess) {
  JsonCache cache = Open();
  const Json value = {{"v", 2}};
  auto expire = [&](const char* key) {
    clock_->Set(FakeClock::At(2030, 1, 1));
    BACKENDS_ASSERT_OK(cache.dump(key, value, seconds(60)));
    ASSERT_THAT(cache.load(key), IsOkAndHolds(Optional(value)));
    clock_->Advance(seconds(60));
  };
  expire("a");
  EXPECT_THAT(cache.contains("a"), IsOkAndHolds(false));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "a"));
  expire("b");
  EXPECT_THAT(cache.keys(), IsOkAndHolds(IsEmpty()));
  expire("c");
  EXPECT_THAT(cache.size(), IsOkAndHolds(0u));
  expire("d");
  EXPECT_THAT(cache.items(), IsOkAndHolds(IsEmpty()));
  expire("e");
  EXPECT_EQ(cache.begin(), std::default_sentinel);
  expire("f");
  EXPECT_THAT(cache.store().stat("f"),
              IsOkAndHolds(::testing::Eq(std::nullopt)));
  expire("g");
  EXPECT_THAT(cache.remove("g"), IsOkAndHolds(false));
  EXPECT_EQ(cache.stats().expirations, 7u);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(JsonCacheTest, ListEntriesShowLiveEntriesAsLoadGivesThem) {
  JsonCache cache = Open();
  BACKENDS_ASSERT_OK(cache.dump("a/live", {{"v", 1}}, seconds(1000)));
  BACKENDS_ASSERT_OK(cache.dump("a/old", {{"v", 2}}, seconds(10)));
  BACKENDS_ASSERT_OK(cache.dump("b/old", {{"v", 3}}, seconds(10)));
  WriteFile(dir_.path() / "corrupt", "{\"content\": 1, \"expir");
  clock_->Advance(seconds(50));
  ASSERT_OK_AND_ASSIGN(auto page, cache.store().list_entries({}));
  ASSERT_EQ(page.entries.size(), 2u);
  EXPECT_EQ(page.entries[0].key, "a/live");
  // The content's size as load gives it, not the stored envelope's.
  ASSERT_OK_AND_ASSIGN(auto text, cache.store().load("a/live"));
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(page.entries[0].info.size, text->size());
  EXPECT_EQ(page.entries[1].key, "corrupt");  // listed, as keys() lists it
  EXPECT_EQ(cache.stats().expirations, 2u);
  BACKENDS_ASSERT_OK(cache.dump("b/old", {{"v", 4}}, seconds(10)));
  clock_->Advance(seconds(50));
  ASSERT_OK_AND_ASSIGN(auto level,
                       cache.store().list_entries({.delimiter = "/"}));
  EXPECT_THAT(level.common_prefixes, ElementsAre("a/"));  // b/ expired
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "b"));
}

TEST_F(JsonCacheTest, PruneRemovesExpiredAndKeepsCorruptEntries) {
  JsonCache cache = Open();
  for (int i = 0; i < 6; ++i) {
    BACKENDS_ASSERT_OK(cache.dump("k" + std::to_string(i), {{"i", i}},
                                  seconds(i % 2 == 0 ? 10 : 100)));
  }
  WriteFile(dir_.path() / "corrupt", "{\"content\": 1, \"expir");
  WriteFile(dir_.path() / "nostamp", "{\"content\": 1}");
  clock_->Advance(seconds(50));
  EXPECT_THAT(cache.prune(), IsOkAndHolds(3u));
  EXPECT_THAT(cache.keys(), IsOkAndHolds(ElementsAre("corrupt", "k1", "k3",
                                                     "k5", "nostamp")));
  EXPECT_THAT(cache.load("corrupt"), StatusIs(ErrorCode::kDataLoss));
  EXPECT_THAT(cache.load("nostamp"),
              StatusIs(ErrorCode::kDataLoss, ::testing::HasSubstr("nostamp")));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "corrupt"));
  EXPECT_THAT(cache.prune(), IsOkAndHolds(0u));
  EXPECT_THAT(cache.remove("corrupt"),
              IsOkAndHolds(true));  // On purpose: fine.
}

TEST_F(JsonCacheTest, ClearDropsEverything) {
  JsonCache cache = Open();
  BACKENDS_ASSERT_OK(cache.dump("live", {{"a", 1}}));
  BACKENDS_ASSERT_OK(cache.dump("nested/live", {{"a", 1}}, kNeverExpires));
  BACKENDS_ASSERT_OK(cache.dump("dead", {{"a", 1}}, seconds(0)));
  ASSERT_THAT(cache.load("live"), IsOkAndHolds(Optional(Json{{"a", 1}})));
  BACKENDS_ASSERT_OK(cache.clear());
  EXPECT_THAT(cache.load("live"),
              IsOkAndHolds(std::nullopt));  // No stale copy.
  EXPECT_THAT(cache.load("nested/live"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(cache.size(), IsOkAndHolds(0u));
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(JsonCacheTest, ReadsAFolderWrittenByTheOriginal) {
  const auto now = FakeClock::At(2030, 1, 1);
  auto [status, out] =
      RunCommand(Python("write " + dir_.path().string() + " " +
                        std::to_string(FakeClock::EpochSeconds(now))));
  ASSERT_EQ(status, 0) << out;
  auto [sample_status, sample_text] = RunCommand(Python("samples"));
  ASSERT_EQ(sample_status, 0);
  ASSERT_OK_AND_ASSIGN(Json samples, ParseJson(sample_text));
  ASSERT_EQ(samples.size(), 6u);
  clock_->Set(now + seconds(60));
  JsonCache cache = Open();
  std::vector<std::string> live;
  for (const auto& [key, sample] : samples.items()) {
    SCOPED_TRACE(key);
    const std::string before = ReadFile(dir_.path() / key);
    const bool expired =
        !sample["timeout"].is_null() && sample["timeout"].get<int>() <= 60;
    if (expired) {
      EXPECT_THAT(cache.load(key), IsOkAndHolds(std::nullopt));
      EXPECT_FALSE(std::filesystem::exists(dir_.path() / key));
    } else {
      EXPECT_THAT(cache.load(key), IsOkAndHolds(Optional(sample["content"])));
      EXPECT_EQ(ReadFile(dir_.path() / key), before);  // Read, not rewritten.
      live.push_back(key);
    }
  }
  std::sort(live.begin(), live.end());
  EXPECT_THAT(cache.keys(), IsOkAndHolds(::testing::ElementsAreArray(live)));
  EXPECT_EQ(live.size(), 5u);  // Only "short" (30 s) has expired.
}

TEST_F(JsonCacheTest, TheOriginalReadsWhatWeWrite) {
  const auto now = FakeClock::At(2030, 1, 1) + seconds(12345);
  clock_->Set(now);
  auto [sample_status, sample_text] = RunCommand(Python("samples"));
  ASSERT_EQ(sample_status, 0);
  ASSERT_OK_AND_ASSIGN(Json samples, ParseJson(sample_text));
  JsonCache cache = Open();
  for (const auto& [key, sample] : samples.items()) {
    const seconds timeout = sample["timeout"].is_null()
                                ? kNeverExpires
                                : seconds(sample["timeout"].get<int>());
    BACKENDS_ASSERT_OK(cache.dump(key, sample["content"], timeout));
  }
  auto [status, out] =
      RunCommand(Python("verify " + dir_.path().string() + " " +
                        std::to_string(FakeClock::EpochSeconds(now))));
  EXPECT_EQ(status, 0) << out;
  // The original's get() sees our expiry: "short" has 30 s.
  auto [get_status, got] = RunCommand(
      Python("get " + dir_.path().string() + " " +
             std::to_string(FakeClock::EpochSeconds(now) + 31) + " short"));
  EXPECT_EQ(get_status, 0);
  EXPECT_EQ(got, "null\n");
}

TEST_F(JsonCacheTest, EvictsLeastRecentlyUsedAndCounts) {
  auto cache_or =
      JsonCache::InMemory({.clock = clock_, .limits = {.max_entries = 3}});
  ASSERT_THAT(cache_or, IsOk());
  JsonCache cache = std::move(cache_or).value();
  for (const char* key : {"a", "b", "c"}) {
    BACKENDS_ASSERT_OK(cache.dump(key, {{"k", key}}));
  }
  ASSERT_THAT(cache.load("a"),
              IsOkAndHolds(Optional(Json{{"k", "a"}})));      // hit
  EXPECT_THAT(cache.load("zz"), IsOkAndHolds(std::nullopt));  // miss
  BACKENDS_ASSERT_OK(cache.dump("d", {{"k", "d"}}));          // evicts b
  EXPECT_THAT(cache.keys(), IsOkAndHolds(ElementsAre("a", "c", "d")));
  BACKENDS_ASSERT_OK(cache.dump("e", {{"k", "e"}}));  // evicts c
  EXPECT_THAT(cache.keys(), IsOkAndHolds(ElementsAre("a", "d", "e")));
  CacheStats stats = cache.stats();
  EXPECT_EQ(stats.evictions, 2u);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.expirations, 0u);
}

TEST_F(JsonCacheTest, ByteLimitAndExistingEntriesOldestFirst) {
  {
    JsonCache writer = Open();
    for (const char* key : {"old", "mid", "new"}) {
      BACKENDS_ASSERT_OK(writer.dump(key, {{"pad", std::string(100, 'x')}}));
    }
  }
  // Give the files distinct ages: "old" oldest.
  int age = 3;
  for (const char* key : {"old", "mid", "new"}) {
    std::filesystem::last_write_time(
        dir_.path() / key, std::filesystem::file_time_type::clock::now() -
                               std::chrono::hours(age--));
  }
  const auto entry = ReadFile(dir_.path() / "old").size();
  JsonCache cache = Open({.limits = {.max_bytes = 3 * entry + 10}});
  BACKENDS_ASSERT_OK(cache.dump("newest", {{"pad", std::string(100, 'y')}}));
  EXPECT_THAT(cache.keys(), IsOkAndHolds(ElementsAre("mid", "new", "newest")));
  EXPECT_EQ(cache.stats().evictions, 1u);
}

TEST_F(JsonCacheTest, NothingIsEvictedWithoutALimit) {
  JsonCache cache = Open();
  for (int i = 0; i < 200; ++i) {
    BACKENDS_ASSERT_OK(cache.dump("k" + std::to_string(i), {{"i", i}}));
  }
  EXPECT_THAT(cache.size(), IsOkAndHolds(200u));
  EXPECT_EQ(cache.stats().evictions, 0u);
}

TEST(JsonEnvelopeFailureTest, StoreFailuresAreReportedNotMissing) {
  auto faulty_owner =
      std::make_unique<FaultyBackend>(std::make_unique<VolatileBackend>());
  FaultyBackend* faulty = faulty_owner.get();
  ASSERT_OK_AND_ASSIGN(auto layer,
                       NewJsonEnvelopeBackend(std::move(faulty_owner)));
  BACKENDS_ASSERT_OK(layer->dump("k", "[1]"));
  faulty->Fail(FaultyBackend::Op::kLoad, IOError("injected EIO"));
  EXPECT_THAT(layer->load("k"), StatusIs(ErrorCode::kIOError));
  EXPECT_THAT(layer->keys(), StatusIs(ErrorCode::kIOError));
  EXPECT_THAT(layer->list_entries({}), StatusIs(ErrorCode::kIOError));
  EXPECT_THAT(layer->contains("k"), StatusIs(ErrorCode::kIOError));
  faulty->Heal();
  faulty->Fail(FaultyBackend::Op::kList, UnavailableError("injected"));
  EXPECT_THAT(layer->list_entries({.delimiter = "/"}),
              StatusIs(ErrorCode::kUnavailable));
  faulty->Heal();
  faulty->Fail(FaultyBackend::Op::kDump, UnavailableError("injected"));
  EXPECT_THAT(layer->dump("k", "[2]"), StatusIs(ErrorCode::kUnavailable));
  faulty->Heal();
  EXPECT_THAT(layer->load("k"),
              IsOkAndHolds(Optional(std::string("[\n    1\n]"))));
  EXPECT_THAT(layer->dump("k", "not json"),
              StatusIs(ErrorCode::kInvalidArgument));
}

// A store whose list() fails: prune() and size() must read pages instead of
// gathering every key. Records the pages asked for.
class PagesOnlyBackend final : public BackendWrapper {
 public:
  using BackendWrapper::BackendWrapper;
  Result<std::vector<std::string>> list(std::string_view) override {
    return FailedPreconditionError("list() gathers every key");
  }
  Result<KeyPage> list_page(std::string_view prefix,
                            std::string_view start_after,
                            std::size_t limit) override {
    ++pages;
    largest_limit = std::max(largest_limit, limit);
    return BackendWrapper::list_page(prefix, start_after, limit);
  }
  int pages = 0;
  std::size_t largest_limit = 0;
};

TEST(JsonEnvelopePagingTest, PruneAndSizeReadPagesAcrossPageBoundaries) {
  auto owner =
      std::make_unique<PagesOnlyBackend>(std::make_unique<VolatileBackend>());
  PagesOnlyBackend* pages = owner.get();
  auto clock = std::make_shared<FakeClock>();
  ASSERT_OK_AND_ASSIGN(auto layer,
                       NewJsonEnvelopeBackend(std::move(owner),
                                              ExpiryOptions{.clock = clock}));
  constexpr int kEntries = 2500;  // three pages of 1,000
  for (int i = 0; i < kEntries; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%05d", i);
    BACKENDS_ASSERT_OK(layer->dump(key, "1", seconds(i % 3 == 0 ? 10 : 100)));
  }
  clock->Advance(seconds(50));
  EXPECT_THAT(layer->prune(), IsOkAndHolds(834u));  // i % 3 == 0
  EXPECT_GE(pages->pages, 3);
  EXPECT_LE(pages->largest_limit, 1000u);
  EXPECT_THAT(layer->size(), IsOkAndHolds(static_cast<std::size_t>(1666)));
  EXPECT_THAT(layer->prune(), IsOkAndHolds(0u));
  EXPECT_THAT(layer->contains("k00000"), IsOkAndHolds(false));
  EXPECT_THAT(layer->contains("k00001"), IsOkAndHolds(true));
  EXPECT_THAT(layer->contains("k02498"), IsOkAndHolds(true));
  EXPECT_THAT(layer->contains("k02499"), IsOkAndHolds(false));
  clock->Advance(seconds(100));
  EXPECT_THAT(layer->prune(), IsOkAndHolds(1666u));
  EXPECT_THAT(layer->size(), IsOkAndHolds(0u));
}

// Two processes hammer one folder: every load is a whole envelope written by
// one of them, never a torn or corrupt one.
TEST_F(JsonCacheTest, TwoProcessesShareAFolderWithoutCorruption) {
  auto work = [&](int writer) {
    auto cache_or = JsonCache::Open(dir_.path());
    if (!cache_or.ok()) return 100;
    JsonCache cache = std::move(cache_or).value();
    int bad = 0;
    for (int i = 0; i < 300; ++i) {
      const std::string key = "shared/k" + std::to_string(i % 4);
      Json value = {{"writer", writer},
                    {"i", i},
                    {"pad", std::string(2000 + 37 * (i % 13),
                                        static_cast<char>('a' + writer))}};
      if (!cache.dump(key, value).ok()) ++bad;
      auto got = cache.load("shared/k" + std::to_string((i + 1) % 4));
      if (!got.ok()) {
        ++bad;
      } else if (*got) {
        const Json& v = **got;
        const int w = v.value("writer", -1);
        if ((w != 0 && w != 1) ||
            v["pad"].get<std::string>().find_first_not_of(
                static_cast<char>('a' + w)) != std::string::npos) {
          ++bad;
        }
      }
    }
    return bad;
  };
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(work(1));
  const int parent_bad = work(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(parent_bad, 0);
  // The writers used the real clock; so does this check.
  ASSERT_OK_AND_ASSIGN(JsonCache cache, JsonCache::Open(dir_.path()));
  EXPECT_THAT(cache.size(), IsOkAndHolds(4u));
}

}  // namespace
}  // namespace backends::testing

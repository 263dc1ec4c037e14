// TextCache: expiry by the file's modification time (set here with
// utimensat), or by the clock's time of the dump in memory.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "backends/cache.h"
#include "testutil/fake_clock.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

// Sets the file's modification time (not its ctime, which cannot be set).
void SetMtime(const std::filesystem::path& path, FakeClock::TimePoint t) {
  const auto ns = t.time_since_epoch().count();
  timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = static_cast<time_t>(ns / 1000000000);
  times[1].tv_nsec = static_cast<long>(ns % 1000000000);
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

class TextCacheTest : public ::testing::Test {
 protected:
  TextCache Open(CacheOptions options = {}) {
    options.clock = clock_;
    auto cache = TextCache::Open(dir_.path(), options);
    EXPECT_THAT(cache, IsOk());
    return std::move(cache).value();
  }

  ScopedTempDir dir_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
};

TEST_F(TextCacheTest, ListEntriesJudgeExpiryFromTheListing) {
  TextCache cache = Open();  // 300 s.
  BACKENDS_ASSERT_OK(cache.dump("a/new", "fresh"));
  BACKENDS_ASSERT_OK(cache.dump("a/old", "stale"));
  BACKENDS_ASSERT_OK(cache.dump("b/old", "stale"));
  const auto now = clock_->now();
  SetMtime(dir_.path() / "a" / "new", now - seconds(10));
  SetMtime(dir_.path() / "a" / "old", now - seconds(400));
  SetMtime(dir_.path() / "b" / "old", now - seconds(400));
  ASSERT_OK_AND_ASSIGN(auto level,
                       cache.store().list_entries({.delimiter = "/"}));
  EXPECT_THAT(level.entries, IsEmpty());
  EXPECT_THAT(level.common_prefixes, ElementsAre("a/"));
  ASSERT_OK_AND_ASSIGN(auto page, cache.store().list_entries({}));
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].key, "a/new");
  EXPECT_EQ(page.entries[0].info.size, 5u);
  EXPECT_EQ(cache.stats().expirations, 2u);  // removed on the way
  EXPECT_THAT(cache.keys(), IsOkAndHolds(ElementsAre("a/new")));
}

TEST_F(TextCacheTest, ExpiresByModificationTimeInSeconds) {
  TextCache cache = Open();  // 300 s.
  BACKENDS_ASSERT_OK(cache.dump("page", "caf\xc3\xa9"));
  const auto now = clock_->now();
  SetMtime(dir_.path() / "page", now - seconds(10));
  EXPECT_THAT(cache.load("page"),
              IsOkAndHolds(Optional(std::string("caf\xc3\xa9"))));
  SetMtime(dir_.path() / "page", now - seconds(300) + milliseconds(1));
  EXPECT_THAT(cache.get("page"),
              IsOkAndHolds(Optional(std::string("caf\xc3\xa9"))));
  // 300 s old by mtime: expired, although its ctime is now (the original
  // used ctime) and far below 300 000 s (the original multiplied by 1000).
  SetMtime(dir_.path() / "page", now - seconds(300));
  EXPECT_THAT(cache.load("page"), IsOkAndHolds(std::nullopt));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "page"));
  EXPECT_EQ(cache.stats().expirations, 1u);
  EXPECT_EQ(cache.stats().hits, 2u);
  EXPECT_EQ(cache.stats().misses, 1u);
}

// The original never expired a file stamped in the future. A time ahead by
// less than the timeout (clock skew) lives until that time plus the
// timeout; further ahead, the entry has expired.
TEST_F(TextCacheTest, FutureModificationTimeExpires) {
  TextCache cache = Open();  // 300 s.
  const auto now = clock_->now();
  BACKENDS_ASSERT_OK(cache.dump("skewed", "a"));
  SetMtime(dir_.path() / "skewed", now + seconds(200));
  EXPECT_THAT(cache.get("skewed"), IsOkAndHolds(Optional(std::string("a"))));
  clock_->Advance(seconds(499));
  EXPECT_THAT(cache.get("skewed"), IsOkAndHolds(Optional(std::string("a"))));
  clock_->Advance(seconds(1));
  EXPECT_THAT(cache.get("skewed"), IsOkAndHolds(std::nullopt));

  BACKENDS_ASSERT_OK(cache.dump("ahead", "b"));
  SetMtime(dir_.path() / "ahead", clock_->now() + seconds(301));
  EXPECT_THAT(cache.get("ahead"), IsOkAndHolds(std::nullopt));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "ahead"));

  // Year 10000: past system_clock's range, clamped, expired.
  BACKENDS_ASSERT_OK(cache.dump("far", "c"));
  timespec times[2] = {{0, UTIME_OMIT}, {253402300800, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir_.path() / "far").c_str(), times, 0), 0);
  EXPECT_THAT(cache.prune(), IsOkAndHolds(1u));
  EXPECT_THAT(cache.keys(), IsOkAndHolds(IsEmpty()));
}

TEST_F(TextCacheTest, ExpiryOnEveryAccessPruneAndClear) {
  TextCache cache = Open({.timeout = seconds(60)});
  const auto now = clock_->now();
  for (const char* key : {"a", "b", "dir/c", "d"}) {
    BACKENDS_ASSERT_OK(cache.dump(key, key));
    SetMtime(dir_.path() / key, now);
  }
  SetMtime(dir_.path() / "a", now - seconds(61));
  EXPECT_THAT(cache.keys(), IsOkAndHolds(ElementsAre("b", "d", "dir/c")));
  SetMtime(dir_.path() / "b", now - seconds(61));
  EXPECT_THAT(cache.contains("b"), IsOkAndHolds(false));
  EXPECT_THAT(cache.size(), IsOkAndHolds(2u));
  clock_->Advance(seconds(59));
  EXPECT_THAT(cache.prune(), IsOkAndHolds(0u));
  clock_->Advance(seconds(1));
  EXPECT_THAT(cache.prune(), IsOkAndHolds(2u));
  EXPECT_THAT(cache.keys(), IsOkAndHolds(IsEmpty()));
  BACKENDS_ASSERT_OK(cache.dump("x", "y"));
  BACKENDS_ASSERT_OK(cache.clear());
  EXPECT_THAT(cache.load("x"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(cache.dump("bad", "\xff"), StatusIs(ErrorCode::kInvalidArgument));
}

TEST_F(TextCacheTest, ZeroTimeoutMeansAlreadyExpired) {
  TextCache cache = Open({.timeout = seconds(0)});
  BACKENDS_ASSERT_OK(cache.dump("k", "v"));
  SetMtime(dir_.path() / "k", clock_->now());
  EXPECT_THAT(cache.load("k"), IsOkAndHolds(std::nullopt));
}

TEST_F(TextCacheTest, InMemoryKeepsItsOwnTimestamps) {
  ASSERT_OK_AND_ASSIGN(TextCache cache, TextCache::InMemory({.clock = clock_}));
  BACKENDS_ASSERT_OK(cache.dump("k", "v"));
  clock_->Advance(seconds(299));
  EXPECT_THAT(cache.load("k"), IsOkAndHolds(Optional(std::string("v"))));
  BACKENDS_ASSERT_OK(cache.dump("k", "w"));  // A rewrite restarts the clock.
  clock_->Advance(seconds(299));
  EXPECT_THAT(cache.load("k"), IsOkAndHolds(Optional(std::string("w"))));
  clock_->Advance(seconds(1));
  EXPECT_THAT(cache.load("k"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(cache.keys(), IsOkAndHolds(IsEmpty()));
}

TEST_F(TextCacheTest, EvictsLeastRecentlyUsed) {
  ASSERT_OK_AND_ASSIGN(
      TextCache cache,
      TextCache::InMemory({.clock = clock_, .limits = {.max_bytes = 30}}));
  BACKENDS_ASSERT_OK(cache.dump("a", std::string(10, 'a')));
  BACKENDS_ASSERT_OK(cache.dump("b", std::string(10, 'b')));
  BACKENDS_ASSERT_OK(cache.dump("c", std::string(10, 'c')));
  ASSERT_THAT(cache.load("a"), IsOkAndHolds(Optional(std::string(10, 'a'))));
  BACKENDS_ASSERT_OK(cache.dump("d", std::string(5, 'd')));  // b goes
  EXPECT_THAT(cache.keys(), IsOkAndHolds(ElementsAre("a", "c", "d")));
  EXPECT_EQ(cache.stats().evictions, 1u);
}

}  // namespace
}  // namespace backends::testing

// A JsonCache in a folder serves decoded copies of what it read, and only
// while the file is unchanged: rewrites by another instance, by the Python
// original in place (same inode, same size), removals, clear() and expiry
// are all seen at once. Settling waits for the filesystem's clock to move
// past a file's change time (a few milliseconds), never for expiry.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <vector>

#include "backends/cache.h"
#include "backends/file.h"
#include "cache/json_cache_fixture.h"
#include "testutil/fake_clock.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

using std::chrono::seconds;
using ::testing::Optional;

// Waits until a load of `key` in `root` comes back with a settled stamp.
void WaitUntilSettled(const std::filesystem::path& root, std::string_view key) {
  ASSERT_OK_AND_ASSIGN(auto files, FileBackend::Open(root));
  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<FileStamp> settled;
    ASSERT_OK_AND_ASSIGN(auto value, files->load_stamped(key, settled));
    ASSERT_TRUE(value.has_value()) << key;
    if (settled) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  FAIL() << key << " did not settle in 5 s";
}

std::string Python(const std::string& args) {
  return std::string(BACKENDS_PYTHON3) + " " + BACKENDS_ORIGINAL_CACHE_SCRIPT +
         " " + args + " >/dev/null";
}

std::uint64_t DecodedHits(const JsonCache& cache) {
  return cache.stats().decoded_hits;
}

class DecodedCopiesTest : public JsonCacheFolderTest {
 protected:
  // Once `key`'s file has settled, a load makes a copy (unless one was made
  // earlier), and the next load is served from it.
  void MakeCopy(JsonCache& cache, std::string_view key) {
    WaitUntilSettled(dir_.path(), key);
    BACKENDS_ASSERT_OK(cache.load(key).status());
    const auto before = DecodedHits(cache);
    BACKENDS_ASSERT_OK(cache.load(key).status());
    ASSERT_EQ(DecodedHits(cache), before + 1) << key;
  }
};

TEST_F(DecodedCopiesTest, ServedWhileTheFileIsUnchanged) {
  JsonCache cache = Open();
  const Json value = {{"a", 1}, {"list", {1, 2, 3}}};
  BACKENDS_ASSERT_OK(cache.set("k", value));
  MakeCopy(cache, "k");
  const CacheStats before = cache.stats();
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(cache.get("k"), IsOkAndHolds(Optional(value)));
  }
  EXPECT_THAT(cache.contains("k"), IsOkAndHolds(true));
  const CacheStats after = cache.stats();
  EXPECT_EQ(after.decoded_hits - before.decoded_hits, 4u);
  // The copy's hits are hits like any other.
  EXPECT_EQ(after.hits - before.hits, 3u);
}

TEST_F(DecodedCopiesTest, AnotherInstancesWriteIsSeen) {
  JsonCache cache = Open();
  JsonCache other = Open();
  BACKENDS_ASSERT_OK(cache.set("k", Json("old")));
  MakeCopy(cache, "k");
  BACKENDS_ASSERT_OK(other.set("k", Json("new")));
  EXPECT_THAT(cache.get("k"), IsOkAndHolds(Optional(Json("new"))));
  BACKENDS_ASSERT_OK(cache.set("nested/k", Json(1)));
  MakeCopy(cache, "nested/k");
  EXPECT_THAT(other.remove("nested/k"), IsOkAndHolds(true));
  EXPECT_THAT(cache.get("nested/k"), IsOkAndHolds(std::nullopt));
  MakeCopy(cache, "k");
  BACKENDS_ASSERT_OK(other.clear());
  EXPECT_THAT(cache.get("k"), IsOkAndHolds(std::nullopt));
}

// The original rewrites a file in place: same inode, and here the same size
// in the same second. Only the change time tells, and it is enough.
TEST_F(DecodedCopiesTest, AnInPlaceRewriteByTheOriginalIsSeen) {
  const auto now = FakeClock::At(2030, 1, 1);
  ASSERT_EQ(std::system(Python("write " + dir_.path().string() + " " +
                               std::to_string(FakeClock::EpochSeconds(now)))
                            .c_str()),
            0);
  clock_->Set(now + seconds(10));
  JsonCache cache = Open();
  MakeCopy(cache, "plain");  // Expires at now + 300.
  const std::string file = (dir_.path() / "plain").string();
  struct stat before;
  ASSERT_EQ(::stat(file.c_str(), &before), 0);
  const auto hits = DecodedHits(cache);
  EXPECT_THAT(cache.contains("plain"), IsOkAndHolds(true));
  ASSERT_EQ(DecodedHits(cache), hits + 1);
  // Rewritten as if set 1000 s earlier: expired by now + 10.
  ASSERT_EQ(
      std::system(Python("write " + dir_.path().string() + " " +
                         std::to_string(FakeClock::EpochSeconds(now) - 1000))
                      .c_str()),
      0);
  struct stat after;
  ASSERT_EQ(::stat(file.c_str(), &after), 0);
  ASSERT_EQ(after.st_ino, before.st_ino);
  ASSERT_EQ(after.st_size, before.st_size);
  EXPECT_THAT(cache.get("plain"), IsOkAndHolds(std::nullopt));
  EXPECT_EQ(cache.stats().expirations, 1u);
}

TEST_F(DecodedCopiesTest, ExpiryIsCheckedOnEveryAccess) {
  JsonCache cache = Open();
  BACKENDS_ASSERT_OK(cache.set("k", Json(1), seconds(60)));
  MakeCopy(cache, "k");
  const auto hits = DecodedHits(cache);
  clock_->Advance(seconds(59));
  EXPECT_THAT(cache.get("k"), IsOkAndHolds(Optional(Json(1))));
  EXPECT_EQ(DecodedHits(cache), hits + 1);
  clock_->Advance(seconds(1));
  EXPECT_THAT(cache.get("k"), IsOkAndHolds(std::nullopt));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "k"));
  EXPECT_EQ(DecodedHits(cache), hits + 1);
  EXPECT_EQ(cache.stats().expirations, 1u);
}

TEST_F(DecodedCopiesTest, BoundedByStoredBytesLeastRecentlyUsedFirst) {
  // Each entry is 82 bytes stored: room for two.
  JsonCache cache = Open({.decoded_bytes = 200});
  for (const char* key : {"a", "b", "c"}) {
    BACKENDS_ASSERT_OK(cache.set(key, Json(std::string(20, key[0]))));
  }
  MakeCopy(cache, "a");
  MakeCopy(cache, "b");
  MakeCopy(cache, "c");  // Drops a's copy.
  auto served_from_copy = [&](const char* key) {
    const auto before = DecodedHits(cache);
    EXPECT_THAT(cache.get(key),
                IsOkAndHolds(Optional(Json(std::string(20, key[0])))));
    return DecodedHits(cache) == before + 1;
  };
  EXPECT_TRUE(served_from_copy("b"));
  EXPECT_TRUE(served_from_copy("c"));
  EXPECT_FALSE(served_from_copy("a"));  // From the file; drops b's copy.
  EXPECT_TRUE(served_from_copy("a"));
  EXPECT_TRUE(served_from_copy("c"));
  EXPECT_FALSE(served_from_copy("b"));
}

TEST_F(DecodedCopiesTest, ZeroBytesKeepsNone) {
  JsonCache cache = Open({.decoded_bytes = 0});
  BACKENDS_ASSERT_OK(cache.set("k", Json(1)));
  WaitUntilSettled(dir_.path(), "k");
  for (int i = 0; i < 3; ++i) BACKENDS_ASSERT_OK(cache.get("k").status());
  EXPECT_EQ(cache.stats().decoded_hits, 0u);
  EXPECT_EQ(cache.stats().hits, 3u);
}

TEST_F(DecodedCopiesTest, CallersGetTheirOwnValue) {
  JsonCache cache = Open();
  BACKENDS_ASSERT_OK(cache.set("k", Json::array({1})));
  MakeCopy(cache, "k");
  ASSERT_OK_AND_ASSIGN(auto first, cache.get("k"));
  ASSERT_TRUE(first.has_value());
  first->push_back(2);  // The caller's value, not the cache's.
  EXPECT_THAT(cache.get("k"), IsOkAndHolds(Optional(Json::array({1}))));
}

TEST_F(DecodedCopiesTest, SharedLoadsShareTheCopyUntilARewrite) {
  JsonCache cache = Open();
  BACKENDS_ASSERT_OK(cache.set("k", Json::array({1})));
  MakeCopy(cache, "k");
  ASSERT_OK_AND_ASSIGN(auto first, cache.store().load_json_shared("k"));
  ASSERT_OK_AND_ASSIGN(auto second, cache.store().load_json_shared("k"));
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first.get(), second.get());  // One tree, not two copies.
  BACKENDS_ASSERT_OK(cache.set("k", Json::array({2})));
  ASSERT_OK_AND_ASSIGN(auto third, cache.store().load_json_shared("k"));
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(*third, Json::array({2}));
  EXPECT_EQ(*first, Json::array({1}));  // A holder's value never changes.
  BACKENDS_ASSERT_OK(cache.remove("k").status());
  EXPECT_THAT(cache.store().load_json_shared("k"), IsOkAndHolds(nullptr));
}

// Readers on settled copies while a writer rewrites the same keys: every
// value read is one that was written, and after the writer stops every
// reader sees its last values.
TEST_F(DecodedCopiesTest, ThreadsReadWhileAnotherWrites) {
  JsonCache cache = Open();
  constexpr int kKeys = 4;
  for (int k = 0; k < kKeys; ++k) {
    BACKENDS_ASSERT_OK(cache.set("k" + std::to_string(k), Json(-1)));
    WaitUntilSettled(dir_.path(), "k" + std::to_string(k));
  }
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        for (int k = 0; k < kKeys; ++k) {
          auto got = cache.get("k" + std::to_string(k));
          if (!got.ok() || !got->has_value() || !(*got)->is_number_integer() ||
              (*got)->get<int>() < -1 || (*got)->get<int>() >= 200) {
            ++bad;
          }
        }
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    BACKENDS_ASSERT_OK(cache.set("k" + std::to_string(i % kKeys), Json(i)));
  }
  done = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(bad.load(), 0);
  for (int k = 0; k < kKeys; ++k) {
    EXPECT_THAT(cache.get("k" + std::to_string(k)),
                IsOkAndHolds(Optional(Json(196 + k))));
  }
}

}  // namespace
}  // namespace backends::testing

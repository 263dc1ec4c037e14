// ls from listing pages (-l, --delimiter, filters), stat, cp --update and
// sync (--delete, --dry-run, --include/--exclude), rm --recursive and
// cache prune, on folders: what each prints, that each changes exactly what
// it says, and that a signal stops rm -r, sync --delete and cache prune
// between two keys.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

// Every file under `root`: its bytes and modification time, to show that
// a command changed nothing.
struct FileState {
  std::string bytes;
  std::int64_t mtime_ns = 0;
  ino_t inode = 0;
  bool operator==(const FileState&) const = default;
};

std::map<std::string, FileState> Snapshot(const fs::path& root) {
  std::map<std::string, FileState> files;
  if (!fs::exists(root)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    struct stat st {};
    ::stat(entry.path().c_str(), &st);
    files[entry.path().lexically_relative(root).string()] = {
        ReadFile(entry.path()),
        st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec, st.st_ino};
  }
  return files;
}

class CliSyncTest : public ::testing::Test {
 protected:
  CliResult Run(std::vector<std::string> args) {
    return RunCli(dir_.path(), std::move(args));
  }
  void Put(const std::string& folder, const std::string& key,
           const std::string& value) {
    WriteFile(dir_.path() / folder / key, value);
  }
  std::string Keys(const std::string& folder) {
    return Run({"ls", folder}).out;
  }

  ScopedTempDir dir_;
};

TEST_F(CliSyncTest, LsLongAndOneLevelWithADelimiter) {
  Put("s", "a/1", "1");
  Put("s", "a/b/2", "22");
  Put("s", "a/c", "333");
  Put("s", "top", "4444");
  Put("s", "z/9", "x");
  const std::string time = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z";
  CliResult lng = Run({"ls", "-l", "s"});
  EXPECT_EQ(lng.exit_code, 0) << lng.err;
  EXPECT_THAT(lng.out, MatchesRegex(" +1  " + time + "  a/1\n +2  " + time +
                                    "  a/b/2\n +3  " + time + "  a/c\n +4  " +
                                    time + "  top\n +1  " + time + "  z/9\n"));
  // The default output is unchanged: keys only.
  EXPECT_EQ(Run({"ls", "s"}).out, "a/1\na/b/2\na/c\ntop\nz/9\n");

  CliResult root = Run({"ls", "--delimiter", "/", "s"});
  EXPECT_EQ(root.exit_code, 0) << root.err;
  EXPECT_EQ(root.out, "a/\ntop\nz/\n");
  EXPECT_EQ(Run({"ls", "-d", "/", "s", "a/"}).out, "a/1\na/b/\na/c\n");
  CliResult level = Run({"ls", "-l", "-d", "/", "s", "a/"});
  EXPECT_THAT(level.out,
              MatchesRegex(" +1  " + time + "  a/1\n +PRE  - +  a/b/\n +3  " +
                           time + "  a/c\n"));
}

TEST_F(CliSyncTest, LsListsMoreThanOnePage) {
  // 2,500 keys: three pages of 1,000, read one after the other.
  for (int i = 0; i < 2500; ++i) Put("s", "k" + std::to_string(10000 + i), "");
  CliResult ls = Run({"ls", "s"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  std::string expected;
  for (int i = 0; i < 2500; ++i)
    expected += "k" + std::to_string(10000 + i) + "\n";
  EXPECT_EQ(ls.out, expected);
  CliResult lng = Run({"ls", "-l", "s"});
  EXPECT_EQ(std::count(lng.out.begin(), lng.out.end(), '\n'), 2500);
}

TEST_F(CliSyncTest, IncludeAndExcludeTheLastMatchingRuleDecides) {
  for (const char* key : {"a.txt", "a.tmp", "d/b.txt", "d/c.log"}) {
    Put("s", key, key);
  }
  EXPECT_EQ(Run({"ls", "s", "--exclude", "*.tmp"}).out,
            "a.txt\nd/b.txt\nd/c.log\n");
  // Only --include: what no rule matches is left out; '*' crosses '/'.
  EXPECT_EQ(Run({"ls", "s", "--include", "*.txt"}).out, "a.txt\nd/b.txt\n");
  EXPECT_EQ(Run({"ls", "s", "--exclude", "d/*", "--include", "*.log"}).out,
            "d/c.log\n");
  EXPECT_EQ(Run({"ls", "s", "--include", "*.log", "--exclude", "d/*"}).out, "");
  EXPECT_EQ(Run({"ls", "s", "d/", "--exclude", "*.log"}).out, "d/b.txt\n");

  CliResult cp =
      Run({"cp", "s", "t", "--exclude", "*.tmp", "--exclude", "*.log"});
  EXPECT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_EQ(cp.err, "cp: 2 copied, 0 unchanged, 0 skipped, 0 failed\n");
  EXPECT_EQ(Keys("t"), "a.txt\nd/b.txt\n");
}

TEST_F(CliSyncTest, StatPrintsWhatTheStoreKnowsAndExit1WhenMissing) {
  Put("s", "dir/k", "12345");
  struct stat st {};
  ASSERT_EQ(::stat((dir_.path() / "s" / "dir" / "k").c_str(), &st), 0);
  char when[32];
  std::tm tm{};
  ::gmtime_r(&st.st_mtim.tv_sec, &tm);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  CliResult r = Run({"stat", "s", "dir/k"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The file store's version is its file's stamp (device, inode, size,
  // times): present, and not checked byte for byte here.
  EXPECT_THAT(r.out, ::testing::StartsWith("key: dir/k\nsize: 5\nmodified: " +
                                           std::string(when) +
                                           "\nversion: "));

  CliResult missing = Run({"stat", "s", "dir/nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.out, IsEmpty());
  EXPECT_EQ(missing.err, "backends: stat \"dir/nope\": no such key\n");
  EXPECT_EQ(Run({"stat", "s", "../x"}).exit_code, 3);
  EXPECT_EQ(Run({"stat", "typo", "k"}).exit_code, 3);
  EXPECT_FALSE(fs::exists(dir_.path() / "typo"));
}

TEST_F(CliSyncTest, CpUpdateDecidesFromTheListingsAndRewritesNothing) {
  for (int i = 0; i < 1000; ++i) Put("s", "k/" + std::to_string(i), "v");
  ASSERT_EQ(Run({"cp", "s", "t"}).exit_code, 0);
  const auto before = Snapshot(dir_.path() / "t");
  CliResult again = Run({"cp", "--update", "s", "t"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err, "cp: 0 copied, 1000 unchanged, 0 skipped, 0 failed\n");
  EXPECT_EQ(Snapshot(dir_.path() / "t"), before);  // Same inodes and times.

  // Same size, other bytes and time: copied. A destination value changed
  // behind cp's back keeps its size but not its time: copied back too.
  Put("s", "k/1", "w");
  Put("t", "k/2", "x");
  CliResult update = Run({"cp", "-u", "s", "t"});
  EXPECT_EQ(update.err, "cp: 2 copied, 998 unchanged, 0 skipped, 0 failed\n");
  EXPECT_EQ(ReadFile(dir_.path() / "t" / "k" / "1"), "w");
  EXPECT_EQ(ReadFile(dir_.path() / "t" / "k" / "2"), "v");
}

TEST_F(CliSyncTest, CpUpdateAfterSigkillCopiesOnlyWhatIsMissing) {
  constexpr int kKeys = 3000;
  for (int i = 0; i < kKeys; ++i) {
    Put("s", "k/" + std::to_string(100000 + i),
        std::string(4096, static_cast<char>('a' + i % 26)));
  }
  CliProcess cp({.args = {"cp", "s", "t", "--jobs", "2"}, .cwd = dir_.path()});
  const fs::path some = dir_.path() / "t" / "k" / "100100";
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!fs::exists(some)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "cp hangs";
  }
  ASSERT_EQ(::kill(cp.pid(), SIGKILL), 0);
  ASSERT_EQ(cp.Wait().exit_code, 128 + SIGKILL);

  CliResult resumed = Run({"cp", "--update", "s", "t"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      resumed.err, m, std::regex(R"(cp: (\d+) copied, (\d+) unchanged)")))
      << resumed.err;
  const int copied = std::stoi(m[1]);
  const int unchanged = std::stoi(m[2]);
  EXPECT_EQ(copied + unchanged, kKeys);
  // Keys go in order: k/100000 to k/100100 were done but one or two.
  EXPECT_GE(unchanged, 98);
  EXPECT_GT(copied, 0) << "cp was done before SIGKILL came";
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = "k/" + std::to_string(100000 + i);
    ASSERT_EQ(ReadFile(dir_.path() / "t" / key),
              std::string(4096, static_cast<char>('a' + i % 26)))
        << key;
  }
}

TEST_F(CliSyncTest, ChecksumComparesTheBytesOfKeysOfTheSameSize) {
  Put("s", "a", "same");
  Put("s", "b", "new!");
  Put("t", "a", "same");
  Put("t", "b", "old!");
  // The destination is newer than the source: times alone would skip b.
  const struct timespec later[2] = {{2'000'000'000, 0}, {2'000'000'000, 0}};
  for (const char* key : {"a", "b"}) {
    ASSERT_EQ(
        ::utimensat(AT_FDCWD, (dir_.path() / "t" / key).c_str(), later, 0), 0);
  }
  CliResult r = Run({"cp", "--checksum", "s", "t"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "cp: 1 copied, 1 unchanged, 0 skipped, 0 failed\n");
  EXPECT_EQ(ReadFile(dir_.path() / "t" / "b"), "new!");
}

TEST_F(CliSyncTest, DryRunPrintsThePlanAndChangesNothing) {
  Put("s", "new", "n");
  Put("s", "same", "s");
  Put("s", "changed", "c2");
  ASSERT_EQ(Run({"cp", "s", "t"}).exit_code, 0);
  Put("s", "changed", "c3");
  Put("s", "fresh", "f");
  Put("t", "extra/1", "e");
  Put("t", "extra/2", "e");
  const auto before = Snapshot(dir_.path() / "t");
  CliResult plan = Run({"sync", "--delete", "--dry-run", "s", "t"});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_EQ(plan.out,
            "copy changed\ncopy fresh\ndelete extra/1\n"
            "delete extra/2\n");
  EXPECT_EQ(plan.err,
            "sync: dry run, nothing changed: 2 to copy, 2 unchanged, 2 to "
            "delete, 0 skipped, 0 failed\n");
  EXPECT_EQ(Snapshot(dir_.path() / "t"), before);

  // Into a folder that does not exist: everything to copy, nothing made.
  CliResult fresh = Run({"sync", "-n", "--delete", "s", "nowhere/sub"});
  EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(fresh.out, "copy changed\ncopy fresh\ncopy new\ncopy same\n");
  EXPECT_FALSE(fs::exists(dir_.path() / "nowhere"));
}

TEST_F(CliSyncTest, DeleteRemovesExactlyTheKeysTheSourceLacks) {
  for (const char* key : {"a", "b/1", "b/2", "keep.lock"}) Put("s", key, key);
  for (const char* key :
       {"a", "a0", "b/1", "b/15", "b/3", "c", "keep.lock", "old.lock"}) {
    Put("t", key, "dst");
  }
  // Filters hold on both sides: an excluded key is never deleted.
  CliResult r = Run({"sync", "--delete", "s", "t", "--exclude", "*.lock"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err,
            "sync: 3 copied, 0 unchanged, 4 deleted, 0 skipped, "
            "0 failed\n");
  EXPECT_EQ(Keys("t"), "a\nb/1\nb/2\nkeep.lock\nold.lock\n");
  EXPECT_EQ(ReadFile(dir_.path() / "t" / "keep.lock"), "dst");
  EXPECT_EQ(ReadFile(dir_.path() / "t" / "b" / "2"), "b/2");
  // Under --prefix, only keys under it.
  Put("t", "b/9", "x");
  Put("t", "z", "x");
  CliResult prefixed = Run({"sync", "--delete", "s", "t", "--prefix", "b/"});
  EXPECT_EQ(prefixed.exit_code, 0) << prefixed.err;
  EXPECT_EQ(Keys("t"), "a\nb/1\nb/2\nkeep.lock\nold.lock\nz\n");
  // Without --delete nothing goes.
  Put("t", "y", "x");
  EXPECT_EQ(Run({"sync", "s", "t"}).exit_code, 0);
  EXPECT_THAT(Keys("t"), HasSubstr("y\n"));
}

TEST_F(CliSyncTest, NothingIsDeletedWhenAKeyFailsToCopy) {
  Put("s", "good", "{\"a\": 1}");
  Put("s", "bad", "not json");
  Put("t", "extra", "{}");
  CliResult r = Run({"sync", "--delete", "s", "file://./t?format=json"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("failed: dump \"bad\""));
  EXPECT_THAT(r.err, HasSubstr("; nothing deleted because a key failed\n"));
  EXPECT_EQ(Keys("t"), "extra\ngood\n");
}

TEST_F(CliSyncTest, RmRecursiveRemovesTheKeysUnderThePrefixOnly) {
  for (const char* key :
       {"logs/1", "logs/2/a", "logs/keep.me", "logsbook", "other"}) {
    Put("s", key, "x");
  }
  CliResult r = Run({"rm", "-r", "s", "logs/", "--exclude", "*.me"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "rm: removed 2 keys\n");
  EXPECT_EQ(Keys("s"), "logs/keep.me\nlogsbook\nother\n");
  EXPECT_EQ(Run({"rm", "--recursive", "s", "nothing/"}).err,
            "rm: removed 0 keys\n");
  // An empty prefix (an unset shell variable) would remove every key.
  CliResult empty = Run({"rm", "-r", "s", ""});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_THAT(empty.err, HasSubstr("non-empty PREFIX"));
  EXPECT_EQ(Run({"rm", "-r", "s", "a", "b"}).exit_code, 2);
  EXPECT_EQ(Run({"rm", "s", "other", "--exclude", "x"}).exit_code, 2);
  EXPECT_EQ(Keys("s"), "logs/keep.me\nlogsbook\nother\n");
  // Single-key rm is unchanged: a key, not a prefix.
  EXPECT_EQ(Run({"rm", "s", "logs"}).exit_code, 1);
}

TEST_F(CliSyncTest, RmRecursiveStopsBetweenKeysOnASignal) {
  constexpr int kKeys = 20000;
  for (int i = 0; i < kKeys; ++i) {
    Put("s", "doomed/" + std::to_string(100000 + i), "x");
  }
  Put("s", "kept", "k");
  CliProcess rm({.args = {"rm", "-r", "s", "doomed/"}, .cwd = dir_.path()});
  // The first key goes first (keys are removed in order): signal then.
  const fs::path first = dir_.path() / "s" / "doomed" / "100000";
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (fs::exists(first)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "rm hangs";
  }
  ASSERT_EQ(::kill(rm.pid(), SIGTERM), 0);
  CliResult r = rm.Wait();
  ASSERT_EQ(r.exit_code, 128 + SIGTERM) << r.err;
  EXPECT_THAT(r.err, MatchesRegex("backends: rm: interrupted by SIGTERM after "
                                  "removing [0-9]+ keys\n"));
  const std::size_t removed =
      std::stoul(r.err.substr(r.err.rfind("removing ") + 9));
  std::size_t left = 0;
  for (int i = 0; i < kKeys; ++i) {
    const fs::path file =
        dir_.path() / "s" / "doomed" / std::to_string(100000 + i);
    // Removed in order: the first `removed` keys are gone, the rest intact.
    if (static_cast<std::size_t>(i) < removed) {
      EXPECT_FALSE(fs::exists(file)) << i;
    } else {
      EXPECT_EQ(ReadFile(file), "x") << i;
      ++left;
    }
  }
  EXPECT_GE(removed, 1u);
  EXPECT_GT(left, 0u) << "rm was done before the signal came";
  EXPECT_EQ(ReadFile(dir_.path() / "s" / "kept"), "k");
}

TEST_F(CliSyncTest, SyncDeleteStopsBetweenKeysOnASignal) {
  constexpr int kKeys = 20000;
  Put("s", "kept", "new");
  for (int i = 0; i < kKeys; ++i) {
    Put("t", "extra/" + std::to_string(100000 + i), "x");
  }
  CliProcess sync({.args = {"sync", "--delete", "s", "t"}, .cwd = dir_.path()});
  // Copies first, then deletions in key order: signal after the first.
  const fs::path first = dir_.path() / "t" / "extra" / "100000";
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (fs::exists(first)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "sync hangs";
  }
  ASSERT_EQ(::kill(sync.pid(), SIGINT), 0);
  CliResult r = sync.Wait();
  ASSERT_EQ(r.exit_code, 128 + SIGINT) << r.err;
  EXPECT_THAT(r.err, MatchesRegex("backends: sync: interrupted by SIGINT "
                                  "after 1 of 1 keys listed, [0-9]+ deleted;"
                                  ".*\n"));
  const std::size_t deleted =
      std::stoul(r.err.substr(r.err.find("listed, ") + 8));
  EXPECT_EQ(ReadFile(dir_.path() / "t" / "kept"), "new");
  std::size_t left = 0;
  for (int i = 0; i < kKeys; ++i) {
    const fs::path file =
        dir_.path() / "t" / "extra" / std::to_string(100000 + i);
    if (static_cast<std::size_t>(i) < deleted) {
      EXPECT_FALSE(fs::exists(file)) << i;
    } else {
      EXPECT_EQ(ReadFile(file), "x") << i;
      ++left;
    }
  }
  EXPECT_GE(deleted, 1u);
  EXPECT_GT(left, 0u) << "sync was done before the signal came";
}

// cache prune reads the cache in listing pages and checks for a signal
// between entries: the expired entries it removed are gone, every other
// entry (live or still to be checked) is intact.
class CachePruneSignalTest : public CliSyncTest,
                             public ::testing::WithParamInterface<int> {};

TEST_P(CachePruneSignalTest, StopsBetweenEntries) {
  const int signal = GetParam();
  constexpr int kEntries = 5000;
  constexpr const char* kExpired =
      R"({"content": 1, "expiration": "2000-01-01T00:00:00"})";
  constexpr const char* kLive =
      R"({"content": 2, "expiration": "2999-01-01T00:00:00"})";
  // Every tenth entry is live; all sort in the order they are checked.
  auto live = [](int i) { return i % 10 == 5; };
  auto file = [&](int i) {
    return dir_.path() / "c" / "e" / std::to_string(100000 + i);
  };
  for (int i = 0; i < kEntries; ++i) {
    Put("c", "e/" + std::to_string(100000 + i), live(i) ? kLive : kExpired);
  }
  CliProcess prune({.args = {"cache", "prune", "file://./c?cache=json"},
                    .cwd = dir_.path()});
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (fs::exists(file(0))) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "prune hangs";
  }
  ASSERT_EQ(::kill(prune.pid(), signal), 0);
  CliResult r = prune.Wait();
  ASSERT_EQ(r.exit_code, 128 + signal) << r.err;
  EXPECT_THAT(r.err, MatchesRegex("backends: cache prune: interrupted by "
                                  "SIG(INT|TERM|HUP) after removing [0-9]+ "
                                  "expired entr(y|ies); the other entries "
                                  "are intact\n"));
  EXPECT_THAT(r.out, IsEmpty());
  const std::size_t removed =
      std::stoul(r.err.substr(r.err.rfind("removing ") + 9));
  // Checked in order: the expired entries before the stop are gone, the
  // rest are intact, and the live ones all are.
  std::size_t gone = 0;
  bool stopped = false;
  for (int i = 0; i < kEntries; ++i) {
    if (live(i)) {
      EXPECT_EQ(ReadFile(file(i)), kLive) << i;
    } else if (!fs::exists(file(i))) {
      EXPECT_FALSE(stopped) << "entry " << i << " removed after a kept one";
      ++gone;
    } else {
      stopped = true;
      EXPECT_EQ(ReadFile(file(i)), kExpired) << i;
    }
  }
  EXPECT_EQ(gone, removed);
  EXPECT_TRUE(stopped) << "prune was done before the signal came";
  EXPECT_THAT(TempFilesUnder(dir_.path() / "c"), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Signals, CachePruneSignalTest,
                         ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const auto& test) {
                           return test.param == SIGINT    ? "SIGINT"
                                  : test.param == SIGTERM ? "SIGTERM"
                                                          : "SIGHUP";
                         });

}  // namespace
}  // namespace backends::testing

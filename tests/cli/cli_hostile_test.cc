// The tool against hostile stored data and bad input (issue 20): JSON nested
// past kMaxJsonDepth in every verb, a TextCache holding bytes that are not
// UTF-8, a failing put that must create nothing, and keys that vanish from
// the source while cp runs.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "cli_runner.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string Nested(std::size_t depth, bool objects) {
  std::string text;
  for (std::size_t i = 0; i < depth; ++i) text += objects ? "{\"a\":" : "[";
  text += "1";
  for (std::size_t i = 0; i < depth; ++i) text += objects ? '}' : ']';
  return text;
}

// No temporary file anywhere below `root`.
bool HasTemporaryFile(const fs::path& root) {
  if (!fs::exists(root)) return false;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().filename().string().starts_with(".backends-tmp.")) {
      return true;
    }
  }
  return false;
}

class CliHostileTest : public ::testing::Test {
 protected:
  CliResult Run(std::vector<std::string> args, std::string input = "") {
    return RunCli(dir_.path(), std::move(args), std::move(input));
  }
  std::string Url(const std::string& name, const std::string& query = "") {
    return "file://" + (dir_.path() / name).string() + query;
  }
  ScopedTempDir dir_;
};

TEST_F(CliHostileTest, DeepJsonIsACleanErrorInEveryVerb) {
  for (bool objects : {false, true}) {
    for (std::size_t depth : {1000u, 1025u, 100000u, 1000000u}) {
      SCOPED_TRACE((objects ? "objects " : "arrays ") + std::to_string(depth));
      const std::string deep = Nested(depth, objects);
      const bool fits = depth <= 1024;
      CliResult put = Run({"put", Url("j", "?format=json"), "deep"}, deep);
      EXPECT_EQ(put.exit_code, fits ? 0 : 3) << put.err;
      if (!fits) {
        EXPECT_THAT(put.err, HasSubstr("nested deeper than 1024 levels"));
      }
      // The same bytes stored raw, then read as JSON, copied into a JSON
      // store, and read as a JsonCache entry's content.
      WriteFile(dir_.path() / "raw" / "deep", deep);
      CliResult get = Run({"get", Url("raw", "?format=json"), "deep"});
      EXPECT_EQ(get.exit_code, fits ? 0 : 3) << get.err;
      CliResult cp = Run({"cp", Url("raw"), Url("copy", "?format=json")});
      EXPECT_EQ(cp.exit_code, fits ? 0 : 3) << cp.err;
      WriteFile(dir_.path() / "cache" / "deep",
                "{\"content\": " + deep +
                    ", \"expiration\": \"2999-01-01T00:00:00\"}");
      CliResult cached = Run({"get", Url("cache", "?cache=json"), "deep"});
      EXPECT_EQ(cached.exit_code, fits ? 0 : 3) << cached.err;
      EXPECT_FALSE(HasTemporaryFile(dir_.path()));
      fs::remove_all(dir_.path() / "j");
      fs::remove_all(dir_.path() / "copy");
    }
  }
}

TEST_F(CliHostileTest, TextCacheHoldsUtf8Only) {
  CliResult put = Run({"put", Url("t", "?cache=text"), "k"}, "caf\xe9");
  EXPECT_EQ(put.exit_code, 3);
  EXPECT_THAT(put.err, HasSubstr("not valid UTF-8"));
  WriteFile(dir_.path() / "t" / "k", "caf\xe9");
  CliResult get = Run({"get", Url("t", "?cache=text"), "k"});
  EXPECT_EQ(get.exit_code, 3);
  EXPECT_THAT(get.err, HasSubstr("not valid UTF-8"));
  CliResult raw = Run({"put", Url("t", "?cache=text&format=raw"), "k", "v"});
  EXPECT_EQ(raw.exit_code, 2) << raw.err;
  CliResult good = Run({"put", Url("t", "?cache=text"), "ok", "caf\u00e9"});
  EXPECT_EQ(good.exit_code, 0) << good.err;
}

TEST_F(CliHostileTest, FailedPutCreatesNoStoreFolder) {
  struct Case {
    std::string query, key, value;
  };
  for (const Case& c :
       {Case{"?format=json", "k", "{not json"},
        Case{"?format=text", "k", "caf\xe9"}, Case{"?cache=json", "k", "[["},
        Case{"", "../escape", "v"}, Case{"", "a//b", "v"}}) {
    CliResult put = Run({"put", Url("new", c.query), c.key, c.value});
    EXPECT_EQ(put.exit_code, 3) << c.query << " " << c.key << ": " << put.err;
    EXPECT_FALSE(fs::exists(dir_.path() / "new")) << c.query << " " << c.key;
  }
}

TEST_F(CliHostileTest, CpCountsKeysThatVanishDuringTheCopy) {
  constexpr int kKeys = 1500;
  const fs::path source = dir_.path() / "src";
  for (int i = 0; i < kKeys; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "k%05d", i);
    WriteFile(source / name, std::string(512, 'x'));
  }
  // Once cp has listed the keys and copied the first, removes keys from
  // the end while it works from the start.
  const fs::path destination = dir_.path() / "dst";
  std::atomic<bool> done{false};
  std::thread remover([&] {
    while (!done && !fs::exists(destination / "k00000")) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    for (int i = kKeys - 1; i >= kKeys / 2 && !done; --i) {
      char name[16];
      std::snprintf(name, sizeof name, "k%05d", i);
      fs::remove(source / name);
    }
  });
  CliResult cp = Run({"cp", Url("src"), Url("dst"), "--jobs", "1"});
  done = true;
  remover.join();
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      cp.err, m,
      std::regex(R"(cp: (\d+) copied, (\d+) unchanged, 0 skipped, 0 failed)"
                 R"((, (\d+) vanished)?)")))
      << cp.err;
  const int copied = std::stoi(m[1]);
  const int vanished = m[4].matched ? std::stoi(m[4]) : 0;
  int in_destination = 0;
  for ([[maybe_unused]] const auto& entry :
       fs::directory_iterator(dir_.path() / "dst")) {
    ++in_destination;
  }
  EXPECT_EQ(copied, in_destination);
  // cp lists in pages: the first (1,000 keys) was read before the removals
  // began, later ones see only the keys still there. Each key listed was
  // copied or reported as vanished, and every key never removed was
  // copied: none is dropped in silence.
  const int listed = copied + vanished;
  EXPECT_GE(listed, 1000);
  EXPECT_LE(listed, kKeys);
  for (int i = 0; i < kKeys / 2; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "k%05d", i);
    EXPECT_TRUE(fs::exists(destination / name)) << name;
  }
  EXPECT_GT(vanished, 0);
  std::printf("cp: %d listed, %d copied, %d vanished\n", listed, copied,
              vanished);
}

}  // namespace
}  // namespace backends::testing

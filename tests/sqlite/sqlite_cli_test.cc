// The `backends` tool on sqlite:// URLs: put, get, ls, rm, cp to and from a
// folder, formats, caches (expiry in the row, cache prune), and reading
// verbs that never create the database. (S3: sqlite_cli_s3_test.)

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "backends/sqlite.h"
#include "backends/sqlite_cache.h"
#include "cli/cli_runner.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Optional;

class SqliteCliTest : public ::testing::Test {
 protected:
  CliResult Run(std::vector<std::string> args, std::string input = "") {
    return RunCli(temp_.path(), std::move(args), std::move(input));
  }
  ScopedTempDir temp_;
  std::string url_ = "sqlite://" + (temp_.path() / "app.db").string();
};

TEST_F(SqliteCliTest, PutGetLsRm) {
  CliResult put = Run({"put", url_, "greeting", "-"}, "hello");
  ASSERT_EQ(put.exit_code, 0) << put.err;
  ASSERT_EQ(Run({"put", url_, "dir/a b", "-"}, "x").exit_code, 0);
  CliResult get = Run({"get", url_, "greeting"});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "hello");
  CliResult ls = Run({"ls", url_});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_EQ(ls.out, "dir/a b\ngreeting\n");
  CliResult rm = Run({"rm", url_, "greeting"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(Run({"get", url_, "greeting"}).exit_code, 1);
  EXPECT_EQ(Run({"rm", url_, "greeting"}).exit_code, 1);
  // What the tool wrote is in the documented table.
  auto store = NewSqliteBackend(temp_.path() / "app.db");
  BACKENDS_ASSERT_OK(store);
  EXPECT_THAT((*store)->load("dir/a b"),
              IsOkAndHolds(Optional(std::string("x"))));
}

TEST_F(SqliteCliTest, TablesAndJsonFormat) {
  const std::string json_url = url_ + "?table=config&format=json";
  CliResult put = Run({"put", json_url, "cfg", "-"}, R"({"b": 1, "a": [1]})");
  ASSERT_EQ(put.exit_code, 0) << put.err;
  CliResult bad = Run({"put", json_url, "bad", "-"}, "{not json");
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_EQ(Run({"ls", url_}).out, "");  // the default table is apart
  CliResult get = Run({"get", url_ + "?table=config", "cfg"});
  // Stored in the original's format: sorted keys, indent 4.
  EXPECT_EQ(get.out, "{\n    \"a\": [\n        1\n    ],\n    \"b\": 1\n}");
}

TEST_F(SqliteCliTest, ReadingVerbsNeverCreateTheFile) {
  const fs::path missing = temp_.path() / "missing.db";
  CliResult ls = Run({"ls", "sqlite://" + missing.string()});
  EXPECT_EQ(ls.exit_code, 3);
  EXPECT_THAT(ls.err, HasSubstr("no such database file"));
  EXPECT_EQ(Run({"get", "sqlite://" + missing.string(), "k"}).exit_code, 3);
  EXPECT_FALSE(fs::exists(missing));
}

TEST_F(SqliteCliTest, NotADatabaseIsReportedAndKept) {
  WriteFile(temp_.path() / "text.db", std::string(5000, 't'));
  CliResult put =
      Run({"put", "sqlite://" + (temp_.path() / "text.db").string(), "k", "-"},
          "v");
  EXPECT_EQ(put.exit_code, 3);
  EXPECT_THAT(put.err, HasSubstr("not a SQLite database"));
  EXPECT_EQ(ReadFile(temp_.path() / "text.db"), std::string(5000, 't'));
}

TEST_F(SqliteCliTest, CopyBetweenFolderAndDatabase) {
  WriteFile(temp_.path() / "src" / "a", "1");
  WriteFile(temp_.path() / "src" / "d" / "b", std::string(3 << 20, 'b'));
  CliResult in = Run({"cp", "src", url_});
  ASSERT_EQ(in.exit_code, 0) << in.err;
  EXPECT_EQ(Run({"ls", url_}).out, "a\nd/b\n");
  CliResult out = Run({"cp", url_, "file://./back"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(ReadFile(temp_.path() / "back" / "a"), "1");
  EXPECT_EQ(ReadFile(temp_.path() / "back" / "d" / "b"),
            std::string(3 << 20, 'b'));
}


TEST_F(SqliteCliTest, CachesKeepTheExpiryInTheRow) {
  const std::string json = url_ + "?table=c&cache=json&timeout=1";
  ASSERT_EQ(Run({"put", json, "short", "-"}, "[1]").exit_code, 0);
  CliResult put = Run({"put", url_ + "?table=c&cache=json&timeout=3600",
                       "long", "-"},
                      R"({"a": 1})");
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(Run({"put", json, "bad", "-"}, "{nope").exit_code, 3);
  EXPECT_EQ(Run({"get", json, "long"}).out, "{\n    \"a\": 1\n}");
  // A text cache on its own table; prune needs no timeout= on sqlite://.
  ASSERT_EQ(
      Run({"put", url_ + "?table=t&cache=text&timeout=1", "p", "-"}, "x")
          .exit_code,
      0);
  ::sleep(2);  // Past both one-second timeouts.
  EXPECT_EQ(Run({"ls", json}).out, "long\n");
  EXPECT_EQ(Run({"get", json, "short"}).exit_code, 1);
  // "short" was removed by the get above; nothing else has expired there.
  CliResult prune = Run({"cache", "prune", json});
  EXPECT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_EQ(prune.out, "removed 0 expired entries\n");
  prune = Run({"cache", "prune", url_ + "?table=t&cache=text"});
  EXPECT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_EQ(prune.out, "removed 1 expired entry\n");
  // What is left, read as a cache from C++ and as plain rows.
  auto cache = OpenSqliteJsonCache(temp_.path() / "app.db", {.table = "c"});
  BACKENDS_ASSERT_OK(cache);
  EXPECT_THAT(cache->keys(), IsOkAndHolds(std::vector<std::string>{"long"}));
  auto rows = NewSqliteBackend(temp_.path() / "app.db", {.table = "t"});
  BACKENDS_ASSERT_OK(rows);
  EXPECT_THAT((*rows)->size(), IsOkAndHolds(0u));
}

TEST_F(SqliteCliTest, CopyIntoAndOutOfACache) {
  WriteFile(temp_.path() / "src" / "a.json", "[1, 2]");
  const std::string cache = url_ + "?cache=json&timeout=600";
  CliResult in = Run({"cp", "src", cache});
  ASSERT_EQ(in.exit_code, 0) << in.err;
  CliResult out = Run({"cp", cache, "file://./back"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(ReadFile(temp_.path() / "back" / "a.json"),
            "[\n    1,\n    2\n]");
  EXPECT_EQ(Run({"rm", cache, "a.json"}).exit_code, 0);
  EXPECT_EQ(Run({"ls", cache}).out, "");
}

}  // namespace
}  // namespace backends::testing

// The `backends` tool copying between sqlite:// and s3:// (the real S3
// server the test command starts), both ways, and from a SQLite cache.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/cli_runner.h"
#include "s3/s3_test_env.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

class SqliteCliS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!MissingS3Env().empty()) GTEST_SKIP() << "no S3 server (see above)";
  }
  void TearDown() override { Run({"rm", "--recursive", s3_, ""}); }
  CliResult Run(std::vector<std::string> args, std::string input = "") {
    return RunCli(temp_.path(), std::move(args), std::move(input));
  }

  ScopedTempDir temp_;
  std::string db_ = "sqlite://" + (temp_.path() / "app.db").string();
  std::string s3_ = "s3://" + EnvOr("S3_BUCKET") + "/" +
                    FreshPrefix("sqlite-cli") +
                    "?endpoint=" + EnvOr("S3_ENDPOINT");
};

TEST_F(SqliteCliS3Test, CopyToS3AndBack) {
  ASSERT_EQ(Run({"put", db_, "a", "-"}, "1").exit_code, 0);
  ASSERT_EQ(Run({"put", db_, "d/b", "-"}, std::string(3 << 20, 'b')).exit_code,
            0);
  CliResult out = Run({"cp", db_, s3_});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(Run({"ls", s3_}).out, "a\nd/b\n");
  const std::string back = db_ + "?table=back";
  CliResult in = Run({"cp", s3_, back});
  ASSERT_EQ(in.exit_code, 0) << in.err;
  EXPECT_EQ(Run({"ls", back}).out, "a\nd/b\n");
  EXPECT_EQ(Run({"get", back, "d/b"}).out, std::string(3 << 20, 'b'));
}

TEST_F(SqliteCliS3Test, CopyACacheToS3) {
  const std::string cache = db_ + "?cache=json&timeout=600";
  ASSERT_EQ(Run({"put", cache, "cfg", "-"}, R"({"b": 1})").exit_code, 0);
  CliResult out = Run({"cp", cache, s3_ + "&format=json"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(Run({"get", s3_, "cfg"}).out, "{\n    \"b\": 1\n}");
}

}  // namespace
}  // namespace backends::testing

// The paths people type: a verb that reads never creates a folder (a typo
// is "no such folder", exit 3), and a plain local path works wherever a
// file:// URL does.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class CliPathsTest : public ::testing::Test {
 protected:
  CliResult Run(std::vector<std::string> args, std::string input = "") {
    return RunCli(dir_.path(), std::move(args), std::move(input));
  }

  ScopedTempDir dir_;
};

TEST_F(CliPathsTest, ReadingVerbsOnAMissingFolderExit3AndCreateNothing) {
  fs::create_directories(dir_.path() / "real");
  const std::vector<std::vector<std::string>> commands = {
      {"get", "file://./typo", "k"},
      {"get", "file://./typo", "k", "-o", "out"},
      {"ls", "file://./typo"},
      {"ls", "-l", "./typo/deeper"},
      {"rm", "typo", "k"},
      {"cp", "file://./typo", "file://./real"},
      {"cache", "prune", "file://./typo?cache=json"},
  };
  for (const auto& command : commands) {
    CliResult r = Run(command);
    EXPECT_EQ(r.exit_code, 3) << command[0] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("no such folder")) << command[0];
    EXPECT_FALSE(fs::exists(dir_.path() / "typo")) << command[0];
    EXPECT_FALSE(fs::exists(dir_.path() / "out")) << command[0];
  }
  EXPECT_TRUE(fs::is_empty(dir_.path() / "real"));
}

TEST_F(CliPathsTest, WritingVerbsStillCreateTheFolder) {
  EXPECT_EQ(Run({"put", "file://./new", "k", "v"}).exit_code, 0);
  EXPECT_EQ(ReadFile(dir_.path() / "new" / "k"), "v");
  EXPECT_EQ(Run({"cp", "new", "copy"}).exit_code, 0);
  EXPECT_EQ(ReadFile(dir_.path() / "copy" / "k"), "v");
}

TEST_F(CliPathsTest, PlainPathsWorkLikeFileUrls) {
  const std::string absolute = (dir_.path() / "abs").string();
  for (const std::string& path : {std::string("rel"), std::string("./dot"),
                                  absolute, std::string("sub/../up")}) {
    CliResult put = Run({"put", path, "k", "value of " + path});
    ASSERT_EQ(put.exit_code, 0) << path << ": " << put.err;
    EXPECT_EQ(Run({"get", path, "k"}).out, "value of " + path);
    EXPECT_EQ(Run({"ls", path}).out, "k\n");
  }
  EXPECT_EQ(ReadFile(dir_.path() / "rel" / "k"), "value of rel");
  EXPECT_EQ(ReadFile(dir_.path() / "dot" / "k"), "value of ./dot");
  EXPECT_EQ(ReadFile(dir_.path() / "abs" / "k"), "value of " + absolute);
}

TEST_F(CliPathsTest, APlainPathIsTakenByteForByte) {
  // '?', '%' and '#' are part of a path's name, never URL syntax.
  CliResult put = Run({"put", "odd ?name=%41#x", "k", "v"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(ReadFile(dir_.path() / "odd ?name=%41#x" / "k"), "v");
  EXPECT_EQ(Run({"get", "odd ?name=%41#x", "k"}).out, "v");
}

}  // namespace
}  // namespace backends::testing

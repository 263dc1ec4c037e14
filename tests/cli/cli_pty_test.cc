// The progress bar: drawn on stderr when stderr is a terminal (a
// pseudo-terminal here), never with --quiet, never when stderr is a pipe,
// and never on stdout.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class CliProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 30; ++i) {
      std::ofstream(Root() / ("k" + std::to_string(i))) << "value " << i;
    }
    std::ofstream big(dir_.path() / "big.bin", std::ios::binary);
    big << std::string(3 << 20, 'b');
  }
  fs::path Root() {
    fs::create_directories(dir_.path() / "src");
    return dir_.path() / "src";
  }
  std::string Src() { return "file://" + Root().string(); }
  std::string Dst() { return "file://" + (dir_.path() / "dst").string(); }
  CliResult Run(std::vector<std::string> args, bool terminal,
                std::string input = "") {
    return RunCli({.args = std::move(args),
                   .input = std::move(input),
                   .cwd = dir_.path(),
                   .stderr_is_terminal = terminal});
  }

  ScopedTempDir dir_;
};

TEST_F(CliProgressTest, CpDrawsACountBarOnATerminal) {
  CliResult r = Run({"cp", Src(), Dst(), "--jobs", "2"}, true);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, IsEmpty());  // Never on stdout.
  // Redrawn in place, ends with the full count, rate and elapsed time.
  EXPECT_THAT(
      r.err,
      AllOf(HasSubstr("\rcp [####################]  30/30 keys"),
            // 30 values, 230 bytes: the bytes moved and their rate too.
            ContainsRegex("30/30 keys  230 B  [0-9.]+ keys/s  [0-9.]+ "
                          "[KMG]?i?B/s  in [0-9]+:[0-9]{2}\x1b\\[K\n"),
            EndsWith("cp: 30 copied, 0 unchanged, 0 skipped, 0 failed\n")));
}

TEST_F(CliProgressTest, PutOfALargeFileDrawsABytesBar) {
  CliResult r = Run({"put", Src(), "big", "-f", "big.bin"}, true);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, AllOf(HasSubstr("\rput ["), HasSubstr("3.0 MiB / 3.0 MiB"),
                           HasSubstr("B/s  in "), EndsWith("\n")));
  CliResult get = Run({"get", Src(), "big", "-o", "copy.bin"}, true);
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_THAT(get.err, HasSubstr("\rget [####################]  3.0 MiB"));
}

TEST_F(CliProgressTest, LargeStdinShowsBytesWithoutATotal) {
  CliResult r = Run({"put", Src(), "piped"}, true, std::string(2 << 20, 'p'));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, AllOf(HasSubstr("\rput  "), HasSubstr("2.0 MiB"),
                           Not(HasSubstr("put ["))));
}

TEST_F(CliProgressTest, SmallValuesDrawNothing) {
  CliResult put = Run({"put", Src(), "small", "tiny"}, true);
  EXPECT_EQ(put.exit_code, 0);
  EXPECT_THAT(put.err, IsEmpty());
  CliResult get = Run({"get", Src(), "small"}, true);
  EXPECT_EQ(get.out, "tiny");
  EXPECT_THAT(get.err, IsEmpty());
}

TEST_F(CliProgressTest, QuietDrawsNothingOnATerminal) {
  CliResult r = Run({"--quiet", "cp", Src(), Dst()}, true);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.err, IsEmpty());
  r = Run({"put", Src(), "big", "-f", "big.bin", "-q"}, true);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.err, IsEmpty());
}

TEST_F(CliProgressTest, NothingIsDrawnWhenStderrIsNotATerminal) {
  CliResult cp = Run({"cp", Src(), Dst()}, false);
  EXPECT_EQ(cp.exit_code, 0);
  EXPECT_EQ(cp.err, "cp: 30 copied, 0 unchanged, 0 skipped, 0 failed\n");
  CliResult put = Run({"put", Src(), "big", "-f", "big.bin"}, false);
  EXPECT_EQ(put.exit_code, 0);
  EXPECT_THAT(put.err, IsEmpty());
  CliResult get = Run({"get", Src(), "big"}, false);
  EXPECT_EQ(get.out.size(), std::size_t{3} << 20);
  EXPECT_THAT(get.err, IsEmpty());
}

TEST_F(CliProgressTest, ErrorsStayOneLineAfterABar) {
  CliResult r = Run({"get", Src(), "absent"}, true);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "backends: get \"absent\": no such key\n");
}

}  // namespace
}  // namespace backends::testing

// SIGINT, SIGTERM and SIGHUP during the verbs that write, on folders: no
// temporary file stays, every old value is intact, and the tool ends by
// the signal (a shell reports 128 + N). The signal is sent at points the
// test knows the tool has reached: `put -f FIFO` is fed step by step, so
// the tool is blocked reading when the signal comes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include "cli_runner.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Waits (up to a minute) until the tool has started writing under `root`:
// a temporary file shows up or `written()` holds. A store write never
// blocks, so this is as close as a test can get to "mid-value"; on a busy
// machine the tool may be done already, which the tests accept.
template <typename Written>
bool WaitForWriting(const fs::path& root, Written written) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (TempFilesUnder(root).empty() && !written()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
  }
  return true;
}

const char* SignalName(int signal) {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "SIGHUP";
}

// (signal, bytes fed before it).
class CliInterruptTest
    : public ::testing::TestWithParam<std::tuple<int, std::size_t>> {
 protected:
  fs::path Root() const { return dir_.path() / "store"; }
  std::string Url() const { return "file://" + Root().string(); }

  ScopedTempDir dir_;
};

TEST_P(CliInterruptTest, PutFromAFifoKeepsTheOldValueAndNoTempFile) {
  const auto [signal, fed] = GetParam();
  WriteFile(Root() / "d" / "k", "old");
  FifoFeeder fifo(dir_.path() / "fifo");
  CliProcess put(
      {.args = {"put", Url(), "d/k", "-f", "fifo"}, .cwd = dir_.path()});
  ASSERT_TRUE(fifo.Open()) << "put never opened the FIFO";
  fifo.Write(fed, 'x');
  ASSERT_EQ(::kill(put.pid(), signal), 0);
  CliResult r = put.Wait();
  fifo.Close();  // Only now: an end of input must not complete the value.
  EXPECT_EQ(r.exit_code, 128 + signal) << r.err;
  EXPECT_THAT(r.err,
              HasSubstr(std::string("interrupted by ") + SignalName(signal)));
  EXPECT_EQ(ReadFile(Root() / "d" / "k"), "old");
  EXPECT_THAT(TempFilesUnder(Root()), IsEmpty());
}

TEST_P(CliInterruptTest, PutFromStdinKeepsTheOldValueAndNoTempFile) {
  const auto [signal, fed] = GetParam();
  WriteFile(Root() / "k", "old");
  FifoFeeder fifo(dir_.path() / "fifo");
  fifo.OpenBeforeTheTool();
  CliProcess put({.args = {"put", Url(), "k"},
                  .stdin_path = dir_.path() / "fifo",
                  .cwd = dir_.path()});
  // The store makes its temporary file before it reads the first byte.
  ASSERT_TRUE(WaitForWriting(Root(), [] { return false; })) << "put hangs";
  fifo.Write(fed, 'x');
  ASSERT_EQ(::kill(put.pid(), signal), 0);
  CliResult r = put.Wait();
  fifo.Close();  // Only now: an end of input must not complete the value.
  EXPECT_EQ(r.exit_code, 128 + signal) << r.err;
  EXPECT_EQ(ReadFile(Root() / "k"), "old");
  EXPECT_THAT(TempFilesUnder(Root()), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    SignalsAndPoints, CliInterruptTest,
    ::testing::Combine(::testing::Values(SIGINT, SIGTERM, SIGHUP),
                       ::testing::Values(std::size_t{0}, std::size_t{1} << 16,
                                         std::size_t{3} << 20)),
    [](const auto& test) {
      return std::string(SignalName(std::get<0>(test.param))) + "_after_" +
             std::to_string(std::get<1>(test.param)) + "_bytes";
    });

class CliSignalTest : public ::testing::TestWithParam<int> {
 protected:
  ScopedTempDir dir_;
};

TEST_P(CliSignalTest, GetToAFileKeepsTheOldFileAndNoTempFile) {
  const int signal = GetParam();
  const std::string value(std::size_t{32} << 20, 'v');
  WriteFile(dir_.path() / "store" / "big", value);
  const fs::path out = dir_.path() / "out" / "big.bin";
  WriteFile(out, "old");
  CliProcess get({.args = {"get", "file://./store", "big", "-o", "out/big.bin"},
                  .cwd = dir_.path()});
  // A store read never blocks, so there is no point the test can hold the
  // tool at: it signals as soon as the temporary file shows up (or the
  // whole value has arrived, on a busy machine).
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (TempFilesUnder(out.parent_path()).empty() && fs::file_size(out) == 3) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "get hangs";
  }
  ASSERT_EQ(::kill(get.pid(), signal), 0);
  CliResult r = get.Wait();
  const std::string got = ReadFile(out);
  EXPECT_TRUE(got == "old" || got == value) << got.size() << " bytes";
  EXPECT_THAT(TempFilesUnder(out.parent_path()), IsEmpty());
  if (r.exit_code != 0 || got != value) {
    EXPECT_EQ(r.exit_code, 128 + signal) << r.err;
  }
}

TEST_P(CliSignalTest, CpStopsBetweenChunksAndLeavesValuesWhole) {
  const int signal = GetParam();
  const fs::path source = dir_.path() / "src";
  const fs::path copy = dir_.path() / "copy";
  const int kKeys = 12;
  const std::string value(4 << 20, 'n');
  for (int i = 0; i < kKeys; ++i) {
    WriteFile(source / ("k" + std::to_string(i)), value);
    WriteFile(copy / ("k" + std::to_string(i)), "old");
  }
  CliProcess cp({.args = {"cp", "file://" + source.string(),
                          "file://" + copy.string(), "--jobs", "2"},
                 .cwd = dir_.path()});
  ASSERT_TRUE(WaitForWriting(copy, [&] {
    return fs::file_size(copy / "k0") != 3 || fs::file_size(copy / "k1") != 3;
  })) << "cp wrote nothing";
  ASSERT_EQ(::kill(cp.pid(), signal), 0);
  CliResult r = cp.Wait();
  if (r.exit_code != 0) {  // 0: cp was done before the signal came.
    EXPECT_EQ(r.exit_code, 128 + signal) << r.err;
    EXPECT_THAT(r.err, HasSubstr("interrupted by"));
  }
  for (int i = 0; i < kKeys; ++i) {
    std::string got = ReadFile(copy / ("k" + std::to_string(i)));
    EXPECT_TRUE(got == "old" || got == value) << "k" << i;
    EXPECT_EQ(ReadFile(source / ("k" + std::to_string(i))), value);
  }
  EXPECT_THAT(TempFilesUnder(copy), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Signals, CliSignalTest,
                         ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const auto& test) {
                           return std::string(SignalName(test.param));
                         });

}  // namespace
}  // namespace backends::testing

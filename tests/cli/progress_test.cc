// The progress bar's text and redraw policy, with an injected clock.

#include "progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace backends::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

TEST(FormatProgressTest, CountWithTotalShowsBarRateAndEta) {
  EXPECT_EQ(
      FormatProgress("cp", ProgressUnit::kKeys, 250, 1000, seconds(5), false),
      "cp [#####...............]  250/1000 keys  50 keys/s  ETA 0:15");
}

TEST(FormatProgressTest, KeysWithBytesShowBothRates) {
  EXPECT_EQ(FormatProgress("cp", ProgressUnit::kKeys, 250, 1000, seconds(5),
                           false, std::uint64_t{2} << 20),
            "cp [#####...............]  250/1000 keys  2.0 MiB  50 keys/s  "
            "409.6 KiB/s  ETA 0:15");
  // A source that cannot count (S3, until its listing ends): no bar, no ETA.
  EXPECT_EQ(FormatProgress("cp", ProgressUnit::kKeys, 250, 0, seconds(5),
                           false, std::uint64_t{2} << 20),
            "cp  250 keys  2.0 MiB  50 keys/s  409.6 KiB/s");
  EXPECT_EQ(FormatProgress("cp", ProgressUnit::kKeys, 4, 4, seconds(2), true,
                           std::uint64_t{3000}),
            "cp [####################]  4/4 keys  2.9 KiB  2.0 keys/s  "
            "1.5 KiB/s  in 0:02");
}

TEST(FormatProgressTest, FinishedShowsElapsedInsteadOfEta) {
  EXPECT_EQ(
      FormatProgress("cp", ProgressUnit::kKeys, 3, 3, milliseconds(1500), true),
      "cp [####################]  3/3 keys  2.0 keys/s  in 0:02");
}

TEST(FormatProgressTest, BytesWithoutTotalHaveNoBarAndNoEta) {
  EXPECT_EQ(FormatProgress("put", ProgressUnit::kBytes, 3 << 20, 0, seconds(2),
                           false),
            "put  3.0 MiB  1.5 MiB/s");
}

TEST(FormatProgressTest, LongEtaUsesHours) {
  EXPECT_THAT(FormatProgress("get", ProgressUnit::kBytes, 1 << 20,
                             std::uint64_t{10} << 30, seconds(1), false),
              HasSubstr("ETA 2:50:39"));
}

TEST(FormatProgressTest, NoTimeYetShowsNoRate) {
  EXPECT_EQ(FormatProgress("cp", ProgressUnit::kKeys, 0, 10, seconds(0), false),
            "cp [....................]  0/10 keys");
}

TEST(FormatBytesTest, BinaryUnits) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(5.0 * (1 << 30)), "5.0 GiB");
}

class ProgressTest : public ::testing::Test {
 protected:
  void SetUp() override { out_ = std::tmpfile(); }
  void TearDown() override { std::fclose(out_); }
  std::string Written() {
    std::fflush(out_);
    std::rewind(out_);
    std::string text;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, out_)) > 0) text.append(buf, n);
    return text;
  }
  Progress::SteadyNow Clock() {
    return [this] { return now_; };
  }

  std::FILE* out_ = nullptr;
  std::chrono::steady_clock::time_point now_{};
};

TEST_F(ProgressTest, RedrawsAtMostEvery100Milliseconds) {
  Progress progress(out_, "cp", ProgressUnit::kKeys, 10, 0, Clock());
  progress.Add(1);  // First drawing.
  now_ += milliseconds(50);
  progress.Add(1);  // Too soon.
  now_ += milliseconds(60);
  progress.Add(1);  // 110 ms after the first.
  EXPECT_EQ(
      Written(),
      "\rcp [##..................]  1/10 keys\x1b[K"
      "\rcp [######..............]  3/10 keys  27 keys/s  ETA 0:00\x1b[K");
  now_ += milliseconds(890);
  progress.Finish();
  EXPECT_THAT(Written(),
              HasSubstr("\rcp [######..............]  3/10 keys  3.0 keys/s"
                        "  in 0:01\x1b[K\n"));
  progress.Finish();  // Idempotent.
  std::string written = Written();
  EXPECT_EQ(std::count(written.begin(), written.end(), '\n'), 1);
}

TEST_F(ProgressTest, BytesAppearOnceCountedAndACountLaterGivesAnEta) {
  Progress progress(out_, "cp", ProgressUnit::kKeys, 0, 0, Clock());
  now_ += seconds(1);
  progress.Add(5);
  EXPECT_EQ(Written(), "\rcp  5 keys  5.0 keys/s\x1b[K");
  now_ += seconds(1);
  progress.SetTotal(20);    // The source's count arrives.
  progress.AddBytes(4096);  // The first bytes: shown from now on.
  EXPECT_EQ(Written(),
            "\rcp  5 keys  5.0 keys/s\x1b[K"
            "\rcp [#####...............]  5/20 keys  4.0 KiB  2.5 keys/s  "
            "2.0 KiB/s  ETA 0:06\x1b[K");
}

TEST_F(ProgressTest, BytesBelowTheThresholdDrawNothing) {
  {
    Progress progress(out_, "get", ProgressUnit::kBytes, 100, 1 << 20, Clock());
    progress.Add(100);
  }  // The destructor finishes.
  EXPECT_EQ(Written(), "");
}

TEST_F(ProgressTest, UnknownTotalDrawsOnceTheThresholdIsPassed) {
  Progress progress(out_, "put", ProgressUnit::kBytes, 0, 1000, Clock());
  progress.Add(600);
  EXPECT_EQ(Written(), "");
  now_ += seconds(1);
  progress.Add(600);
  EXPECT_EQ(Written(), "\rput  1.2 KiB  1.2 KiB/s\x1b[K");
}

TEST_F(ProgressTest, DisabledProgressWritesNothing) {
  Progress progress;
  progress.Add(5);
  progress.Finish();
  EXPECT_FALSE(progress.enabled());
  EXPECT_EQ(Written(), "");
}

}  // namespace
}  // namespace backends::cli

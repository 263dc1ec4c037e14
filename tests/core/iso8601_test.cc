// The one ISO 8601 reader behind S3 listings, credential expiry and the
// cache envelope's expiration stamp.

#include "iso8601.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace backends::internal {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

sys_seconds At(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi) +
         seconds(s);
}

TEST(Iso8601Test, ReadsEachWritersLayout) {
  const sys_seconds t = At(2024, 5, 1, 12, 34, 56);
  // The cache envelope (the original's strftime), S3 listings, credentials.
  for (const char* text :
       {"2024-05-01T12:34:56", "2024-05-01T12:34:56Z", "2024-05-01T12:34:56z",
        "2024-05-01T12:34:56+00:00", "2024-05-01T14:34:56+02:00",
        "2024-05-01T02:04:56-10:30"}) {
    auto parsed = ParseIsoTime(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(parsed->seconds, t) << text;
    EXPECT_EQ(parsed->fraction, 0ns) << text;
  }
}

TEST(Iso8601Test, KeepsTheFractionToNanoseconds) {
  EXPECT_EQ(ParseIsoTime("2024-05-01T12:34:56.5Z")->fraction, 500ms);
  EXPECT_EQ(ParseIsoTime("2024-05-01T12:34:56.000Z")->fraction, 0ns);
  EXPECT_EQ(ParseIsoTime("2024-05-01T12:34:56.123456789Z")->fraction,
            123456789ns);
  // Digits past nanoseconds are read and dropped, not an error.
  EXPECT_EQ(ParseIsoTime("2024-05-01T12:34:56.1234567899999Z")->fraction,
            123456789ns);
  EXPECT_EQ(ParseIsoTimePoint("2024-05-01T12:34:56.250Z"),
            system_clock::time_point(At(2024, 5, 1, 12, 34, 56)) + 250ms);
}

TEST(Iso8601Test, RefusesWhatNamesNoTime) {
  for (const char* text : {"",
                           "tomorrow",
                           "2024-05-01",
                           "2024-05-01 12:34:56",
                           "2024-02-30T00:00:00Z",
                           "2023-02-29T00:00:00",
                           "2024-13-01T00:00:00",
                           "2024-00-10T00:00:00",
                           "0000-01-01T00:00:00",
                           "2024-05-01T24:00:00",
                           "2024-05-01T12:60:00",
                           "2024-05-01T12:34:60",
                           "2024-05-01T12:34:56.",
                           "2024-05-01T12:34:56.Z",
                           "2024-05-01T12:34:56+2",
                           "2024-05-01T12:34:56+24:00",
                           "2024-05-01T12:34:56+02:60",
                           "2024-05-01T12:34:56ZZ",
                           "2024-05-01T12:34:56 ",
                           "+024-05-01T12:34:56",
                           "2024-05-01T1x:34:56"}) {
    EXPECT_FALSE(ParseIsoTime(text).has_value()) << text;
  }
}

TEST(Iso8601Test, SystemClockRangeIsCheckedNotWrapped) {
  // The whole range of the cache's stamps parses as seconds...
  EXPECT_EQ(ParseIsoTime("9999-12-31T23:59:59")->seconds,
            At(9999, 12, 31, 23, 59, 59));
  EXPECT_EQ(ParseIsoTime("0001-01-01T00:00:00")->seconds, At(1, 1, 1, 0, 0, 0));
  // ...but system_clock's 64-bit nanoseconds hold 1678 to 2261 only.
  EXPECT_FALSE(ParseIsoTimePoint("9999-12-31T23:59:59Z").has_value());
  EXPECT_FALSE(ParseIsoTimePoint("1677-05-01T00:00:00Z").has_value());
  EXPECT_FALSE(ParseIsoTimePoint("2262-05-01T00:00:00Z").has_value());
  EXPECT_TRUE(ParseIsoTimePoint("1678-05-01T00:00:00Z").has_value());
  EXPECT_TRUE(ParseIsoTimePoint("2261-12-31T23:59:59.999Z").has_value());
}

}  // namespace
}  // namespace backends::internal

// Found by fuzz/fuzz_list_objects: the S3 time readers must reject an
// instant std::chrono::system_clock cannot hold (years before 1678 or after
// 2261 overflow its 64-bit nanoseconds; signed overflow is undefined
// behaviour), not return a wrapped-around time.

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "iso8601.h"
#include "s3/list_objects.h"

namespace backends::reliability {
namespace {

using std::chrono::sys_seconds;

// The instant as seconds (no overflow), or nullopt if system_clock cannot
// represent it.
std::optional<std::chrono::system_clock::time_point> Expected(int y, int mo,
                                                              int d) {
  sys_seconds t =
      std::chrono::sys_days(std::chrono::year(y) / std::chrono::month(mo) /
                            std::chrono::day(d)) +
      std::chrono::hours(12) + std::chrono::minutes(34) +
      std::chrono::seconds(56);
  auto limit = std::chrono::floor<std::chrono::seconds>(
      std::chrono::system_clock::time_point::max());
  auto low = std::chrono::ceil<std::chrono::seconds>(
      std::chrono::system_clock::time_point::min());
  if (t.time_since_epoch() > limit.time_since_epoch() ||
      t.time_since_epoch() < low.time_since_epoch()) {
    return std::nullopt;
  }
  return std::chrono::system_clock::time_point(t);
}

TEST(S3TimeTest, Iso8601OutsideTheClockRangeIsRejectedNotWrapped) {
  for (int year : {1, 1677, 1678, 1970, 2024, 2261, 2262, 2263, 2420, 9999}) {
    char text[32];
    std::snprintf(text, sizeof text, "%04d-05-01T12:34:56.000Z", year);
    EXPECT_EQ(internal::ParseIsoTimePoint(text), Expected(year, 5, 1)) << text;
  }
}

TEST(S3TimeTest, HttpDateOutsideTheClockRangeIsRejectedNotWrapped) {
  for (int year : {1, 1677, 1970, 2024, 2261, 2263, 2420, 9999}) {
    char text[40];
    std::snprintf(text, sizeof text, "Wed, 01 May %04d 12:34:56 GMT", year);
    EXPECT_EQ(s3::ParseHttpDate(text), Expected(year, 5, 1)) << text;
  }
}

}  // namespace
}  // namespace backends::reliability

#pragma once

// ISO 8601 date-times as S3 listings, AWS credential sources and the
// original's cache envelope write them: "YYYY-MM-DDTHH:MM:SS", then an
// optional fraction of a second and an optional zone ("Z", "z", "+HH:MM" or
// "-HH:MM"; none means UTC). One reader for all three, so they agree on
// what a valid time is.

#include <chrono>
#include <optional>
#include <string_view>

namespace backends::internal {

struct IsoTime {
  std::chrono::sys_seconds seconds;      // UTC: the zone is applied
  std::chrono::nanoseconds fraction{0};  // in [0, 1 s)
};

/// The time `text` names, or nullopt if it is not the layout above or
/// names no valid time (year 0001-9999, a real date, hour <= 23, minute and
/// second <= 59, zone offset below 24 h). Digits past nanoseconds are read
/// and dropped.
std::optional<IsoTime> ParseIsoTime(std::string_view text);

/// `time` on system_clock, or nullopt outside the years it can hold (its
/// 64-bit nanoseconds span 1678-2261): never a wrapped-around time.
std::optional<std::chrono::system_clock::time_point> ToSystemClock(
    const IsoTime& time);

/// ParseIsoTime, then ToSystemClock.
std::optional<std::chrono::system_clock::time_point> ParseIsoTimePoint(
    std::string_view text);

}  // namespace backends::internal

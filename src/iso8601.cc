#include "iso8601.h"

#include <cstdint>
#include <string_view>

namespace backends::internal {
namespace {

// The value of a fraction's n-th digit's unit in nanoseconds.
constexpr std::int64_t kScale[10] = {
    0, 100'000'000, 10'000'000, 1'000'000, 100'000, 10'000, 1'000, 100, 10, 1};

// Reads `width` ASCII digits at `pos`; -1 if any is not a digit or the text
// is too short.
int Digits(std::string_view text, std::size_t pos, std::size_t width) {
  if (text.size() < pos + width) return -1;
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// The zone's offset east of UTC, or nullopt if `zone` is not one.
std::optional<std::chrono::seconds> ZoneOffset(std::string_view zone) {
  if (zone.empty() || zone == "Z" || zone == "z") {
    return std::chrono::seconds(0);
  }
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
      zone[3] != ':') {
    return std::nullopt;
  }
  const int hours = Digits(zone, 1, 2), minutes = Digits(zone, 4, 2);
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) {
    return std::nullopt;
  }
  const std::chrono::seconds offset =
      std::chrono::hours(hours) + std::chrono::minutes(minutes);
  return zone[0] == '+' ? offset : -offset;
}

}  // namespace

std::optional<IsoTime> ParseIsoTime(std::string_view text) {
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const int year = Digits(text, 0, 4), month = Digits(text, 5, 2),
            day = Digits(text, 8, 2), hour = Digits(text, 11, 2),
            minute = Digits(text, 14, 2), second = Digits(text, 17, 2);
  if (year < 1 || month < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{
      std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
      std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;

  IsoTime time;
  std::string_view rest = text.substr(19);
  if (rest.starts_with('.')) {
    std::size_t end = 1;
    std::int64_t nanos = 0;
    for (; end < rest.size() && rest[end] >= '0' && rest[end] <= '9'; ++end) {
      if (end <= 9) nanos += (rest[end] - '0') * kScale[end];
    }
    if (end == 1) return std::nullopt;  // a '.' without digits
    time.fraction = std::chrono::nanoseconds(nanos);
    rest.remove_prefix(end);
  }
  const auto offset = ZoneOffset(rest);
  if (!offset) return std::nullopt;
  time.seconds = std::chrono::sys_days(date) + std::chrono::hours(hour) +
                 std::chrono::minutes(minute) + std::chrono::seconds(second) -
                 *offset;
  return time;
}

std::optional<std::chrono::system_clock::time_point> ToSystemClock(
    const IsoTime& time) {
  using std::chrono::system_clock;
  const auto low =
      std::chrono::ceil<std::chrono::seconds>(system_clock::time_point::min());
  const auto high =
      std::chrono::floor<std::chrono::seconds>(system_clock::time_point::max());
  // The last whole second keeps room for the fraction.
  if (time.seconds.time_since_epoch() < low.time_since_epoch() ||
      time.seconds.time_since_epoch() >=
          high.time_since_epoch() - std::chrono::seconds(1)) {
    return std::nullopt;
  }
  return system_clock::time_point(time.seconds.time_since_epoch()) +
         std::chrono::duration_cast<system_clock::duration>(time.fraction);
}

std::optional<std::chrono::system_clock::time_point> ParseIsoTimePoint(
    std::string_view text) {
  const auto time = ParseIsoTime(text);
  return time ? ToSystemClock(*time) : std::nullopt;
}

}  // namespace backends::internal

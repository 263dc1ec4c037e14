#include "cache/expiry_time.h"

#include <cstdio>

#include "backends/backend.h"
#include "backends/cache.h"

namespace backends::cache_internal {
namespace {

using std::chrono::days;
using std::chrono::seconds;

// Reads `width` ASCII digits at `pos`; -1 if any is not a digit.
int Digits(std::string_view text, std::size_t pos, std::size_t width) {
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

SysSeconds NeverExpiresTime() {
  static const SysSeconds never = *ParseStamp(kNeverExpiresStamp);
  return never;
}

std::string FormatStamp(SysSeconds t) {
  const auto day = std::chrono::floor<days>(t);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(t - day);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u%c%02d:%02d:%02d",
                static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), 'T',
                static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buffer;
}

std::optional<SysSeconds> ParseStamp(std::string_view text) {
  // The original writes exactly this layout; anything else is not its stamp.
  if (text.size() != 19 || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const int year = Digits(text, 0, 4), month = Digits(text, 5, 2),
            day = Digits(text, 8, 2), hour = Digits(text, 11, 2),
            minute = Digits(text, 14, 2), second = Digits(text, 17, 2);
  if (year < 1 || month < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{
      std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
      std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return std::nullopt;
  return SysSeconds(std::chrono::sys_days(ymd)) + std::chrono::hours(hour) +
         std::chrono::minutes(minute) + seconds(second);
}

Result<SysSeconds> ExpirationFor(std::string_view operation,
                                 std::string_view key,
                                 std::chrono::system_clock::time_point now,
                                 seconds timeout) {
  if (timeout < seconds::zero()) {
    return InvalidArgumentError(std::string(operation) + " " + QuoteKey(key) +
                                ": negative timeout " +
                                std::to_string(timeout.count()) + " s");
  }
  const SysSeconds base = std::chrono::floor<seconds>(now);
  const SysSeconds never = NeverExpiresTime();
  if (base >= never || timeout >= never - base) return never;
  return base + timeout;
}

bool IsOlderThan(std::chrono::system_clock::time_point now,
                 std::chrono::system_clock::time_point written,
                 seconds timeout) {
  if (timeout == kNeverExpires) return false;
  // Compared in whole seconds: a nanosecond duration overflows past ~292
  // years, which a timeout may well exceed.
  auto age = std::chrono::floor<seconds>(now - written);
  // A time ahead of the clock (skew, a copied file) is not believed beyond
  // the timeout: such an entry lives until written + timeout only if that
  // is within twice the timeout from now; otherwise it has expired.
  if (age < seconds::zero()) return -age > timeout;
  return age >= timeout;
}

}  // namespace backends::cache_internal

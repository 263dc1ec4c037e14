#include "cache/expiry_time.h"

#include <cstdio>

#include "backends/backend.h"
#include "backends/cache.h"
#include "iso8601.h"

namespace backends::cache_internal {
namespace {

using std::chrono::days;
using std::chrono::seconds;

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
  if (text.size() != 19) return std::nullopt;
  const auto time = internal::ParseIsoTime(text);
  if (!time) return std::nullopt;
  return time->seconds;
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

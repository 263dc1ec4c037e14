#pragma once

// Expiration times as the original's JsonCache writes them: UTC,
// "YYYY-MM-DDTHH:MM:SS" (Python's "%Y-%m-%dT%H:%M:%S"), whole seconds.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "backends/status.h"

namespace backends::cache_internal {

using SysSeconds = std::chrono::sys_seconds;

/// 9999-12-31T23:59:59, what kNeverExpires is written as.
SysSeconds NeverExpiresTime();

/// "YYYY-MM-DDTHH:MM:SS". REQUIRES: year 1..9999.
std::string FormatStamp(SysSeconds t);

/// The time a stamp names, or nullopt if `text` is not exactly
/// "YYYY-MM-DDTHH:MM:SS" with a valid date and time.
std::optional<SysSeconds> ParseStamp(std::string_view text);

/// now + timeout rounded down to whole seconds, clamped to
/// NeverExpiresTime(). Errors: kInvalidArgument (naming `operation` and
/// `key`) for a negative timeout.
Result<SysSeconds> ExpirationFor(std::string_view operation,
                                 std::string_view key,
                                 std::chrono::system_clock::time_point now,
                                 std::chrono::seconds timeout);

/// An entry is live while now < expiration.
inline bool IsExpired(std::chrono::system_clock::time_point now,
                      SysSeconds expiration) {
  return std::chrono::floor<std::chrono::seconds>(now) >= expiration;
}

/// Whether something written at `written` has outlived `timeout` by `now`
/// (kNeverExpires never does). A `written` further ahead of `now` than
/// `timeout` counts as outlived: no clock skew explains it, and believing it
/// would keep the entry for ever.
bool IsOlderThan(std::chrono::system_clock::time_point now,
                 std::chrono::system_clock::time_point written,
                 std::chrono::seconds timeout);

}  // namespace backends::cache_internal

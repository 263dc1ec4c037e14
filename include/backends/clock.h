#pragma once

// Clock: where the caches get the time from.
//
// Everything in the library that decides by time (cache expiry, freshness in
// the read-through layer) asks a Clock instead of calling
// std::chrono::system_clock::now() itself, so tests can move time forward
// without sleeping:
//
//   auto clock = std::make_shared<FakeClock>();   // tests/testutil
//   auto cache = JsonCache::Open(dir, {.clock = clock});
//   clock->Advance(std::chrono::seconds(301));     // the entry has expired
//
// Thread safety: now() may be called from many threads at once.

#include <chrono>
#include <memory>

namespace backends {

/// Where the caches get the time from (see clock.h); tests
/// inject a fake one. Implementations must be safe to call from many threads.
class Clock {
 public:
  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  virtual ~Clock() = default;

  /// The current wall-clock time (UTC, as std::chrono::system_clock counts
  /// it). Wall-clock, not steady: expiry times are stored on disk and
  /// compared across processes and with file modification times.
  virtual std::chrono::system_clock::time_point now() const = 0;
};

/// The real time: std::chrono::system_clock::now().
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
};

/// A shared SystemClock; the default wherever a clock is optional.
/// Never returns null.
std::shared_ptr<Clock> DefaultClock();

}  // namespace backends

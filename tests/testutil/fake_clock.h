#pragma once

// A Clock that moves only when a test says so. Thread-safe.
//
//   auto clock = std::make_shared<FakeClock>(FakeClock::At(2030, 1, 1));
//   clock->Advance(std::chrono::seconds(300));

#include <atomic>
#include <chrono>
#include <cstdint>

#include "backends/clock.h"

namespace backends::testing {

class FakeClock final : public Clock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  /// Midnight UTC on the given day.
  static TimePoint At(int year, unsigned month, unsigned day) {
    return TimePoint(std::chrono::sys_days(std::chrono::year_month_day(
        std::chrono::year(year), std::chrono::month(month),
        std::chrono::day(day))));
  }

  /// Whole seconds since 1970 (what the Python scripts take as "now").
  static std::int64_t EpochSeconds(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::seconds>(
               t.time_since_epoch())
        .count();
  }

  explicit FakeClock(TimePoint start = At(2030, 1, 1))
      : now_(start.time_since_epoch().count()) {}

  TimePoint now() const override {
    return TimePoint(TimePoint::duration(now_.load()));
  }
  void Set(TimePoint t) { now_.store(t.time_since_epoch().count()); }
  void Advance(std::chrono::system_clock::duration d) {
    now_.fetch_add(d.count());
  }

 private:
  std::atomic<TimePoint::rep> now_;
};

}  // namespace backends::testing

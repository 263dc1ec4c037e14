#pragma once

// A progress bar on stderr for long work (cp of many keys, large put/get):
//
//   cp  [##########..........]  512/1024 keys  3.2 MiB  210 keys/s  1.3 MiB/s  ETA 0:02
//   get [####................]  20.0 MiB / 100.0 MiB  48.1 MiB/s  ETA 0:01
//
// Drawn only when stderr is a terminal and --quiet is off (ProgressWanted),
// redrawn in place ("\r", then erase to the end of the line) at most every
// 100 ms, and finished with a newline. Thread safety: Add() may be called
// from many threads at once.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace backends::cli {

enum class ProgressUnit { kKeys, kBytes };

/// True when a bar is worth drawing: stderr is a terminal and not `quiet`.
bool ProgressWanted(bool quiet);

/// One line of the bar, without "\r" or newline. `total` 0 means unknown
/// (no bar and no ETA, only the count and rate). `finished` replaces the
/// ETA with the elapsed time. With kKeys, `bytes` (when given) adds the
/// bytes moved and their rate after the keys'.
std::string FormatProgress(std::string_view label, ProgressUnit unit,
                           std::uint64_t done, std::uint64_t total,
                           std::chrono::duration<double> elapsed,
                           bool finished,
                           std::optional<std::uint64_t> bytes = std::nullopt);

/// "1.5 KiB", "12.0 MiB": sizes in binary units with one decimal.
std::string FormatBytes(double bytes);

class Progress {
 public:
  using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;

  /// A bar that draws nothing.
  Progress() = default;

  /// A bar on `out` (stderr in the tool). With kBytes, nothing is drawn
  /// until at least `min_bytes` have been counted or announced as the
  /// total, so small values never flash a bar. `now` is injectable for
  /// tests; by default the steady clock.
  Progress(std::FILE* out, std::string label, ProgressUnit unit,
           std::uint64_t total, std::uint64_t min_bytes = 0,
           SteadyNow now = {});
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();

  bool enabled() const { return out_ != nullptr; }

  /// Counts `n` more units done; redraws if 100 ms passed since the last
  /// drawing.
  void Add(std::uint64_t n);

  /// With kKeys: counts `n` more bytes moved; from the first call on, the
  /// line shows the bytes and their rate too.
  void AddBytes(std::uint64_t n);

  /// Writes `line` and a newline to `to` (stderr, or stdout for a plan),
  /// above the bar when one is drawn (the bar is erased, then redrawn
  /// below). Lines from many threads never mix.
  void Print(std::string_view line, std::FILE* to = stderr);

  /// Sets the total once it is known (e.g. the size of a loaded value).
  void SetTotal(std::uint64_t total);

  /// Draws the final line and a newline (only if a line was drawn or is
  /// due). Called by the destructor if not called before.
  void Finish();

  std::uint64_t done() const { return done_.load(); }

 private:
  void DrawLocked(bool finished);
  bool VisibleLocked() const;

  std::FILE* out_ = nullptr;
  std::string label_;
  ProgressUnit unit_ = ProgressUnit::kKeys;
  std::uint64_t min_bytes_ = 0;
  SteadyNow now_;
  std::chrono::steady_clock::time_point start_{};
  std::atomic<std::uint64_t> done_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<bool> counts_bytes_{false};

  std::mutex mutex_;
  // Guarded by mutex_.
  std::uint64_t total_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
  bool finished_ = false;
};

}  // namespace backends::cli

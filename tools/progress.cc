#include "progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <utility>

namespace backends::cli {
namespace {

constexpr int kBarWidth = 20;
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto total = static_cast<std::uint64_t>(seconds + 0.5);
  char buf[32];
  if (total >= 3600) {
    std::snprintf(buf, sizeof buf, "%llu:%02llu:%02llu",
                  static_cast<unsigned long long>(total / 3600),
                  static_cast<unsigned long long>(total / 60 % 60),
                  static_cast<unsigned long long>(total % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llu:%02llu",
                  static_cast<unsigned long long>(total / 60),
                  static_cast<unsigned long long>(total % 60));
  }
  return buf;
}

std::string FormatRate(ProgressUnit unit, double per_second) {
  if (unit == ProgressUnit::kBytes) {
    std::string rate = FormatBytes(per_second);
    rate += "/s";
    return rate;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf,
                per_second < 10 ? "%.1f keys/s" : "%.0f keys/s", per_second);
  return buf;
}

}  // namespace

bool ProgressWanted(bool quiet) { return !quiet && ::isatty(2) == 1; }

std::string FormatBytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", bytes, kUnits[unit]);
  }
  return buf;
}

std::string FormatProgress(std::string_view label, ProgressUnit unit,
                           std::uint64_t done, std::uint64_t total,
                           std::chrono::duration<double> elapsed,
                           bool finished, std::optional<std::uint64_t> bytes) {
  const bool with_bytes = bytes.has_value() && unit == ProgressUnit::kKeys;
  std::string line(label);
  if (total > 0) {
    double fraction =
        std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
    auto filled = static_cast<int>(fraction * kBarWidth);
    line += " [";
    line.append(static_cast<std::size_t>(filled), '#');
    line.append(static_cast<std::size_t>(kBarWidth - filled), '.');
    line += "]";
  }
  line += "  ";
  if (unit == ProgressUnit::kBytes) {
    line += FormatBytes(static_cast<double>(done));
    if (total > 0) {
      line += " / ";
      line += FormatBytes(static_cast<double>(total));
    }
  } else {
    line += std::to_string(done);
    if (total > 0) {
      line += "/";
      line += std::to_string(total);
    }
    line += " keys";
    if (with_bytes) {
      line += "  ";
      line += FormatBytes(static_cast<double>(*bytes));
    }
  }
  double seconds = elapsed.count();
  if (seconds > 0) {
    double rate = static_cast<double>(done) / seconds;
    line += "  ";
    line += FormatRate(unit, rate);
    if (with_bytes) {
      line += "  ";
      line += FormatRate(ProgressUnit::kBytes,
                         static_cast<double>(*bytes) / seconds);
    }
    if (finished) {
      line += "  in ";
      line += FormatDuration(seconds);
    } else if (total > 0 && rate > 0 && done <= total) {
      line += "  ETA ";
      line += FormatDuration(static_cast<double>(total - done) / rate);
    }
  } else if (finished) {
    line += "  in 0:00";
  }
  return line;
}

Progress::Progress(std::FILE* out, std::string label, ProgressUnit unit,
                   std::uint64_t total, std::uint64_t min_bytes, SteadyNow now)
    : out_(out),
      label_(std::move(label)),
      unit_(unit),
      min_bytes_(min_bytes),
      now_(now ? std::move(now) : SteadyNow(&std::chrono::steady_clock::now)),
      start_(now_()),
      total_(total) {}

Progress::~Progress() { Finish(); }

bool Progress::VisibleLocked() const {
  if (unit_ != ProgressUnit::kBytes) return true;
  return done_.load() >= min_bytes_ || total_ >= min_bytes_;
}

void Progress::DrawLocked(bool finished) {
  auto now = now_();
  std::optional<std::uint64_t> bytes;
  if (counts_bytes_.load()) bytes = bytes_.load();
  std::string line = FormatProgress(label_, unit_, done_.load(), total_,
                                    now - start_, finished, bytes);
  // "\r" returns to the start of the line; "\x1b[K" erases what a longer
  // earlier line left behind.
  std::fprintf(out_, "\r%s\x1b[K%s", line.c_str(), finished ? "\n" : "");
  std::fflush(out_);
  last_draw_ = now;
  drawn_ = true;
}

void Progress::Add(std::uint64_t n) {
  if (out_ == nullptr) return;
  done_.fetch_add(n);
  std::scoped_lock lock(mutex_);
  if (finished_ || !VisibleLocked()) return;
  if (!drawn_ || now_() - last_draw_ >= kRedrawEvery) DrawLocked(false);
}

void Progress::AddBytes(std::uint64_t n) {
  if (out_ == nullptr) return;
  bytes_.fetch_add(n);
  counts_bytes_.store(true);
  std::scoped_lock lock(mutex_);
  if (finished_ || !drawn_) return;
  if (now_() - last_draw_ >= kRedrawEvery) DrawLocked(false);
}

void Progress::Print(std::string_view line, std::FILE* to) {
  std::scoped_lock lock(mutex_);
  if (out_ != nullptr && drawn_ && !finished_) std::fputs("\r\x1b[K", out_);
  std::fprintf(to, "%.*s\n", static_cast<int>(line.size()), line.data());
  if (to != stderr) std::fflush(to);
  if (out_ != nullptr && drawn_ && !finished_) DrawLocked(false);
}

void Progress::SetTotal(std::uint64_t total) {
  if (out_ == nullptr) return;
  std::scoped_lock lock(mutex_);
  total_ = total;
}

void Progress::Finish() {
  if (out_ == nullptr) return;
  std::scoped_lock lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (drawn_ || VisibleLocked()) DrawLocked(true);
}

}  // namespace backends::cli

// Retry decisions and full-jitter backoff for S3 requests (see retry.h).

#include "s3/retry.h"

#include <algorithm>
#include <random>
#include <thread>

namespace backends::s3 {

bool IsRepeatable(
    std::string_view method,
    const std::vector<std::pair<std::string, std::string>>& query) {
  if (method == "GET" || method == "HEAD" || method == "PUT" ||
      method == "DELETE") {
    return true;
  }
  if (method == "POST") {
    // DeleteObjects: deleting a deleted key again is a success.
    return std::any_of(query.begin(), query.end(),
                       [](const auto& q) { return q.first == "delete"; });
  }
  return false;
}

bool IsRetryableAnswer(long http_status, std::string_view body) {
  switch (http_status) {
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    case 400:
      return body.find("<Code>RequestTimeout</Code>") != std::string_view::npos;
    default:
      return false;
  }
}

bool IsRetryableFailure(const Status& status) {
  return status.code() == ErrorCode::kUnavailable ||
         status.code() == ErrorCode::kDeadlineExceeded;
}

std::chrono::milliseconds FullJitterBackoff(const S3RetryOptions& options,
                                            int attempt) {
  using std::chrono::milliseconds;
  const auto base = std::max(options.base_backoff, milliseconds(0));
  const auto cap = std::max(options.max_backoff, milliseconds(0));
  // base * 2^(attempt-1), without overflowing: stop doubling at the cap.
  milliseconds ceiling = std::min(base, cap);
  for (int i = 1; i < attempt && ceiling < cap; ++i) {
    ceiling = std::min(cap, ceiling * 2);
  }
  if (ceiling.count() <= 0) return milliseconds(0);
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_int_distribution<std::int64_t> pick(0, ceiling.count());
  return milliseconds(pick(random));
}

std::chrono::milliseconds ScaledDeadline(std::chrono::milliseconds grace,
                                         std::uint64_t min_rate,
                                         std::uint64_t bytes) {
  using std::chrono::milliseconds;
  // A century is "no limit" in practice and keeps the sums below far from
  // overflowing.
  constexpr std::int64_t kCenturyMs = 100ll * 365 * 24 * 3600 * 1000;
  if (min_rate == 0 || bytes == 0 || grace.count() >= kCenturyMs) {
    return grace;
  }
  const std::uint64_t seconds = bytes / min_rate;
  if (seconds >= static_cast<std::uint64_t>(kCenturyMs / 1000)) {
    return milliseconds(kCenturyMs);
  }
  const std::uint64_t ms =
      seconds * 1000 + (bytes % min_rate) * 1000 / min_rate;
  return std::min(milliseconds(kCenturyMs),
                  grace + milliseconds(static_cast<std::int64_t>(ms)));
}

RetryTimer::RetryTimer(const S3RetryOptions& options, std::uint64_t min_rate)
    : options_(options), min_rate_(min_rate), start_(Now()) {}

std::chrono::steady_clock::time_point RetryTimer::Now() const {
  return options_.now ? options_.now() : std::chrono::steady_clock::now();
}

std::chrono::milliseconds RetryTimer::elapsed() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Now() - start_);
}

bool RetryTimer::WithinBudget(std::uint64_t bytes_moved) const {
  return elapsed() < ScaledDeadline(options_.budget, min_rate_, bytes_moved);
}

std::optional<std::chrono::milliseconds> RetryTimer::NextBackoff(
    std::uint64_t bytes_moved) {
  if (attempts_ >= options_.max_attempts) return std::nullopt;
  const auto wait = FullJitterBackoff(options_, attempts_);
  if (elapsed() + wait >=
      ScaledDeadline(options_.budget, min_rate_, bytes_moved)) {
    return std::nullopt;
  }
  ++attempts_;
  return wait;
}

bool RetryTimer::WaitBeforeRetry(std::uint64_t bytes_moved) {
  const auto wait = NextBackoff(bytes_moved);
  if (!wait) return false;
  if (options_.sleep) {
    options_.sleep(*wait);  // called for every retry, even a zero wait
  } else {
    std::this_thread::sleep_for(*wait);
  }
  return true;
}

std::string RetryTimer::Summary() const {
  if (attempts_ == 1) return " (1 attempt)";
  return " (gave up after " + std::to_string(attempts_) + " attempts in " +
         std::to_string(elapsed().count()) + " ms)";
}

}  // namespace backends::s3

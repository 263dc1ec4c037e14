#pragma once

// Retry decisions for S3 requests: which requests may be repeated, which
// failures are worth repeating, and how long to wait between attempts
// (exponential backoff with full jitter, bounded by an attempt limit and a
// time budget). The policy is S3RetryOptions (backends/s3.h); S3Client::Send
// applies it.
//
// Full jitter: attempt n (from 1) is followed by a wait drawn uniformly from
// [0, min(max_backoff, base_backoff * 2^(n-1))], which spreads clients that
// failed together (a 503 SlowDown burst) instead of making them retry in
// lock-step.
// https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
//
// Deadlines scale with the bytes a transfer moves: a transfer
// that has moved B bytes may have run for `grace` + B / min_rate. One
// attempt uses S3Options::request_timeout as its grace, a request with its
// retries (or a download with its resumptions) S3RetryOptions::budget, so
// a server that dribbles a few bytes a second (slowloris) is cut off while
// a large transfer at a sane rate is not.
//
// Thread safety: RetryTimer is used by one request (one thread); the
// functions are pure or use thread-local random state.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/s3.h"
#include "backends/status.h"

namespace backends::s3 {

/// True for requests that are safe to send twice: GET, HEAD, PUT (a whole
/// in-memory body), DELETE, and POST ?delete (DeleteObjects). Other POSTs
/// (CreateMultipartUpload, CompleteMultipartUpload) are not.
bool IsRepeatable(
    std::string_view method,
    const std::vector<std::pair<std::string, std::string>>& query);

/// True for the answers a retry may cure: 500, 502, 503, 504, 429, and 400
/// with the S3 code RequestTimeout (the server gave up on a slow upload).
bool IsRetryableAnswer(long http_status, std::string_view body);

/// True for the transport failures a retry may cure (kUnavailable:
/// connection refused/reset, truncated body; kDeadlineExceeded: timeouts
/// and stalls).
bool IsRetryableFailure(const Status& status);

/// The wait after attempt `attempt` (1-based): uniform in
/// [0, min(max_backoff, base_backoff * 2^(attempt-1))].
std::chrono::milliseconds FullJitterBackoff(const S3RetryOptions& options,
                                            int attempt);

/// The time a transfer that has moved `bytes` may run: `grace` plus
/// bytes / `min_rate` (bytes per second; zero: `grace` alone). Saturates
/// instead of overflowing.
std::chrono::milliseconds ScaledDeadline(std::chrono::milliseconds grace,
                                         std::uint64_t min_rate,
                                         std::uint64_t bytes);

/// Tracks the attempts of one request against the policy.
class RetryTimer {
 public:
  /// `min_rate` (bytes per second) scales the budget by the bytes moved
  /// (see ScaledDeadline); zero: the budget alone.
  explicit RetryTimer(const S3RetryOptions& options,
                      std::uint64_t min_rate = 0);

  /// Called after a failed attempt: true (after waiting the backoff) if
  /// another attempt may be made, false if the attempt limit is reached or
  /// the wait would end past the budget scaled by `bytes_moved` (what the
  /// request has moved so far, or will move).
  bool WaitBeforeRetry(std::uint64_t bytes_moved = 0);

  /// WaitBeforeRetry without the wait: the backoff to wait before the next
  /// attempt (now counted), or std::nullopt to give up. For callers that
  /// wait elsewhere (a batch schedules the retry instead of sleeping).
  std::optional<std::chrono::milliseconds> NextBackoff(
      std::uint64_t bytes_moved = 0);

  /// Whether the budget scaled by `bytes_moved` has time left now.
  bool WithinBudget(std::uint64_t bytes_moved) const;

  /// Attempts made so far (each WaitBeforeRetry that returned true, plus 1).
  int attempts() const { return attempts_; }
  /// Time since the first attempt.
  std::chrono::milliseconds elapsed() const;

  /// " (gave up after N attempts in T ms)" or " (1 attempt)".
  std::string Summary() const;

 private:
  std::chrono::steady_clock::time_point Now() const;

  const S3RetryOptions& options_;
  const std::uint64_t min_rate_;
  std::chrono::steady_clock::time_point start_;
  int attempts_ = 1;
};

}  // namespace backends::s3

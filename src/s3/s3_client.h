#pragma once

// The S3 request layer: builds each request's URL for the addressing style,
// signs it (SigV4, header form) with the current credentials, sends it on
// the transport, and corrects a wrong region once from the server's
// x-amz-bucket-region answer.
//
// Retries (S3RetryOptions in backends/s3.h, policy in retry.h): Send repeats
// a request that is safe to repeat after a retryable failure or answer,
// signing each attempt afresh (new date), and waits with full-jitter
// backoff between attempts. When it gives up, the error keeps the last
// cause's code and says how many attempts were made.
//
// Thread safety: safe for concurrent use; the only shared mutable state is
// the region (corrected at most once per wrong value), under a mutex.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/clock.h"
#include "backends/s3.h"
#include "backends/status.h"
#include "s3/curl_transport.h"
#include "s3/retry.h"
#include "s3/sigv4.h"

namespace backends::s3 {

/// Where requests go, resolved from the options and the environment.
struct S3Endpoint {
  std::string scheme;     // "http" or "https"
  std::string authority;  // "127.0.0.1:7480", "s3.us-east-1.amazonaws.com"
  std::string bucket;
  std::string region;
  bool path_style = true;
  /// AWS itself: the authority follows the region
  /// (s3.REGION.amazonaws.com) and is rebuilt when the region is corrected.
  bool aws = false;
};

/// Returns the credentials to sign with now (anonymous() ones: unsigned).
using CredentialsSource = std::function<Result<Credentials>()>;

class S3Client {
 public:
  struct Request {
    std::string method;
    /// The full object key (prefix included); empty for bucket requests.
    std::string key{};
    /// Another bucket on the same endpoint (a copy's source); empty: the
    /// client's own.
    std::string bucket{};
    /// Raw (unencoded) query parameters.
    std::vector<std::pair<std::string, std::string>> query{};
    HttpHeaders headers{};
    std::string_view body{};
    /// Whether the request may be sent more than once; unset: decided by
    /// the method (IsRepeatable in retry.h).
    std::optional<bool> repeatable{};
    /// Bytes the request moves besides its body, for its deadline and
    /// retry budget (HttpRequest::expected_bytes).
    std::uint64_t expected_bytes = 0;
  };

  /// `retry` applies to every Send; the default sends each request once.
  /// `min_transfer_rate` scales the retry budget by the bytes a request
  /// moves (ScaledDeadline in retry.h); zero: the budget alone.
  S3Client(S3Endpoint endpoint, CredentialsSource credentials,
           std::unique_ptr<HttpTransport> transport,
           std::shared_ptr<Clock> clock,
           S3RetryOptions retry = S3RetryOptions{.max_attempts = 1},
           std::uint64_t min_transfer_rate = 0);

  /// Sends `request` and returns the answer whatever its status, retrying
  /// as the policy allows. Errors: transport or credential failures, and
  /// (for repeatable requests) a retryable answer still there after the
  /// last attempt (kUnavailable, naming the S3 code and the attempts).
  /// `context` names the operation and key for messages.
  Result<HttpResponse> Send(const Request& request, std::string_view context);
  /// Send() for many requests at once (s3_batch.cc): keeps up to
  /// `in_flight` of them on the transport (HttpTransport::Start) and waits
  /// on this thread, so a batch needs no thread of its own. Each request
  /// is retried as Send() would, with its own attempts and budget; a retry
  /// waits its backoff without holding up the others (S3RetryOptions::sleep,
  /// if set, is called instead). Returns one outcome per request, in
  /// order; contexts[i] names requests[i]. REQUIRES: the spans have the
  /// same size; `in_flight` >= 1.
  std::vector<Result<HttpResponse>> SendMany(
      std::span<const Request> requests, std::span<const std::string> contexts,
      std::size_t in_flight);
  /// Sends once with `streams` bound (ScopedBodyStreams); s3_client_stream.cc
  Result<HttpResponse> SendStream(const Request& request,
                                  const std::string& payload_sha256,
                                  BodyStreams& streams,
                                  std::string_view context);

  /// A presigned URL for `method` on `key` (full object key).
  Result<std::string> Presign(std::string_view method, std::string_view key,
                              std::chrono::seconds expiry,
                              std::string_view context);

  /// The URL requests use for `key` in `bucket`, key percent-encoded.
  std::string ObjectUrl(std::string_view bucket, std::string_view key) const;

  /// The current region and endpoint (the region may have been corrected).
  S3Endpoint endpoint() const;

  /// The retry policy and the rate that scales its budget, for callers
  /// that resume streamed transfers themselves.
  const S3RetryOptions& retry() const { return retry_; }
  std::uint64_t min_transfer_rate() const { return min_transfer_rate_; }

 private:
  class Call;
  /// One attempt's signed HTTP request and the secrets to scrub from its
  /// answer.
  struct Signed {
    HttpRequest http;
    std::string signature;
    Credentials credentials;
    S3Endpoint used;  // the endpoint it was signed for
  };
  struct Target {
    std::string authority;
    std::string path;  // raw, "/bucket/key" or "/key"
  };
  Target TargetFor(const S3Endpoint& endpoint, std::string_view bucket,
                   std::string_view key) const;
  Result<HttpResponse> SendOnce(const S3Endpoint& endpoint,
                                const Request& request,
                                const std::string& payload_sha256,
                                std::string_view context);
  Result<Signed> Sign(const S3Endpoint& endpoint, const Request& request,
                      const std::string& payload_sha256,
                      std::string_view context);
  /// Removes the secrets of `sent` from an error answer.
  static void Scrub(const Signed& sent, HttpResponse& response);
  /// If `response` says the bucket lives in another region, switches to it
  /// and returns true.
  bool CorrectRegion(const S3Endpoint& used, const HttpResponse& response);

  CredentialsSource credentials_;
  std::unique_ptr<HttpTransport> transport_;
  std::shared_ptr<Clock> clock_;
  const S3RetryOptions retry_;
  const std::uint64_t min_transfer_rate_;
  mutable std::mutex mutex_;
  // Guarded by mutex_.
  S3Endpoint endpoint_;
};

/// One request and its attempts under the client's retry policy: Sign()
/// an attempt, send it, Judge() the outcome; repeat while Judge() returns
/// no final outcome, after backoff() (none: resend at once, e.g. after a
/// region correction). Send() drives it with sleeps, SendMany() with a
/// schedule. Used by one thread at a time; `request` and `context` must
/// outlive it.
class S3Client::Call {
 public:
  Call(S3Client& client, const Request& request, std::string_view context);
  /// The next attempt, signed; valid until the next Sign().
  Result<const HttpRequest*> Sign();
  /// The final outcome of the request, or std::nullopt to send again.
  std::optional<Result<HttpResponse>> Judge(Result<HttpResponse> response);
  /// The wait before the next attempt, after a Judge() that asked for one.
  std::optional<std::chrono::milliseconds> backoff() const { return backoff_; }
  /// Waits backoff() (S3RetryOptions::sleep if set).
  void SleepBackoff() const;

 private:
  S3Client& client_;
  const Request& request_;
  std::string_view context_;
  const std::string payload_sha256_;
  const bool repeatable_;
  RetryTimer timer_;
  Signed sent_;
  bool region_corrected_ = false;
  std::optional<std::chrono::milliseconds> backoff_;
};

/// Base64 of the MD5 of `data` (the Content-MD5 header DeleteObjects
/// requires).
std::string ContentMd5(std::string_view data);

/// A random 128-bit id in hex, naming one conditional write.
std::string NewWriteId();

/// The ETag S3 gives a single-part PUT of `body`: its MD5 in lower-case
/// hex, in double quotes.
std::string SinglePartEtag(std::string_view body);

}  // namespace backends::s3

#pragma once

// The S3 request layer: builds each request's URL for the addressing style,
// signs it (SigV4, header form) with the current credentials, sends it on
// the transport, and corrects a wrong region once from the server's
// x-amz-bucket-region answer.
//
// Thread safety: safe for concurrent use; the only shared mutable state is
// the region (corrected at most once per wrong value), under a mutex.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/clock.h"
#include "backends/status.h"
#include "s3/curl_transport.h"
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
    /// Raw (unencoded) query parameters.
    std::vector<std::pair<std::string, std::string>> query{};
    HttpHeaders headers{};
    std::string_view body{};
  };

  S3Client(S3Endpoint endpoint, CredentialsSource credentials,
           std::unique_ptr<HttpTransport> transport,
           std::shared_ptr<Clock> clock);

  /// Sends `request` and returns the answer whatever its status; errors are
  /// transport or credential failures only. `context` names the operation
  /// and key for messages.
  Result<HttpResponse> Send(const Request& request, std::string_view context);

  /// A presigned URL for `method` on `key` (full object key).
  Result<std::string> Presign(std::string_view method, std::string_view key,
                              std::chrono::seconds expiry,
                              std::string_view context);

  /// The URL requests use for `key` in `bucket`, key percent-encoded.
  std::string ObjectUrl(std::string_view bucket, std::string_view key) const;

  /// The current region and endpoint (the region may have been corrected).
  S3Endpoint endpoint() const;

 private:
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
  /// If `response` says the bucket lives in another region, switches to it
  /// and returns true.
  bool CorrectRegion(const S3Endpoint& used, const HttpResponse& response);

  CredentialsSource credentials_;
  std::unique_ptr<HttpTransport> transport_;
  std::shared_ptr<Clock> clock_;
  mutable std::mutex mutex_;
  // Guarded by mutex_.
  S3Endpoint endpoint_;
};

/// Base64 of the MD5 of `data` (the Content-MD5 header DeleteObjects
/// requires).
std::string ContentMd5(std::string_view data);

}  // namespace backends::s3

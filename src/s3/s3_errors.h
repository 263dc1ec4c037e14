#pragma once

// The one place where curl results, HTTP statuses and S3 error documents
// become a Status. Every S3 failure message has the shape
//   <operation> "<key>": s3 <METHOD> returned <status> <S3 code>: <message>
// and never contains credentials, signatures or presigned URLs.

#include <string>
#include <string_view>

#include "backends/status.h"

namespace backends::s3 {

/// What an S3 error response says. `code` and `message` are empty when the
/// body is not an S3 error document (HEAD answers have no body; radosgw
/// sends an empty <Message>).
struct S3ErrorInfo {
  long http_status = 0;
  std::string code{};           // "NoSuchBucket", "AccessDenied", ...
  std::string message{};        // the server's text, possibly empty
  std::string request_id{};     // for support requests; never secret
  std::string bucket_region{};  // x-amz-bucket-region, when sent
};

/// Parses an S3 <Error> document (or anything else: then only the status is
/// kept). `error_code_header` is the x-amz-error-code header, if any (some
/// servers send it on HEAD answers, which have no body).
S3ErrorInfo ParseS3Error(long http_status, std::string_view body,
                         std::string_view error_code_header = {});

/// The Status for an S3 error answer. `context` names the operation and key
/// (`load "a/b"`), `method` the HTTP method.
///   403 AccessDenied and other 403s  -> kPermissionDenied
///   InvalidAccessKeyId, SignatureDoesNotMatch, ExpiredToken, 401
///                                    -> kUnauthenticated
///   NoSuchBucket                     -> kNotFound ("bucket ... does not
///   exist") 5xx, SlowDown, RequestTimeout    -> kUnavailable
///   AccessControlListNotSupported    -> kFailedPrecondition (with a hint)
///   other 4xx                        -> kInvalidArgument / kFailedPrecondition
Status S3Error(std::string_view context, std::string_view method,
               const S3ErrorInfo& info);

/// The Status for a transfer that failed below HTTP. `curl_code` is a
/// CURLcode, `detail` curl's error buffer (never holds the URL's secrets:
/// presigned query strings are not echoed by curl's messages).
///   timeouts                                -> kDeadlineExceeded
///   connect / DNS / send / receive failures -> kUnavailable
///   TLS certificate problems                -> kUnavailable (with the cause)
///   anything else                           -> kInternal
Status CurlError(std::string_view context, std::string_view method,
                 int curl_code, std::string_view detail);

}  // namespace backends::s3

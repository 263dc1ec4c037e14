#pragma once

// AWS Signature Version 4 for S3: the Authorization-header form and the
// presigned-URL (query) form.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
//
// S3 rules (differ from other services): the path is URI-encoded exactly
// once and never normalised (`a//b`, `./x`, `x/../y` are distinct keys).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/status.h"

namespace backends::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
  /// When temporary credentials stop working; nullopt for long-term keys.
  std::optional<std::chrono::system_clock::time_point> expiration;
  bool anonymous() const { return access_key_id.empty(); }
};

/// A request to sign. `path` and the query are raw (not percent-encoded)
/// unless `path_is_encoded` is set, in which case they are used exactly as
/// they will be sent on the wire.
struct SigningRequest {
  std::string method;  // "GET", "PUT", ...
  std::string host;    // value of the Host header, with ":port" if not default
  std::string path;    // "/bucket/key" or "/key"
  std::vector<std::pair<std::string, std::string>> query;
  /// Headers to sign, as they will be sent (name case is kept for sending;
  /// signing lower-cases names and trims values).
  std::vector<std::pair<std::string, std::string>> headers;
  /// Hex SHA-256 of the payload, or "UNSIGNED-PAYLOAD".
  std::string payload_sha256;
  bool path_is_encoded = false;
  /// Generic AWS services only: remove `.`/`..` segments and collapse `//`
  /// before signing. S3 never normalises (keys are literal); leave false.
  bool normalize_path = false;
  /// Sign the session token (X-Amz-Security-Token), as S3 requires. false
  /// attaches it after signing, outside SignedHeaders (a test-vector mode).
  bool sign_session_token = true;
};

struct SigningScope {
  std::string region;   // "us-east-1"
  std::string service;  // "s3"
  std::chrono::system_clock::time_point time;
};

/// What signing produced; the intermediate strings are for tests.
struct Signed {
  /// Header form: the headers to add to the request, in this order:
  /// X-Amz-Security-Token (with a session token), X-Amz-Date,
  /// x-amz-content-sha256 (when asked), Authorization. Empty for Presign.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Presign: the full encoded query string to send: the request's own
  /// parameters (encoded, in the given order), then `auth_query`.
  std::string query;
  /// Presign: only the added parameters, encoded, in this order:
  /// X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders,
  /// X-Amz-Expires, X-Amz-Security-Token (with a token), X-Amz-Signature.
  std::string auth_query;
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

/// Hex SHA-256 of `data` (lower case).
std::string Sha256Hex(std::string_view data);

/// S3 URI encoding: every byte except A-Z a-z 0-9 - _ . ~ as %XX (upper
/// case); '/' kept when `keep_slash`.
std::string UriEncode(std::string_view text, bool keep_slash);

/// Header form. When `add_content_sha256_header`, x-amz-content-sha256 is
/// added (S3 requires it on every request) and signed. The derived signing
/// key is cached per (date, region, service, secret), so signing costs one
/// SHA-256 and one HMAC after the first request of the day.
/// Errors: kInvalidArgument for a request without a host, an empty
/// payload_sha256, anonymous credentials or a bad region/service.
/// Thread-safe.
Result<Signed> SignHeaders(const SigningRequest& request,
                           const Credentials& credentials,
                           const SigningScope& scope,
                           bool add_content_sha256_header = true);

/// Query form (presigned URL), valid for `expires` (1 s to 7 days). Only
/// `request.headers` (and the host) are signed; an empty payload_sha256
/// means UNSIGNED-PAYLOAD. Errors: as SignHeaders, plus kInvalidArgument
/// for an expiry outside [1 s, 7 days]. Thread-safe.
Result<Signed> Presign(const SigningRequest& request,
                       const Credentials& credentials,
                       const SigningScope& scope, std::chrono::seconds expires);

}  // namespace backends::s3

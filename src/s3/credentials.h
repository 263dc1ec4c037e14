#pragma once

// Where S3 credentials come from: the standard AWS chain, in this order,
//   1. explicit   the access key id and secret given in the options
//   2. environment AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
//   3. shared files the profile (options, AWS_PROFILE, else "default") in
//                  AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials ([x]),
//                  then AWS_CONFIG_FILE or ~/.aws/config ([profile x]);
//                  a profile with role_arn + web_identity_token_file uses
//                  web identity
//   4. web identity AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
//                  [+ AWS_ROLE_SESSION_NAME]: STS AssumeRoleWithWebIdentity
//                  at AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL or AWS
//   5. container   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2)
//                  or _FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
//                  or _TOKEN as the Authorization header
//   6. EC2 IMDSv2  PUT /latest/api/token, then the role and its credentials,
//                  at AWS_EC2_METADATA_SERVICE_ENDPOINT or 169.254.169.254;
//                  skipped when AWS_EC2_METADATA_DISABLED=true
// or anonymous (unsigned requests) when asked for. The first source that is
// configured decides: if it fails, that error is returned (the chain does
// not silently fall through to other credentials). Only the instance
// metadata service, when it does not answer, counts as "not configured".
//
// Temporary credentials (from 4-6, or with an expiry) are cached and
// fetched again `refresh_margin` before they expire.
//
// Secrets (secret keys, session tokens, web identity and container tokens)
// never appear in any message: errors name the source and the cause only.
//
// Thread safety: providers are safe for concurrent use.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "backends/clock.h"
#include "backends/status.h"
#include "s3/ini.h"
#include "s3/sigv4.h"

namespace backends::s3 {

struct CredentialsOptions {
  /// Explicit credentials (both or neither of id and secret).
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  /// Shared-files profile; empty: AWS_PROFILE, else "default".
  std::string profile;
  /// Unsigned requests; no source is consulted.
  bool anonymous = false;

  /// Where variables are read; null: the process environment.
  Environment environment;
  /// Null: DefaultClock().
  std::shared_ptr<Clock> clock;
  /// Base URL for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (tests point it at
  /// 127.0.0.1).
  std::string container_host = "http://169.254.170.2";
  /// Timeout of each instance-metadata / container request.
  std::chrono::milliseconds metadata_timeout{1000};
  /// Timeout of the STS request.
  std::chrono::milliseconds sts_timeout{10000};
  /// Temporary credentials are fetched again this long before expiry.
  std::chrono::seconds refresh_margin{300};
  /// After a failed refresh, the next attempt waits at least this long
  /// (the old credentials are used meanwhile while they are still valid).
  std::chrono::seconds retry_after_failure{10};
};

/// Gives the credentials to sign with. Thread-safe.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  /// The current credentials (anonymous() ones for unsigned requests).
  /// Errors: kUnauthenticated when expired credentials cannot be renewed;
  /// the source's error otherwise.
  virtual Result<Credentials> GetCredentials() = 0;
  /// The source, e.g. "environment", "shared files (profile dev)".
  virtual std::string source() const = 0;
};

/// Runs the chain now and returns a provider bound to the first source
/// that has credentials (refreshing them from that source).
/// Errors: kUnauthenticated when no source has credentials, with the list
/// of sources tried and why each had none; kInvalidArgument for a bad
/// configuration (half-set keys, a named profile that does not exist, an
/// unreadable token file, a non-local http container URI); the failing
/// source's error (kUnauthenticated / kUnavailable / kDeadlineExceeded) when
/// a configured source fails.
Result<std::shared_ptr<CredentialsProvider>> MakeCredentialsProvider(
    const CredentialsOptions& options);

/// A caching provider over `fetch`: returns the cached credentials until
/// `refresh_margin` before their expiration, then calls `fetch` again; if
/// that fails, keeps the old ones while they are valid (retrying at most
/// every `retry_after_failure`), then reports kUnauthenticated.
std::shared_ptr<CredentialsProvider> MakeRefreshingProvider(
    std::string source, std::function<Result<Credentials>()> fetch,
    Credentials initial, const CredentialsOptions& options);

// The sources, one by one. Each returns std::nullopt when it is not
// configured, after appending the reason to `why_not`.
using SourceResult = Result<std::optional<Credentials>>;
SourceResult FromExplicit(const CredentialsOptions& options,
                          std::string& why_not);
SourceResult FromEnvironment(const CredentialsOptions& options,
                             std::string& why_not);
SourceResult FromSharedFiles(const CredentialsOptions& options,
                             std::string& why_not);
SourceResult FromWebIdentity(const CredentialsOptions& options,
                             std::string& why_not);
SourceResult FromContainer(const CredentialsOptions& options,
                           std::string& why_not);
SourceResult FromInstanceMetadata(const CredentialsOptions& options,
                                  std::string& why_not);

}  // namespace backends::s3

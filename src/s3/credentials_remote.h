#pragma once

// The HTTP-based credential sources (STS web identity, container, EC2
// instance metadata) and their tiny libcurl client. Private to
// credentials.cc; see credentials.h for the contract.

#include <string>
#include <string_view>

#include "backends/status.h"
#include "s3/credentials.h"

namespace backends::s3::internal {

/// True for loopback and link-local hosts ("127.x", "localhost", "[::1]",
/// "169.254.x", "[fd00:ec2::...]"): no proxy, and allowed over plain http
/// for AWS_CONTAINER_CREDENTIALS_FULL_URI.
bool IsLocalHost(std::string_view host);

/// The host of "scheme://host[:port]/path" ("[v6]" stays bracketed).
std::string HostOf(std::string_view url);

/// STS AssumeRoleWithWebIdentity with the token in `token_file`.
Result<Credentials> AssumeRoleWithWebIdentity(const CredentialsOptions& options,
                                              const std::string& token_file,
                                              const std::string& role_arn,
                                              std::string session_name);

/// GET `url` (container credentials endpoint) with the authorization token.
Result<Credentials> FetchContainer(const CredentialsOptions& options,
                                   const std::string& url);

/// The IMDS base URL (AWS_EC2_METADATA_SERVICE_ENDPOINT or the default).
std::string MetadataEndpoint(const Environment& env);

/// IMDSv2. `reachable` is false when the service did not answer at all.
Result<Credentials> FetchInstanceMetadata(const CredentialsOptions& options,
                                          bool& reachable);

}  // namespace backends::s3::internal

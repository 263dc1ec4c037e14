#pragma once

// Resolution of S3Options against the environment and the shared config
// file: region, endpoint, addressing style and CA bundle.
//
//   region     options.region, AWS_REGION, AWS_DEFAULT_REGION, the
//              profile's `region`, else us-east-1
//   endpoint   options.endpoint, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the
//              profile's `s3 = endpoint_url` / `endpoint_url` (all but the
//              first ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true),
//              else https://s3.REGION.amazonaws.com (AWS)
//   addressing kAuto: virtual-hosted on AWS hosts for DNS-compatible bucket
//              names (without dots over https), path style for everything
//              else (custom endpoints, IP addresses, localhost); the
//              profile's `s3 = addressing_style` (path/virtual) applies when
//              options.addressing is kAuto
//   CA bundle  options.ca_bundle, AWS_CA_BUNDLE, the profile's `ca_bundle`;
//              used for https endpoints only, so plain-http endpoints work
//              while AWS_CA_BUNDLE is set
// https://docs.aws.amazon.com/sdkref/latest/guide/settings-reference.html

#include <string>

#include "backends/s3.h"
#include "backends/status.h"
#include "s3/ini.h"

namespace backends::s3 {

struct ResolvedS3Config {
  std::string region;
  /// Where the region came from, for messages: "options", "AWS_REGION",
  /// "AWS_DEFAULT_REGION", "profile NAME", "default".
  std::string region_source;
  std::string scheme;     // "http" or "https"
  std::string authority;  // "127.0.0.1:7480", "s3.us-east-1.amazonaws.com"
  /// scheme://authority, without a trailing slash.
  std::string endpoint;
  /// The endpoint is AWS's default one, derived from the region (and to be
  /// derived again when the region is corrected).
  bool endpoint_is_default = false;
  /// The host is an AWS S3 host (*.amazonaws.com[.cn]).
  bool aws_host = false;
  bool path_style = true;
  /// PEM file to trust instead of the system store; empty: the system's.
  /// Always empty for http endpoints.
  std::string ca_bundle;
  /// The credentials profile (options, AWS_PROFILE, else "default").
  std::string profile;
};

/// Resolves `options` (see the table above). `env` null: the process
/// environment. Errors: kInvalidArgument for an empty or malformed bucket
/// name, a malformed region, an endpoint that is not http(s)://host[:port]
/// (no path, query or user info), virtual-hosted addressing with an IP
/// address or a bucket name that is not a DNS label, a CA bundle that
/// cannot be read, negative timeouts, or a named profile whose files cannot
/// be read. Messages name the setting and where it came from.
Result<ResolvedS3Config> ResolveS3Config(const S3Options& options,
                                         const Environment& env);

/// The endpoint of AWS S3 in `region`: "s3.REGION.amazonaws.com"
/// (".amazonaws.com.cn" for cn- regions).
std::string AwsS3Authority(std::string_view region);

/// True for a dotted IPv4 address or a bracketed IPv6 address (port
/// allowed after either).
bool IsIpAuthority(std::string_view authority);

/// True when `bucket` can be a DNS label prefix: 3-63 characters of a-z 0-9
/// '.' '-', starting and ending with a letter or digit, no "..".
bool IsDnsCompatibleBucket(std::string_view bucket);

}  // namespace backends::s3

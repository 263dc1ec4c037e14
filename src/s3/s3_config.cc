#include "s3/s3_config.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <iterator>
#include <utility>
#include <vector>

namespace backends::s3 {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool ValidRegion(std::string_view region) {
  return !region.empty() && region.size() <= 64 &&
         std::all_of(region.begin(), region.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-';
         });
}

// The shape of an AWS region name: a two-letter area, an optional
// partition (gov, iso...), a direction, a number: us-east-1,
// us-gov-west-1, ap-southeast-2, il-central-1. A typo ("us-est-1",
// "eu-west") does not fit; other services' names are allowed only with an
// endpoint, which says where the requests go.
bool AwsRegionShape(std::string_view region) {
  static constexpr std::string_view kDirections[] = {
      "north", "south", "east", "west", "central",
      "northeast", "northwest", "southeast", "southwest"};
  static constexpr std::string_view kPartitions[] = {"gov", "iso", "isob",
                                                     "isoe", "isof"};
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t dash = region.find('-', start);
    parts.push_back(region.substr(start, dash - start));
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  if (parts.size() != 3 && parts.size() != 4) return false;
  const auto is = [](std::string_view part, const auto& names) {
    return std::find(std::begin(names), std::end(names), part) !=
           std::end(names);
  };
  const std::string_view number = parts.back();
  return parts[0].size() == 2 &&
         (parts.size() == 3 || is(parts[1], kPartitions)) &&
         is(parts[parts.size() - 2], kDirections) && !number.empty() &&
         number.size() <= 2 && std::all_of(number.begin(), number.end(), IsDigit);
}

std::string LowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

struct Setting {
  std::string value;
  std::string source;
};

// The first candidate that has a value.
std::optional<Setting> First(
    std::initializer_list<std::pair<std::optional<std::string>, std::string>>
        candidates) {
  for (const auto& [value, source] : candidates) {
    if (value) return Setting{*value, source};
  }
  return std::nullopt;
}

std::optional<std::string> NonEmpty(const std::string& value) {
  if (value.empty()) return std::nullopt;
  return value;
}

bool IgnoreConfiguredEndpoints(const Environment& env) {
  return LowerAscii(EnvValue(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
                        .value_or("")) == "true";
}

// Splits "scheme://authority[/]" and checks it.
Status ParseEndpoint(const Setting& endpoint, ResolvedS3Config& out) {
  const std::string bad = "S3 endpoint from " + endpoint.source + " ";
  const std::size_t colon = endpoint.value.find("://");
  if (colon == std::string::npos) {
    return InvalidArgumentError(bad + "\"" + endpoint.value +
                                "\" must start with http:// or https://");
  }
  out.scheme = LowerAscii(endpoint.value.substr(0, colon));
  if (out.scheme != "http" && out.scheme != "https") {
    return InvalidArgumentError(bad + "has scheme \"" + out.scheme +
                                "\"; use http or https");
  }
  std::string rest = endpoint.value.substr(colon + 3);
  if (rest.find('@') != std::string::npos) {
    // Never echo user info: it may hold a password.
    return InvalidArgumentError(bad + "must not contain user info (user@)");
  }
  while (rest.ends_with("/")) rest.pop_back();
  if (rest.empty() || rest.find_first_of("/?# \t") != std::string::npos) {
    return InvalidArgumentError(
        bad + "\"" + endpoint.value +
        "\" must be scheme://host[:port] with no path, query or spaces");
  }
  out.authority = LowerAscii(rest);
  out.endpoint = out.scheme + "://" + out.authority;
  return Status::OK();
}

std::string HostOfAuthority(std::string_view authority) {
  if (authority.starts_with("[")) {
    return std::string(authority.substr(0, authority.find(']') + 1));
  }
  return std::string(authority.substr(0, authority.find(':')));
}

}  // namespace

std::string AwsS3Authority(std::string_view region) {
  return "s3." + std::string(region) + ".amazonaws.com" +
         (region.starts_with("cn-") ? ".cn" : "");
}

bool IsIpAuthority(std::string_view authority) {
  const std::string host = HostOfAuthority(authority);
  if (host.starts_with("[")) return true;
  int parts = 0;
  std::size_t start = 0;
  while (start <= host.size()) {
    std::size_t end = host.find('.', start);
    if (end == std::string::npos) end = host.size();
    const std::string_view part =
        std::string_view(host).substr(start, end - start);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), IsDigit)) {
      return false;
    }
    ++parts;
    start = end + 1;
  }
  return parts == 4;
}

bool IsDnsCompatibleBucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  const auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || IsDigit(c);
  };
  if (!alnum(bucket.front()) || !alnum(bucket.back())) return false;
  if (bucket.find("..") != std::string_view::npos) return false;
  return std::all_of(bucket.begin(), bucket.end(),
                     [&](char c) { return alnum(c) || c == '.' || c == '-'; });
}

Result<ResolvedS3Config> ResolveS3Config(const S3Options& options,
                                         const Environment& env) {
  ResolvedS3Config out;
  if (options.bucket.empty()) {
    return InvalidArgumentError("S3 options: the bucket is empty");
  }
  if (options.bucket.size() > 255 ||
      std::any_of(options.bucket.begin(), options.bucket.end(), [](char c) {
        return c == '/' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
      })) {
    return InvalidArgumentError("S3 options: bad bucket name \"" +
                                options.bucket +
                                "\" (no '/', spaces or control characters)");
  }
  if (options.connect_timeout.count() < 0 ||
      options.request_timeout.count() < 0 || options.retry.budget.count() < 0) {
    return InvalidArgumentError("S3 options: timeouts must not be negative");
  }

  BACKENDS_ASSIGN_OR_RETURN(SharedProfile profile,
                            LoadSharedProfile(options.profile, env));
  out.profile = profile.name;
  const std::string profile_source = "profile " + profile.name;
  const auto from_profile_config =
      [&](const std::string& key) -> std::optional<std::string> {
    if (!profile.config) return std::nullopt;
    auto it = profile.config->find(key);
    if (it == profile.config->end() || it->second.empty()) return std::nullopt;
    return it->second;
  };

  // Region.
  const Setting region =
      First({{NonEmpty(options.region), "options"},
             {EnvValue(env, "AWS_REGION"), "AWS_REGION"},
             {EnvValue(env, "AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION"},
             {from_profile_config("region"),
              profile_source + " in " + profile.config_path},
             {std::string("us-east-1"), "default"}})
          .value();
  if (!ValidRegion(region.value)) {
    return InvalidArgumentError("S3 region \"" + region.value + "\" from " +
                                region.source +
                                " is malformed (expected e.g. eu-west-1)");
  }
  out.region = region.value;
  out.region_source = region.source;

  // Endpoint.
  std::optional<Setting> endpoint =
      First({{NonEmpty(options.endpoint), "options"}});
  if (!endpoint && !IgnoreConfiguredEndpoints(env)) {
    endpoint =
        First({{EnvValue(env, "AWS_ENDPOINT_URL_S3"), "AWS_ENDPOINT_URL_S3"},
               {EnvValue(env, "AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL"},
               {from_profile_config("s3.endpoint_url"),
                profile_source + " (s3 endpoint_url)"},
               {from_profile_config("endpoint_url"),
                profile_source + " (endpoint_url)"}});
  }
  if (endpoint) {
    BACKENDS_RETURN_IF_ERROR(ParseEndpoint(*endpoint, out));
  } else {
    if (!AwsRegionShape(out.region)) {
      return InvalidArgumentError(
          "S3 region \"" + out.region + "\" from " + region.source +
          " is not an AWS region name (e.g. us-east-1, eu-west-3); give an "
          "endpoint to use another service's region");
    }
    out.scheme = "https";
    out.authority = AwsS3Authority(out.region);
    out.endpoint = "https://" + out.authority;
    out.endpoint_is_default = true;
  }
  const std::string host = HostOfAuthority(out.authority);
  out.aws_host =
      host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");

  // Addressing.
  S3Addressing addressing = options.addressing;
  if (addressing == S3Addressing::kAuto) {
    const std::string style =
        LowerAscii(from_profile_config("s3.addressing_style").value_or("auto"));
    if (style == "path") addressing = S3Addressing::kPathStyle;
    if (style == "virtual") addressing = S3Addressing::kVirtualHosted;
  }
  const bool dns_bucket = IsDnsCompatibleBucket(options.bucket);
  switch (addressing) {
    case S3Addressing::kPathStyle:
      out.path_style = true;
      break;
    case S3Addressing::kVirtualHosted:
      if (IsIpAuthority(out.authority) || host == "localhost") {
        return InvalidArgumentError(
            "S3 options: virtual-hosted addressing needs a DNS name, not " +
            out.authority + "; use path style");
      }
      if (!dns_bucket) {
        return InvalidArgumentError("S3 options: bucket \"" + options.bucket +
                                    "\" is not a DNS name; virtual-hosted "
                                    "addressing needs one, use path style");
      }
      out.path_style = false;
      break;
    case S3Addressing::kAuto:
      out.path_style = !out.aws_host || !dns_bucket ||
                       (out.scheme == "https" &&
                        options.bucket.find('.') != std::string::npos);
      break;
  }

  // CA bundle (https only).
  const std::optional<Setting> ca = First(
      {{NonEmpty(options.ca_bundle), "options"},
       {EnvValue(env, "AWS_CA_BUNDLE"), "AWS_CA_BUNDLE"},
       {from_profile_config("ca_bundle"), profile_source + " (ca_bundle)"}});
  if (ca && out.scheme == "https") {
    const std::string path = ExpandHome(ca->value, env);
    if (!std::ifstream(path).good()) {
      return InvalidArgumentError("CA bundle " + path + " from " + ca->source +
                                  " cannot be read");
    }
    out.ca_bundle = path;
  }
  return out;
}

}  // namespace backends::s3

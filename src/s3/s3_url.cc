// S3Options <-> s3:// URLs. Parameter names are the option names; booleans
// are 0/1; lists are comma-separated. Unknown parameters are rejected, so a
// typo never silently opens a different store.

#include "s3/s3_url.h"

#include <algorithm>
#include <charconv>

namespace backends {
namespace {

Result<bool> ParseBool(std::string_view name, std::string_view value) {
  if (value == "1" || value == "true") return true;
  if (value == "0" || value == "false") return false;
  return InvalidArgumentError("s3:// URL: parameter " + std::string(name) +
                              " must be 0 or 1, not \"" + std::string(value) +
                              "\"");
}

Result<long long> ParseCount(std::string_view name, std::string_view value) {
  long long n = 0;
  auto [end, error] =
      std::from_chars(value.data(), value.data() + value.size(), n);
  if (error != std::errc() || end != value.data() + value.size() || n < 0) {
    return InvalidArgumentError("s3:// URL: parameter " + std::string(name) +
                                " must be a non-negative integer, not \"" +
                                std::string(value) + "\"");
  }
  return n;
}

// A count in [low, high]; the error names the range.
Result<std::uint64_t> ParseBounded(std::string_view name,
                                   std::string_view value, std::uint64_t low,
                                   std::uint64_t high) {
  std::uint64_t n = 0;
  auto [end, error] =
      std::from_chars(value.data(), value.data() + value.size(), n);
  if (error != std::errc() || end != value.data() + value.size() || n < low ||
      n > high) {
    return InvalidArgumentError("s3:// URL: parameter " + std::string(name) +
                                " must be an integer " + std::to_string(low) +
                                " to " + std::to_string(high) + ", not \"" +
                                std::string(value) + "\"");
  }
  return n;
}

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kGiB = 1ull << 30;

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

Result<S3Options> S3Options::FromUrl(const Url& url) {
  if (url.scheme != "s3") {
    return InvalidArgumentError("not an s3:// URL (scheme \"" + url.scheme +
                                "\")");
  }
  S3Options options;
  options.bucket = url.authority;
  if (options.bucket.empty()) {
    return InvalidArgumentError("s3:// URL names no bucket (s3://BUCKET/...)");
  }
  options.prefix = url.path;
  if (options.prefix.starts_with('/')) options.prefix.erase(0, 1);
  for (const auto& [name, value] : url.query) {
    if (name == "region") {
      options.region = value;
    } else if (name == "endpoint") {
      options.endpoint = value;
    } else if (name == "path_style") {
      BACKENDS_ASSIGN_OR_RETURN(bool path, ParseBool(name, value));
      options.addressing =
          path ? S3Addressing::kPathStyle : S3Addressing::kVirtualHosted;
    } else if (name == "verify_tls") {
      BACKENDS_ASSIGN_OR_RETURN(options.verify_tls, ParseBool(name, value));
    } else if (name == "profile") {
      options.profile = value;
    } else if (name == "anonymous") {
      BACKENDS_ASSIGN_OR_RETURN(options.anonymous, ParseBool(name, value));
    } else if (name == "content_type") {
      options.content_type = value;
    } else if (name == "cache_age") {
      BACKENDS_ASSIGN_OR_RETURN(long long n, ParseCount(name, value));
      options.cache_age = std::chrono::seconds(n);
    } else if (name == "public_read") {
      BACKENDS_ASSIGN_OR_RETURN(options.public_read, ParseBool(name, value));
    } else if (name == "gzip_types") {
      options.gzip_types = SplitList(value);
    } else if (name == "connect_timeout_ms") {
      BACKENDS_ASSIGN_OR_RETURN(long long n, ParseCount(name, value));
      options.connect_timeout = std::chrono::milliseconds(n);
    } else if (name == "request_timeout_ms") {
      BACKENDS_ASSIGN_OR_RETURN(long long n, ParseCount(name, value));
      options.request_timeout = std::chrono::milliseconds(n);
    } else if (name == "min_transfer_rate") {
      BACKENDS_ASSIGN_OR_RETURN(long long n, ParseCount(name, value));
      options.min_transfer_rate = static_cast<std::uint64_t>(n);
    } else if (name == "max_attempts") {
      BACKENDS_ASSIGN_OR_RETURN(long long n, ParseCount(name, value));
      if (n < 1 || n > 1000) {
        return InvalidArgumentError(
            "s3:// URL: parameter max_attempts must be 1 to 1000, not " +
            std::string(value));
      }
      options.retry.max_attempts = static_cast<int>(n);
    } else if (name == "retry_budget_ms") {
      BACKENDS_ASSIGN_OR_RETURN(long long n, ParseCount(name, value));
      options.retry.budget = std::chrono::milliseconds(n);
    } else if (name == "check_bucket") {
      BACKENDS_ASSIGN_OR_RETURN(options.check_bucket, ParseBool(name, value));
    } else if (name == "connections") {
      BACKENDS_ASSIGN_OR_RETURN(auto n, ParseBounded(name, value, 1, 1024));
      options.connections = static_cast<std::size_t>(n);
    } else if (name == "stall_timeout") {
      BACKENDS_ASSIGN_OR_RETURN(auto n, ParseBounded(name, value, 1, 86400));
      options.stall_timeout = std::chrono::seconds(n);
    } else if (name == "part_size") {
      // S3's limits: parts of 5 MiB to 5 GiB.
      BACKENDS_ASSIGN_OR_RETURN(options.transfer.part_size,
                                ParseBounded(name, value, 5 * kMiB, 5 * kGiB));
    } else if (name == "multipart_threshold") {
      // A single PUT holds at most 5 GiB.
      BACKENDS_ASSIGN_OR_RETURN(options.transfer.multipart_threshold,
                                ParseBounded(name, value, 0, 5 * kGiB));
    } else if (name == "parallel_parts") {
      BACKENDS_ASSIGN_OR_RETURN(auto n, ParseBounded(name, value, 1, 256));
      options.transfer.parallel_parts = static_cast<std::size_t>(n);
    } else if (name == "download_part_size") {
      BACKENDS_ASSIGN_OR_RETURN(options.transfer.download_part_size,
                                ParseBounded(name, value, kMiB, 5 * kGiB));
    } else {
      return InvalidArgumentError("s3:// URL: unknown parameter \"" + name +
                                  "\" (known: region, endpoint, path_style, "
                                  "verify_tls, profile, anonymous, "
                                  "content_type, cache_age, public_read, "
                                  "gzip_types, connect_timeout_ms, "
                                  "request_timeout_ms, min_transfer_rate, "
                                  "max_attempts, retry_budget_ms, "
                                  "check_bucket, connections, "
                                  "stall_timeout, part_size, "
                                  "multipart_threshold, parallel_parts, "
                                  "download_part_size)");
    }
  }
  return options;
}

namespace s3 {

Result<std::unique_ptr<Backend>> OpenS3Url(const Url& url) {
  BACKENDS_ASSIGN_OR_RETURN(S3Options options, S3Options::FromUrl(url));
  BACKENDS_ASSIGN_OR_RETURN(auto store, S3Backend::Open(std::move(options)));
  return std::unique_ptr<Backend>(std::move(store));
}

std::string FolderPrefix(std::string_view prefix) {
  while (prefix.ends_with('/')) prefix.remove_suffix(1);
  return prefix.empty() ? std::string() : std::string(prefix) + "/";
}

std::string S3StoreUrl(const S3Options& options, bool endpoint_is_default) {
  const S3Options defaults;
  std::string out = "s3://" + PercentEncode(options.bucket) + "/" +
                    PercentEncode(options.prefix, "/");
  std::vector<std::pair<std::string, std::string>> query;
  query.emplace_back("region", options.region);
  if (!endpoint_is_default) query.emplace_back("endpoint", options.endpoint);
  if (options.addressing != S3Addressing::kAuto) {
    query.emplace_back(
        "path_style",
        options.addressing == S3Addressing::kPathStyle ? "1" : "0");
  }
  if (!options.verify_tls) query.emplace_back("verify_tls", "0");
  if (!options.profile.empty()) query.emplace_back("profile", options.profile);
  if (options.anonymous) query.emplace_back("anonymous", "1");
  if (!options.content_type.empty()) {
    query.emplace_back("content_type", options.content_type);
  }
  if (options.cache_age) {
    query.emplace_back("cache_age", std::to_string(options.cache_age->count()));
  }
  if (options.public_read) query.emplace_back("public_read", "1");
  if (options.gzip_types != defaults.gzip_types) {
    std::string list;
    for (const auto& type : options.gzip_types) {
      if (!list.empty()) list += ',';
      list += type;
    }
    query.emplace_back("gzip_types", list);
  }
  if (options.connect_timeout != defaults.connect_timeout) {
    query.emplace_back("connect_timeout_ms",
                       std::to_string(options.connect_timeout.count()));
  }
  if (options.request_timeout != defaults.request_timeout) {
    query.emplace_back("request_timeout_ms",
                       std::to_string(options.request_timeout.count()));
  }
  if (options.min_transfer_rate != defaults.min_transfer_rate) {
    query.emplace_back("min_transfer_rate",
                       std::to_string(options.min_transfer_rate));
  }
  if (options.retry.max_attempts != defaults.retry.max_attempts) {
    query.emplace_back("max_attempts",
                       std::to_string(options.retry.max_attempts));
  }
  if (options.retry.budget != defaults.retry.budget) {
    query.emplace_back("retry_budget_ms",
                       std::to_string(options.retry.budget.count()));
  }
  auto number_if_changed = [&](const char* name, auto value, auto fallback) {
    if (value != fallback) query.emplace_back(name, std::to_string(value));
  };
  number_if_changed("connections", options.connections, defaults.connections);
  number_if_changed("stall_timeout", options.stall_timeout.count(),
                    defaults.stall_timeout.count());
  const S3TransferOptions& transfer = options.transfer;
  number_if_changed("part_size", transfer.part_size,
                    defaults.transfer.part_size);
  number_if_changed("multipart_threshold", transfer.multipart_threshold,
                    defaults.transfer.multipart_threshold);
  number_if_changed("parallel_parts", transfer.parallel_parts,
                    defaults.transfer.parallel_parts);
  number_if_changed("download_part_size", transfer.download_part_size,
                    defaults.transfer.download_part_size);
  char separator = '?';
  for (const auto& [name, value] : query) {
    out += separator;
    out += name + "=" + PercentEncode(value, "/:,");
    separator = '&';
  }
  return out;
}

}  // namespace s3
}  // namespace backends

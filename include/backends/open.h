#pragma once

// Opening stores from URLs.
//
//   memory://                         a new VolatileBackend
//   file:///abs/dir, file://rel/dir   a FileBackend rooted there
//   s3://bucket/prefix?region=..&endpoint=http://127.0.0.1:PORT&path_style=1
//   sqlite:///abs/file.db?table=NAME, sqlite://rel/file.db   (sqlite.h)
//   redis://[user@]host[:port][/db][?prefix=P]                 (redis.h)
//
// Backend::url() gives a URL that reopens an equivalent store. URLs never
// carry secrets: credentials come from the standard places.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/status.h"

namespace backends {

/// A parsed store URL: scheme://authority/path?query. Percent-escapes in
/// the path and query are decoded.
struct Url {
  std::string scheme;     ///< lower case, e.g. "file"
  std::string authority;  ///< e.g. the bucket; empty for file:///abs
  std::string path;       ///< decoded, e.g. "/abs/dir"
  /// The parameters, decoded, in order.
  std::vector<std::pair<std::string, std::string>> query;

  /// Errors: kInvalidArgument for a URL without "scheme://" or with a bad
  /// percent-escape.
  static Result<Url> Parse(std::string_view text);

  /// The value of query parameter `name`, if present (the last one wins).
  std::optional<std::string> Param(std::string_view name) const;
};

/// Percent-encodes every byte except A-Z a-z 0-9 - _ . ~ and those in
/// `keep` (e.g. "/").
std::string PercentEncode(std::string_view text, std::string_view keep = "");

/// Opens the store a URL names. Errors: kInvalidArgument for an unknown
/// scheme or a bad parameter; the store's own errors when opening.
Result<std::unique_ptr<Backend>> OpenBackend(std::string_view url);

}  // namespace backends

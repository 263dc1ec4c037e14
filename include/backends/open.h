#pragma once

// Opening stores from URLs.
//
//   memory://                         a new VolatileBackend
//   file:///abs/dir, file://rel/dir   a FileBackend rooted there
//   s3://bucket/prefix?region=..&endpoint=http://127.0.0.1:PORT&path_style=1
//   sqlite:///abs/file.db?table=NAME, sqlite://rel/file.db   (sqlite.h)
//   redis://[user@]host[:port][/db][?prefix=P], rediss://... (TLS)  (redis.h)
//
// Layer parameters, on every scheme (OpenStore reads them; docs/cli.md):
//   format=raw|text|json   how values are checked (views, view.h)
//   cache=json|text        the original's JsonCache / TextCache layer
//   timeout=N              the cache's default lifetime in seconds (300)
//   max_entries=N, max_bytes=N   the cache's CacheLimits (not on Redis)
//   decoded_bytes=N        cache=json: ExpiryOptions::decoded_bytes
//   indent=N, ensure_ascii=0|1   format=json or cache=json: the JsonFormat
//                          values are written in (the original's: 4, 1)
//   front=URL              a read-through layer (cache.h) with the store
//                          at URL (percent-encoded) in front of this one;
//                          with it: max_age=N (seconds), serve_stale=1,
//                          front_max_entries=N, front_max_bytes=N
//                          (ReadThroughOptions)
//
//   file:///var/cache/app?cache=json&timeout=60
//   s3://bucket/data?front=file%3A%2F%2F%2Fvar%2Fcache%2Fdata&max_age=600
//
// url() of every store, cache layer and view gives a URL that OpenStore
// reopens as the same store, layers and format. URLs never carry secrets:
// credentials come from the standard places.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/cache.h"
#include "backends/json.h"
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

/// `text` with the password of a user:password@ authority replaced by
/// "***": how a URL may appear in an error or on screen.
std::string RedactUrl(std::string_view text);

/// `url` with `name=value` appended to its query (value percent-encoded).
std::string AddUrlParam(std::string_view url, std::string_view name,
                        std::string_view value);

/// `url` with indent= and ensure_ascii= for what `format` sets otherwise
/// than the original's format (nothing for the default).
std::string AddJsonFormatParams(std::string_view url,
                                const JsonFormat& format);

/// How a store's values are checked (format=): any bytes, UTF-8 text, JSON
/// (written in the original's format).
enum class ValueFormat { kRaw, kText, kJson };
/// The original's cache layer over the store (cache=).
enum class CacheKind { kNone, kJson, kText };

/// A URL split into the store's URL and its layer parameters.
struct StoreUrl {
  /// The URL for the scheme's store: the layer parameters removed (and, for
  /// format=json on s3://, content_type=application/json added).
  std::string store_url;
  ValueFormat format = ValueFormat::kRaw;  ///< format=raw|text|json
  CacheKind cache = CacheKind::kNone;      ///< cache=json|text
  std::chrono::seconds timeout{300};       ///< timeout=N: the cache's expiry
  bool timeout_given = false;              ///< whether timeout= was written
  CacheLimits limits;  ///< max_entries=N, max_bytes=N (with cache=)
  /// decoded_bytes=N (with cache=json)
  std::uint64_t decoded_bytes = kDefaultDecodedBytes;
  JsonFormat json_format;  ///< indent=N, ensure_ascii=0|1 (JSON values)
  /// front= and its settings: a read-through layer over the store.
  struct ReadThrough {
    std::string front_url;  ///< front=, decoded: the store in front
    /// max_age=N; none: a front copy stays fresh until the front drops it.
    std::optional<std::chrono::seconds> max_age;
    bool serve_stale = false;       ///< serve_stale=1
    /// front_max_entries=N, front_max_bytes=N: the copies' CacheLimits
    CacheLimits limits;
  };
  /// Set when the URL has front=.
  std::optional<ReadThrough> read_through;

  /// cache=json implies format=json and cache=text format=text; format=raw
  /// with a cache is refused. Errors: kInvalidArgument for a URL that does
  /// not parse, an unknown format or cache, a bad number, or a setting
  /// without its layer (timeout= without cache=, indent= without JSON
  /// values, ...) (messages never show a password).
  static Result<StoreUrl> Parse(std::string_view url);
};

/// A store opened from a URL: the byte store with its cache layer, and the
/// format its values are checked against. Wrap `backend` in the view of
/// `format` (view.h) for typed values, e.g. JsonBackend(std::move(backend)).
struct OpenedStore {
  std::unique_ptr<Backend> backend;        ///< the store, with its cache layer
  ValueFormat format = ValueFormat::kRaw;  ///< what its values are checked as
  CacheKind cache = CacheKind::kNone;      ///< the cache layer, if any
  JsonFormat json_format;  ///< how a JSON view writes (indent=, ensure_ascii=)
};

/// Opens the store and layers a URL names (OpenStore(StoreUrl::Parse(url))).
/// Errors: StoreUrl::Parse's; kInvalidArgument for an unknown scheme or
/// parameter (naming it); the store's own errors when opening.
Result<OpenedStore> OpenStore(std::string_view url);
/// The same, from a URL already parsed.
Result<OpenedStore> OpenStore(const StoreUrl& url);

/// OpenStore's byte store (its cache layer included; format= is checked
/// but the values are not: use OpenStore for that).
Result<std::unique_ptr<Backend>> OpenBackend(std::string_view url);

}  // namespace backends

// The scheme table: one row per store family. S3 (and later stores with
// dependencies) sit behind their BACKENDS_WITH_<NAME> switch.

#include "backends/open.h"

#include <algorithm>
#include <charconv>

#include "backends/cache.h"
#include "backends/file.h"
#include "backends/memory.h"
#if BACKENDS_WITH_S3
#include "s3/s3_url.h"
#endif
#if BACKENDS_WITH_SQLITE
#include "backends/sqlite.h"
#include "backends/sqlite_cache.h"
#endif
#if BACKENDS_WITH_REDIS
#include "backends/redis.h"
#endif

namespace backends {
namespace {

Status CheckParams(const Url& url,
                   std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : url.query) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return InvalidArgumentError("URL " + url.scheme +
                                  "://...: unknown parameter \"" + name + "\"");
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<Backend>> OpenMemory(const Url& url) {
  BACKENDS_RETURN_IF_ERROR(CheckParams(url, {}));
  if (!url.authority.empty() || (!url.path.empty() && url.path != "/")) {
    return InvalidArgumentError("memory:// takes no name or path");
  }
  return std::unique_ptr<Backend>(std::make_unique<VolatileBackend>());
}

Result<std::unique_ptr<Backend>> OpenFile(const Url& url) {
  BACKENDS_RETURN_IF_ERROR(CheckParams(url, {"durable"}));
  // file:///abs/dir and file://localhost/abs/dir are absolute;
  // file://rel/dir is relative to the working folder.
  std::string root;
  if (url.authority.empty() || url.authority == "localhost") {
    root = url.path;
  } else {
    root = url.authority + url.path;
  }
  if (root.empty()) return InvalidArgumentError("file:// needs a folder");
  FileOptions options;
  if (auto durable = url.Param("durable")) {
    options.durable = *durable == "1" || *durable == "true";
  }
  BACKENDS_ASSIGN_OR_RETURN(auto store, FileBackend::Open(root, options));
  return std::unique_ptr<Backend>(std::move(store));
}

#if BACKENDS_WITH_SQLITE
Result<std::unique_ptr<Backend>> OpenSqlite(const Url& url) {
  BACKENDS_RETURN_IF_ERROR(CheckParams(url, {"table", "durable"}));
  // sqlite:///abs/file.db is absolute; sqlite://rel/file.db is relative.
  std::string path = url.authority.empty() || url.authority == "localhost"
                         ? url.path
                         : url.authority + url.path;
  if (path.empty()) return InvalidArgumentError("sqlite:// needs a file");
  SqliteOptions options;
  if (auto table = url.Param("table")) options.table = *table;
  if (auto durable = url.Param("durable")) {
    options.durable = *durable == "1" || *durable == "true";
  }
  BACKENDS_ASSIGN_OR_RETURN(auto store,
                            NewSqliteBackend(path, std::move(options)));
  return std::unique_ptr<Backend>(std::move(store));
}
#endif

// The read-through layer's parameters (front= and its settings).
constexpr std::string_view kReadThroughParams[] = {
    "front", "max_age", "serve_stale", "front_max_entries", "front_max_bytes"};
// The cache layer's settings (with cache=) and the JSON format's.
constexpr std::string_view kCacheParams[] = {"timeout", "max_entries",
                                             "max_bytes", "decoded_bytes"};
constexpr std::string_view kJsonFormatParams[] = {"indent", "ensure_ascii"};

bool IsLayerParam(std::string_view name) {
  auto in = [name](const auto& names) {
    return std::ranges::find(names, name) != std::end(names);
  };
  return name == "format" || name == "cache" || in(kCacheParams) ||
         in(kJsonFormatParams) || in(kReadThroughParams);
}

// Removes the layer parameters from the query of `url`, keeping every
// other parameter byte for byte (still percent-encoded) and in order.
std::string StripLayerParams(std::string_view url) {
  std::size_t question = url.find('?');
  if (question == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, question));
  std::string_view query = url.substr(question + 1);
  char separator = '?';
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view()
                                          : query.substr(amp + 1);
    std::string_view name = part.substr(0, part.find('='));
    if (part.empty() || IsLayerParam(name)) continue;
    out += separator;
    out += part;
    separator = '&';
  }
  return out;
}

Result<ValueFormat> ParseFormat(const std::string& format) {
  if (format == "raw") return ValueFormat::kRaw;
  if (format == "text") return ValueFormat::kText;
  if (format == "json") return ValueFormat::kJson;
  return InvalidArgumentError("unknown format \"" + format +
                              "\" (known: raw, text, json)");
}

Result<CacheKind> ParseCache(const std::string& cache) {
  if (cache == "json") return CacheKind::kJson;
  if (cache == "text") return CacheKind::kText;
  return InvalidArgumentError("unknown cache \"" + cache +
                              "\" (known: json, text)");
}

Result<std::chrono::seconds> ParseTimeout(const std::string& timeout) {
  long long seconds = -1;
  const char* end = timeout.data() + timeout.size();
  auto [ptr, ec] = std::from_chars(timeout.data(), end, seconds);
  if (ec != std::errc() || ptr != end || seconds < 0) {
    return InvalidArgumentError("timeout \"" + timeout +
                                "\" is not a number of seconds >= 0");
  }
  return std::chrono::seconds(seconds);
}

Result<std::uint64_t> ParseCount(std::string_view name,
                                 const std::string& text) {
  std::uint64_t count = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, count);
  if (ec != std::errc() || ptr != end) {
    return InvalidArgumentError(std::string(name) + " \"" + text +
                                "\" is not a whole number >= 0");
  }
  return count;
}

Result<CacheLimits> ParseLimits(const Url& url, std::string_view entries_name,
                                std::string_view bytes_name) {
  CacheLimits limits;
  if (auto entries = url.Param(entries_name)) {
    BACKENDS_ASSIGN_OR_RETURN(limits.max_entries,
                              ParseCount(entries_name, *entries));
  }
  if (auto bytes = url.Param(bytes_name)) {
    BACKENDS_ASSIGN_OR_RETURN(limits.max_bytes, ParseCount(bytes_name, *bytes));
  }
  return limits;
}

Result<std::optional<StoreUrl::ReadThrough>> ParseReadThrough(const Url& url) {
  auto front = url.Param("front");
  if (!front) {
    for (std::string_view name : kReadThroughParams) {
      if (url.Param(name)) {
        return InvalidArgumentError(std::string(name) +
                                    "= needs front=URL (a read-through layer)");
      }
    }
    return std::optional<StoreUrl::ReadThrough>();
  }
  StoreUrl::ReadThrough layer{.front_url = *front};
  if (auto max_age = url.Param("max_age")) {
    BACKENDS_ASSIGN_OR_RETURN(auto seconds, ParseCount("max_age", *max_age));
    layer.max_age = std::chrono::seconds(seconds);
  }
  if (auto stale = url.Param("serve_stale")) {
    if (*stale != "0" && *stale != "1") {
      return InvalidArgumentError("serve_stale \"" + *stale +
                                  "\" is not 0 or 1");
    }
    layer.serve_stale = *stale == "1";
  }
  BACKENDS_ASSIGN_OR_RETURN(
      layer.limits, ParseLimits(url, "front_max_entries", "front_max_bytes"));
  return std::optional<StoreUrl::ReadThrough>(std::move(layer));
}

// The cache layer's settings (with cache=).
Status ParseCacheSettings(const Url& url, StoreUrl& spec) {
  if (spec.cache == CacheKind::kNone) {
    for (std::string_view name : kCacheParams) {
      if (url.Param(name)) {
        return InvalidArgumentError(std::string(name) +
                                    "= needs cache=json or cache=text");
      }
    }
    return Status::OK();
  }
  if (auto timeout = url.Param("timeout")) {
    BACKENDS_ASSIGN_OR_RETURN(spec.timeout, ParseTimeout(*timeout));
    spec.timeout_given = true;
  }
  BACKENDS_ASSIGN_OR_RETURN(spec.limits,
                            ParseLimits(url, "max_entries", "max_bytes"));
  if (auto bytes = url.Param("decoded_bytes")) {
    if (spec.cache != CacheKind::kJson) {
      return InvalidArgumentError("decoded_bytes= needs cache=json");
    }
    BACKENDS_ASSIGN_OR_RETURN(spec.decoded_bytes,
                              ParseCount("decoded_bytes", *bytes));
  }
  if (url.scheme.starts_with("redis") &&
      (url.Param("max_entries") || url.Param("max_bytes") ||
       url.Param("decoded_bytes"))) {
    return InvalidArgumentError(
        "max_entries=, max_bytes= and decoded_bytes= do not apply to a Redis "
        "cache (the server's maxmemory policy bounds it)");
  }
  return Status::OK();
}

// indent= and ensure_ascii=, for JSON values only.
Status ParseJsonFormat(const Url& url, StoreUrl& spec) {
  for (std::string_view name : kJsonFormatParams) {
    if (url.Param(name) && spec.format != ValueFormat::kJson) {
      return InvalidArgumentError(std::string(name) +
                                  "= needs JSON values (format=json or "
                                  "cache=json)");
    }
  }
  if (auto indent = url.Param("indent")) {
    int spaces = 0;
    const char* end = indent->data() + indent->size();
    auto [ptr, ec] = std::from_chars(indent->data(), end, spaces);
    if (ec != std::errc() || ptr != end || spaces > 64) {
      return InvalidArgumentError("indent \"" + *indent +
                                  "\" is not a number of spaces up to 64 "
                                  "(negative: compact)");
    }
    spec.json_format.indent = spaces;
  }
  if (auto ascii = url.Param("ensure_ascii")) {
    if (*ascii != "0" && *ascii != "1") {
      return InvalidArgumentError("ensure_ascii \"" + *ascii +
                                  "\" is not 0 or 1");
    }
    spec.json_format.ensure_ascii = *ascii == "1";
  }
  return Status::OK();
}

// The scheme's store, no layers.
Result<std::unique_ptr<Backend>> OpenScheme(std::string_view text) {
#if BACKENDS_WITH_REDIS
  // Before Url::Parse: a redis URL may hold a password, which no error
  // message may repeat (ParseRedisUrl never does).
  if (text.starts_with("redis://") || text.starts_with("rediss://") ||
      text.starts_with("redis+unix://")) {
    BACKENDS_ASSIGN_OR_RETURN(auto options, ParseRedisUrl(text));
    BACKENDS_ASSIGN_OR_RETURN(auto store, NewRedisBackend(std::move(options)));
    return std::unique_ptr<Backend>(std::move(store));
  }
#endif
  BACKENDS_ASSIGN_OR_RETURN(Url url, Url::Parse(text));
  if (url.scheme == "memory") return OpenMemory(url);
  if (url.scheme == "file") return OpenFile(url);
#if BACKENDS_WITH_S3
  if (url.scheme == "s3") return s3::OpenS3Url(url);
#endif
#if BACKENDS_WITH_SQLITE
  if (url.scheme == "sqlite") return OpenSqlite(url);
#endif
  return InvalidArgumentError("URL \"" + RedactUrl(text) +
                              "\": unknown scheme \"" + url.scheme +
                              "\" (known: memory, file, s3, sqlite, redis)");
}

// The cache layer url.cache over `store`: on SQLite and Redis the store's
// own cache (expiry in the row / left to Redis), else the byte layers.
Result<std::unique_ptr<Backend>> AddCache(std::unique_ptr<Backend> store,
                                          const StoreUrl& url) {
  const CacheKind kind = url.cache;
  ExpiryOptions expiry{.timeout = url.timeout,
                       .limits = url.limits,
                       .format = url.json_format,
                       .decoded_bytes = url.decoded_bytes};
#if BACKENDS_WITH_SQLITE
  if (dynamic_cast<SqliteBackend*>(store.get()) != nullptr) {
    std::unique_ptr<SqliteBackend> table(
        static_cast<SqliteBackend*>(store.release()));
    if (kind == CacheKind::kJson) {
      BACKENDS_ASSIGN_OR_RETURN(
          auto cache, NewSqliteJsonCacheBackend(std::move(table), expiry));
      return std::unique_ptr<Backend>(std::move(cache));
    }
    BACKENDS_ASSIGN_OR_RETURN(
        auto cache, NewSqliteTextCacheBackend(std::move(table), expiry));
    return std::unique_ptr<Backend>(std::move(cache));
  }
#endif
#if BACKENDS_WITH_REDIS
  if (dynamic_cast<RedisBackend*>(store.get()) != nullptr) {
    std::unique_ptr<RedisBackend> redis(
        static_cast<RedisBackend*>(store.release()));
    if (kind == CacheKind::kJson) {
      BACKENDS_ASSIGN_OR_RETURN(auto cache,
                                NewRedisJsonCache(std::move(redis), expiry));
      return std::unique_ptr<Backend>(std::move(cache));
    }
    BACKENDS_ASSIGN_OR_RETURN(auto cache,
                              NewRedisTextCache(std::move(redis), expiry));
    return std::unique_ptr<Backend>(std::move(cache));
  }
#endif
  if (kind == CacheKind::kJson) {
    BACKENDS_ASSIGN_OR_RETURN(auto cache,
                              NewJsonEnvelopeBackend(std::move(store), expiry));
    return std::unique_ptr<Backend>(std::move(cache));
  }
  // A memory store keeps no modification times: the layer records them.
  expiry.track_write_times =
      dynamic_cast<VolatileBackend*>(store.get()) != nullptr;
  BACKENDS_ASSIGN_OR_RETURN(
      auto cache, NewModifiedTimeBackend(std::move(store), std::move(expiry)));
  return std::unique_ptr<Backend>(std::move(cache));
}

}  // namespace

Result<StoreUrl> StoreUrl::Parse(std::string_view text) {
  BACKENDS_ASSIGN_OR_RETURN(Url url, Url::Parse(text));
  StoreUrl spec;
  spec.store_url = StripLayerParams(text);
  if (auto format = url.Param("format")) {
    BACKENDS_ASSIGN_OR_RETURN(spec.format, ParseFormat(*format));
  }
  if (auto cache = url.Param("cache")) {
    BACKENDS_ASSIGN_OR_RETURN(spec.cache, ParseCache(*cache));
    const ValueFormat kind = spec.cache == CacheKind::kJson
                                 ? ValueFormat::kJson
                                 : ValueFormat::kText;
    if (!url.Param("format")) {
      spec.format = kind;
    } else if (spec.format == ValueFormat::kRaw) {
      return InvalidArgumentError(
          std::string("format=raw does not fit cache=") +
          (kind == ValueFormat::kJson ? "json (JSON values)"
                                      : "text (UTF-8 text)"));
    }
  }
  if (spec.format == ValueFormat::kJson && url.scheme == "s3" &&
      !url.Param("content_type")) {
    // A JSON store's objects are JSON whatever their key's extension.
    spec.store_url =
        AddUrlParam(spec.store_url, "content_type", "application/json");
  }
  BACKENDS_RETURN_IF_ERROR(ParseCacheSettings(url, spec));
  BACKENDS_RETURN_IF_ERROR(ParseJsonFormat(url, spec));
  BACKENDS_ASSIGN_OR_RETURN(spec.read_through, ParseReadThrough(url));
  return spec;
}

Result<OpenedStore> OpenStore(const StoreUrl& url) {
  OpenedStore opened{.format = url.format,
                     .cache = url.cache,
                     .json_format = url.json_format};
  BACKENDS_ASSIGN_OR_RETURN(opened.backend, OpenScheme(url.store_url));
  if (url.cache != CacheKind::kNone) {
    BACKENDS_ASSIGN_OR_RETURN(opened.backend,
                              AddCache(std::move(opened.backend), url));
  }
  if (url.read_through) {
    const StoreUrl::ReadThrough& layer = *url.read_through;
    BACKENDS_ASSIGN_OR_RETURN(OpenedStore front, OpenStore(layer.front_url));
    ReadThroughOptions options{.limits = layer.limits,
                               .serve_stale = layer.serve_stale};
    if (layer.max_age) options.max_age = *layer.max_age;
    BACKENDS_ASSIGN_OR_RETURN(
        auto read_through,
        NewReadThroughBackend(std::move(front.backend),
                              std::move(opened.backend), std::move(options)));
    opened.backend = std::move(read_through);
  }
  return opened;
}

Result<OpenedStore> OpenStore(std::string_view url) {
  BACKENDS_ASSIGN_OR_RETURN(StoreUrl parsed, StoreUrl::Parse(url));
  return OpenStore(parsed);
}

Result<std::unique_ptr<Backend>> OpenBackend(std::string_view url) {
  BACKENDS_ASSIGN_OR_RETURN(OpenedStore opened, OpenStore(url));
  return std::move(opened.backend);
}

}  // namespace backends

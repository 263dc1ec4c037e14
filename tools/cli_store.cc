#include "cli_store.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <utility>
#include <vector>

#include "backends/file.h"
#include "backends/json.h"
#include "backends/memory.h"
#include "backends/open.h"
#if BACKENDS_WITH_SQLITE
#include "backends/sqlite_cache.h"
#endif
#if BACKENDS_WITH_REDIS
#include "backends/redis.h"
#endif

namespace backends::cli {
namespace {

bool IsToolParam(std::string_view name) {
  return name == "format" || name == "cache" || name == "timeout";
}

// Removes the tool's parameters from the query of `url`, keeping every
// other parameter byte for byte (still percent-encoded) and in order.
std::string StripToolParams(std::string_view url) {
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
    if (part.empty() || IsToolParam(name)) continue;
    out += separator;
    out += part;
    separator = '&';
  }
  return out;
}

bool HasScheme(std::string_view text) {
  std::size_t colon = text.find("://");
  if (colon == 0 || colon == std::string_view::npos) return false;
  return std::all_of(text.begin(), text.begin() + colon, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' ||
           c == '-' || c == '.';
  });
}

// A local path as a file:// URL whose path decodes back to it byte for
// byte. A relative path that does not start with "." or ".." is put under
// "./": the URL's first segment (its authority) is not percent-decoded.
std::string FileUrlOf(std::string_view path) {
  const bool dotted = path == "." || path == ".." || path.starts_with("./") ||
                      path.starts_with("../");
  const std::string scheme =
      path.starts_with('/') || dotted ? "file://" : "file://./";
  return scheme + PercentEncode(path, "/");
}

// The folder of a file:// URL, as OpenBackend reads it.
std::string FolderOf(const Url& url) {
  if (url.authority.empty() || url.authority == "localhost") return url.path;
  return url.authority + url.path;
}

}  // namespace

Result<StoreSpec> StoreSpec::Parse(std::string_view argument) {
  const std::string text =
      HasScheme(argument) ? std::string(argument) : FileUrlOf(argument);
  BACKENDS_ASSIGN_OR_RETURN(Url url, Url::Parse(text));
  StoreSpec spec;
  spec.store_url = StripToolParams(text);
  if (auto format = url.Param("format")) {
    if (*format == "raw") {
      spec.format = ValueFormat::kRaw;
    } else if (*format == "text") {
      spec.format = ValueFormat::kText;
    } else if (*format == "json") {
      spec.format = ValueFormat::kJson;
    } else {
      return InvalidArgumentError("unknown format \"" + *format +
                                  "\" (known: raw, text, json)");
    }
  }
  if (auto cache = url.Param("cache")) {
    if (*cache == "json") {
      spec.cache = CacheKind::kJson;
    } else if (*cache == "text") {
      spec.cache = CacheKind::kText;
    } else {
      return InvalidArgumentError("unknown cache \"" + *cache +
                                  "\" (known: json, text)");
    }
  }
  if (spec.cache != CacheKind::kNone) {
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
    spec.store_url += spec.store_url.find('?') == std::string::npos ? '?' : '&';
    spec.store_url += "content_type=application%2Fjson";
  }
  if (auto timeout = url.Param("timeout")) {
    if (spec.cache == CacheKind::kNone) {
      return InvalidArgumentError("timeout= needs cache=json or cache=text");
    }
    long long seconds = -1;
    const char* end = timeout->data() + timeout->size();
    auto [ptr, ec] = std::from_chars(timeout->data(), end, seconds);
    if (ec != std::errc() || ptr != end || seconds < 0) {
      return InvalidArgumentError("timeout \"" + *timeout +
                                  "\" is not a number of seconds >= 0");
    }
    spec.timeout = std::chrono::seconds(seconds);
    spec.timeout_given = true;
  }
  return spec;
}

bool StoreSpec::FolderMissing() const {
  if (!store_url.starts_with("file:")) return false;
  auto url = Url::Parse(store_url);
  if (!url.ok()) return false;
  const std::string folder = FolderOf(*url);
  std::error_code error;
  // Normalised as FileBackend::Open does: "sub/../up" is "up".
  const auto normal = std::filesystem::path(folder).lexically_normal();
  return !folder.empty() && !std::filesystem::exists(normal, error);
}

Result<std::unique_ptr<Store>> Store::Open(const StoreSpec& spec,
                                           OpenMode mode) {
  if (mode == OpenMode::kExisting && spec.FolderMissing()) {
    BACKENDS_ASSIGN_OR_RETURN(Url url, Url::Parse(spec.store_url));
    return NotFoundError("no such folder " + QuoteKey(FolderOf(url)) +
                         " (nothing was created)");
  }
  if (mode == OpenMode::kExisting && spec.store_url.starts_with("sqlite:")) {
    BACKENDS_ASSIGN_OR_RETURN(Url url, Url::Parse(spec.store_url));
    const std::string file = FolderOf(url);
    std::error_code error;
    if (!file.empty() && !std::filesystem::exists(file, error)) {
      return NotFoundError("no such database file " + QuoteKey(file) +
                           " (nothing was created)");
    }
  }
  BACKENDS_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend,
                            OpenBackend(spec.store_url));
#if BACKENDS_WITH_SQLITE
  // A cache on SQLite keeps each entry's expiry in a column of its row.
  if (spec.cache != CacheKind::kNone &&
      dynamic_cast<SqliteBackend*>(backend.get()) != nullptr) {
    std::unique_ptr<SqliteBackend> table(
        static_cast<SqliteBackend*>(backend.release()));
    const ExpiryOptions expiry{.timeout = spec.timeout};
    if (spec.cache == CacheKind::kJson) {
      BACKENDS_ASSIGN_OR_RETURN(backend,
                                NewSqliteJsonCacheBackend(std::move(table), expiry));
    } else {
      BACKENDS_ASSIGN_OR_RETURN(backend,
                                NewSqliteTextCacheBackend(std::move(table), expiry));
    }
    return std::make_unique<Store>(spec, std::move(backend));
  }
#endif
#if BACKENDS_WITH_REDIS
  // On Redis the caches leave the expiry to Redis (SET ... PX).
  if (dynamic_cast<RedisBackend*>(backend.get()) != nullptr &&
      spec.cache != CacheKind::kNone) {
    std::unique_ptr<RedisBackend> store(
        static_cast<RedisBackend*>(backend.release()));
    Result<std::unique_ptr<ExpiringBackend>> cache =
        spec.cache == CacheKind::kJson
            ? Result<std::unique_ptr<ExpiringBackend>>(
                  NewRedisJsonCache(std::move(store), {.timeout = spec.timeout}))
            : NewRedisTextCache(std::move(store), {.timeout = spec.timeout});
    BACKENDS_RETURN_IF_ERROR(cache.status());
    return std::make_unique<Store>(spec, std::move(cache).value());
  }
#endif
  if (spec.cache == CacheKind::kJson) {
    BACKENDS_ASSIGN_OR_RETURN(
        auto cache,
        NewJsonEnvelopeBackend(std::move(backend), {.timeout = spec.timeout}));
    backend = std::move(cache);
  } else if (spec.cache == CacheKind::kText) {
    // A memory store keeps no modification times: the layer records them.
    bool track = dynamic_cast<VolatileBackend*>(backend.get()) != nullptr;
    BACKENDS_ASSIGN_OR_RETURN(
        auto cache, NewModifiedTimeBackend(
                        std::move(backend),
                        {.timeout = spec.timeout, .track_write_times = track}));
    backend = std::move(cache);
  }
  return std::make_unique<Store>(spec, std::move(backend));
}

Backend& Store::base() const {
  Backend* backend = backend_.get();
  while (auto* wrapper = dynamic_cast<BackendWrapper*>(backend)) {
    backend = &wrapper->inner();
  }
  return *backend;
}

Result<std::string> StoreSpec::ToStored(std::string_view key,
                                        std::string bytes) const {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
  if (store_url.starts_with("file:")) {
    BACKENDS_RETURN_IF_ERROR(ValidateFileKey("dump", key));
  }
  switch (format) {
    case ValueFormat::kRaw:
      return bytes;
    case ValueFormat::kText:
      return TextCodec{}.Encode(key, bytes);
    case ValueFormat::kJson: {
      auto json = ParseJson(bytes);
      if (!json.ok()) {
        return InvalidArgumentError(
            "dump " + QuoteKey(key) +
            ": value is not valid JSON: " + json.status().message());
      }
      return JsonCodec{}.Encode(key, *json);
    }
  }
  return InternalError("unknown value format");
}

Result<std::string> Store::FromStored(std::string_view key,
                                      std::string bytes) const {
  switch (spec_.format) {
    case ValueFormat::kRaw:
      return bytes;
    case ValueFormat::kText:
      return TextCodec{}.Decode(key, std::move(bytes));
    case ValueFormat::kJson: {
      JsonCodec codec;
      BACKENDS_ASSIGN_OR_RETURN(Json json, codec.Decode(key, std::move(bytes)));
      return codec.Encode(key, json);
    }
  }
  return InternalError("unknown value format");
}

}  // namespace backends::cli

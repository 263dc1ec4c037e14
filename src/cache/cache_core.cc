#include "cache/cache_core.h"

#include <algorithm>
#include <optional>
#include <string>

#include "backends/open.h"

namespace backends::cache_internal {

CacheStats Counters::Snapshot() const {
  return CacheStats{.hits = hits.load(),
                    .misses = misses.load(),
                    .expirations = expirations.load(),
                    .evictions = evictions.load(),
                    .stale_served = stale_served.load(),
                    .decoded_hits = decoded_hits.load(),
                    .front_refusals = front_refusals.load()};
}

std::vector<LruIndex::Victim> LruIndex::Admit(std::string_view key,
                                              std::uint64_t size) {
  std::vector<Victim> victims;
  if (!limited()) return victims;
  std::scoped_lock lock(mutex_);
  order_.Insert(key, {}, size);
  auto over = [&] {
    return (limits_.max_entries != 0 && order_.count() > limits_.max_entries) ||
           (limits_.max_bytes != 0 && order_.bytes() > limits_.max_bytes);
  };
  while (order_.count() > 1 && over()) {
    auto victim = order_.PopOldest();
    victims.push_back(Victim{std::move(victim.key), victim.size});
  }
  return victims;
}

void LruIndex::Touch(std::string_view key, std::uint64_t size) {
  if (!limited()) return;
  std::scoped_lock lock(mutex_);
  if (order_.Use(key) == nullptr) order_.Insert(key, {}, size);
}

void LruIndex::Restore(Victim victim) {
  std::scoped_lock lock(mutex_);
  if (order_.contains(victim.key)) return;  // Rewritten meanwhile.
  order_.Insert(victim.key, {}, victim.size, /*newest=*/false);
}

void LruIndex::Forget(std::string_view key) {
  if (!limited()) return;
  std::scoped_lock lock(mutex_);
  order_.Erase(key);
}

void LruIndex::Clear() {
  std::scoped_lock lock(mutex_);
  order_.Clear();
}

Status LruIndex::Seed(Backend& store) {
  if (!limited()) return Status::OK();
  BACKENDS_ASSIGN_OR_RETURN(auto keys, store.keys());
  struct Found {
    std::string key;
    std::uint64_t size;
    std::chrono::system_clock::time_point modified;
  };
  std::vector<Found> found;
  for (auto& key : keys) {
    BACKENDS_ASSIGN_OR_RETURN(auto info, store.stat(key));
    if (!info) continue;  // Removed meanwhile.
    found.push_back(Found{
        std::move(key), info->size,
        info->modified.value_or(std::chrono::system_clock::time_point{})});
  }
  std::stable_sort(
      found.begin(), found.end(),
      [](const Found& a, const Found& b) { return a.modified < b.modified; });
  std::scoped_lock lock(mutex_);
  for (const auto& entry : found) order_.Insert(entry.key, {}, entry.size);
  return Status::OK();
}

void Evict(Backend& store, LruIndex& index, Counters& counters,
           std::vector<LruIndex::Victim> victims) {
  for (auto& victim : victims) {
    auto removed = store.remove(victim.key);
    if (removed.ok()) {
      if (*removed) ++counters.evictions;
    } else {
      index.Restore(std::move(victim));
    }
  }
}

}  // namespace backends::cache_internal

namespace backends::cache_internal {

Result<Json> ParseJsonValue(std::string_view operation, std::string_view key,
                            std::string_view value) {
  auto parsed = ParseJson(value);
  if (!parsed.ok()) {
    return InvalidArgumentError(std::string(operation) + " " + QuoteKey(key) +
                                ": value is not JSON: " +
                                parsed.status().message());
  }
  return parsed;
}

Result<std::string> ReformatJsonValue(std::string_view operation,
                                      std::string_view key,
                                      std::string_view value,
                                      const JsonFormat& format) {
  BACKENDS_ASSIGN_OR_RETURN(Json parsed, ParseJsonValue(operation, key, value));
  auto text = DumpJson(parsed, format);
  if (!text.ok()) {
    return InvalidArgumentError(std::string(operation) + " " + QuoteKey(key) +
                                ": " + text.status().message());
  }
  return text;
}

}  // namespace backends::cache_internal

namespace backends {
namespace {

// The inner store's URL with the layer's settings that differ from
// OpenStore's defaults (open.h).
std::string CacheUrl(const Backend& inner, std::string_view kind,
                     const ExpiryOptions& settings) {
  std::string url = AddUrlParam(AddUrlParam(inner.url(), "cache", kind),
                                "timeout",
                                std::to_string(settings.timeout.count()));
  auto add = [&url](std::string_view name, std::uint64_t value) {
    url = AddUrlParam(url, name, std::to_string(value));
  };
  if (settings.limits.max_entries != 0) {
    add("max_entries", settings.limits.max_entries);
  }
  if (settings.limits.max_bytes != 0) add("max_bytes", settings.limits.max_bytes);
  if (kind != "json") return url;
  if (settings.decoded_bytes != kDefaultDecodedBytes) {
    add("decoded_bytes", settings.decoded_bytes);
  }
  return AddJsonFormatParams(url, settings.format);
}

}  // namespace

std::string ExpiringBackend::url() const {
  return CacheUrl(inner(), "text", settings());
}

std::string JsonEnvelopeBackend::url() const {
  return CacheUrl(inner(), "json", settings());
}

}  // namespace backends

// JsonCache and TextCache: the original's classes, assembled from the
// expiring layers over a FileBackend (a folder) or a VolatileBackend.

#include <utility>

#include "backends/cache.h"
#include "backends/file.h"
#include "backends/memory.h"

namespace backends {
namespace {

ExpiryOptions ToExpiry(CacheOptions options, bool track_write_times) {
  return ExpiryOptions{.timeout = options.timeout,
                       .clock = std::move(options.clock),
                       .limits = options.limits,
                       .format = options.format,
                       .decoded_bytes = options.decoded_bytes,
                       .track_write_times = track_write_times};
}

}  // namespace

Result<JsonCache> JsonCache::Open(std::filesystem::path folder,
                                  CacheOptions options) {
  BACKENDS_ASSIGN_OR_RETURN(auto file,
                            FileBackend::Open(std::move(folder), options.file));
  JsonFormat format = options.format;
  BACKENDS_ASSIGN_OR_RETURN(
      auto envelope, NewJsonEnvelopeBackend(
                         std::move(file), ToExpiry(std::move(options), false)));
  return Over(std::move(envelope), format);
}

Result<JsonCache> JsonCache::InMemory(CacheOptions options) {
  JsonFormat format = options.format;
  BACKENDS_ASSIGN_OR_RETURN(
      auto envelope,
      NewJsonEnvelopeBackend(std::make_unique<VolatileBackend>(),
                             ToExpiry(std::move(options), false)));
  return Over(std::move(envelope), format);
}

JsonCache JsonCache::Over(std::unique_ptr<JsonEnvelopeBackend> envelope,
                          JsonFormat format) {
  JsonEnvelopeBackend* raw = envelope.get();
  return JsonCache(JsonBackend(std::move(envelope), JsonCodec{format}), raw);
}

TextCache TextCache::Over(std::unique_ptr<ExpiringBackend> expiring) {
  ExpiringBackend* raw = expiring.get();
  return TextCache(TextBackend(std::move(expiring)), raw);
}

Result<TextCache> TextCache::Open(std::filesystem::path folder,
                                  CacheOptions options) {
  BACKENDS_ASSIGN_OR_RETURN(auto file,
                            FileBackend::Open(std::move(folder), options.file));
  BACKENDS_ASSIGN_OR_RETURN(
      auto expiring, NewModifiedTimeBackend(
                         std::move(file), ToExpiry(std::move(options), false)));
  return Over(std::move(expiring));
}

Result<TextCache> TextCache::InMemory(CacheOptions options) {
  BACKENDS_ASSIGN_OR_RETURN(
      auto expiring,
      NewModifiedTimeBackend(std::make_unique<VolatileBackend>(),
                             ToExpiry(std::move(options), true)));
  return Over(std::move(expiring));
}

}  // namespace backends

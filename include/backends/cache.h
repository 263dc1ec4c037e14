#pragma once

// Caches: stores whose entries expire, and a read-through layer.
//
// Two byte-level layers (each is a Backend, wraps a Backend it owns, and
// passes the conformance suite):
//   * JsonEnvelopeBackend: values are JSON text; each is stored in the
//     original library's JsonCache envelope
//       {"content": <value>, "expiration": "YYYY-MM-DDTHH:MM:SS"}  (UTC)
//     written in the original's JSON format, so a folder written by the
//     Python original is read by us and the reverse.
//   * NewModifiedTimeBackend: values are stored unchanged; an entry expires
//     `timeout` after the store's modification time (the file's mtime).
// The original's classes sit on top as typed caches: JsonCache (JSON values,
// per-object timeouts) and TextCache (UTF-8 text, expiry by mtime).
//
// A third layer, ReadThroughBackend, puts a fast store (memory, a folder, or
// one of the caches: a byte layer, a JsonCache or a TextCache) in front of a
// slow one.
//
// Expiry. An entry is live while now < its expiration; expiration is the
// write time plus the timeout, rounded down to whole seconds in the envelope
// (the original's format has no fractions), so a timeout of 0 means "already
// expired" and a live entry lives at most `timeout`. Every access checks
// expiry against the injected Clock: load/contains/stat of an expired entry
// remove it and report it missing; list/keys/size/items and iteration show
// live entries only (expired ones they meet are removed). Nothing is kept in
// the process that could outlive an entry's expiry or survive clear().
//
// Decoded copies. A JsonCache in a folder keeps the entries it has read
// (up to ExpiryOptions::decoded_bytes) decoded in this process, and serves
// one again only after a stat shows its file unchanged since it was read
// (FileBackend::load_stamped): a write by any process, a clear(), a removal
// all change or remove the file, so the copy is never served after them,
// and its expiration is checked on every access like a file's. An entry
// written within the last moment (or, on a filesystem with whole-second
// times, the last two seconds) is read from its file until it settles.
//
// Limits. Without CacheLimits nothing is ever evicted. With a limit, the
// least recently used entries (by dump and successful load, in this
// process) are removed once a dump goes past it; the newest entry is always
// kept, even if alone it exceeds max_bytes. Entries already in a folder are
// indexed when the cache is opened, oldest modification first; entries
// other processes add later count once this process dumps or loads them.
//
// Thread and process safety: every class here is safe for concurrent use
// from many threads; a folder may be shared by many processes (the file
// store's atomic renames mean no entry is ever torn). A dump racing with the
// removal of the same key's expired entry may be lost (a later load misses);
// an expired or torn value is never returned.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/clock.h"
#include "backends/file.h"
#include "backends/json.h"
#include "backends/status.h"
#include "backends/view.h"

namespace backends {

/// The original's default timeout: 300 seconds.
inline constexpr std::chrono::seconds kDefaultTimeout{300};

/// A timeout that never expires. In the envelope it is written as
/// kNeverExpiresStamp, the latest time the original can parse, so the
/// original also keeps the entry forever.
inline constexpr std::chrono::seconds kNeverExpires =
    std::chrono::seconds::max();
/// The envelope's expiry time for kNeverExpires.
inline constexpr std::string_view kNeverExpiresStamp = "9999-12-31T23:59:59";

/// Optional bounds on what a cache holds. 0 means no bound (the default).
struct CacheLimits {
  /// Most entries kept.
  std::uint64_t max_entries = 0;
  /// Most bytes kept, counted as the stored size (the envelope included).
  std::uint64_t max_bytes = 0;
};

/// Counters since the cache was made; read with stats(). Never reset.
struct CacheStats {
  /// Loads answered with a live value from the cache.
  std::uint64_t hits = 0;
  /// Loads that found nothing live (absent or expired; for the read-through
  /// layer: every load that went to the back store).
  std::uint64_t misses = 0;
  /// Expired entries removed (by an access or prune()); for the read-through
  /// layer, front copies found older than max_age.
  std::uint64_t expirations = 0;
  /// Entries removed to stay within CacheLimits.
  std::uint64_t evictions = 0;
  /// Read-through only: stale front copies served because the back store
  /// was unavailable (ReadThroughOptions::serve_stale).
  std::uint64_t stale_served = 0;
  /// JsonCache in a folder: the hits (and other accesses) answered from a
  /// decoded copy after a stat, without reading the file (see the top of
  /// this file).
  std::uint64_t decoded_hits = 0;
  /// Read-through only: copies the front store refused to hold (its dump
  /// failed, e.g. a JSON front given bytes that are not JSON). Such a key
  /// is served by the back store on every load; the value is never lost.
  std::uint64_t front_refusals = 0;
};

/// Default bound on a JsonCache's decoded copies: 4 MiB of stored bytes
/// (about 14 MiB of memory for records like the benchmarks').
inline constexpr std::uint64_t kDefaultDecodedBytes = 4 << 20;

/// Options of the expiring layers (NewJsonEnvelopeBackend,
/// NewModifiedTimeBackend).
struct ExpiryOptions {
  /// Lifetime of an entry written without its own timeout. REQUIRES: >= 0.
  std::chrono::seconds timeout = kDefaultTimeout;
  /// Where now() comes from; null means DefaultClock().
  std::shared_ptr<Clock> clock;
  /// Bounds on the entries, with least-recently-used eviction.
  CacheLimits limits;
  /// Envelope only: how envelopes and loaded values are written.
  JsonFormat format;
  /// Envelope over a FileBackend only: the most stored bytes whose decoded
  /// copies are kept (see the top of this file); the copies take about 3.5
  /// times that in memory for the benchmarks' 1 KiB records (rss_probe
  /// decoded). 0 keeps none.
  std::uint64_t decoded_bytes = kDefaultDecodedBytes;
  /// Modified-time only: keep each entry's write time in this process
  /// instead of asking the store (for stores that keep no time, e.g.
  /// memory). When false, a store that reports no modification time makes
  /// loads fail with kFailedPrecondition.
  bool track_write_times = false;
};

/// A byte store layer whose entries expire (see the top of this file).
class ExpiringBackend : public BackendWrapper {
 public:
  /// Wraps `inner` (owned).
  using BackendWrapper::BackendWrapper;

  /// Removes every expired entry; returns how many. Entries that cannot be
  /// decoded (kDataLoss) are left in place and do not fail the call. Reads
  /// the store beneath in listing pages: memory stays bounded by one page.
  virtual Result<std::size_t> prune() = 0;

  /// A snapshot of the counters.
  virtual CacheStats stats() const = 0;

  /// The default timeout given at construction.
  virtual std::chrono::seconds timeout() const = 0;

  /// The options given at construction that a URL states (the timeout,
  /// limits, format, decoded_bytes; the clock is left out).
  virtual ExpiryOptions settings() const {
    ExpiryOptions options;
    options.timeout = timeout();
    return options;
  }

  /// The inner store's URL with cache=text&timeout=N and the limits
  /// (open.h).
  std::string url() const override;
};

/// The JsonCache envelope as a byte store: dump takes JSON text, load
/// returns the content written in ExpiryOptions::format.
/// Errors beyond the inner store's: dump of text that is not JSON, or of a
/// negative timeout, is kInvalidArgument (nothing written); a stored entry
/// that is not an envelope is kDataLoss and is never deleted.
class JsonEnvelopeBackend : public ExpiringBackend {
 public:
  using ExpiringBackend::dump;
  using ExpiringBackend::ExpiringBackend;

  /// Stores JSON text `value` expiring `timeout` from now (0: already
  /// expired; kNeverExpires: never).
  virtual Status dump(std::string_view key, std::string_view value,
                      std::chrono::seconds timeout) = 0;

  /// Typed forms of load and dump, without a round trip through text.
  virtual Result<std::optional<Json>> load_json(std::string_view key) = 0;
  /// load_json that shares the cache's decoded copy when it has one (no
  /// copy of the tree); null when absent or expired. The value is never
  /// changed while shared: a rewrite makes a new one.
  virtual Result<std::shared_ptr<const Json>> load_json_shared(
      std::string_view key) = 0;
  /// dump of a JSON value, without a round trip through text.
  virtual Status dump_json(std::string_view key, const Json& value,
                           std::chrono::seconds timeout) = 0;

  /// The inner store's URL with cache=json&timeout=N, the limits,
  /// decoded_bytes and the JSON format (open.h).
  std::string url() const override;
};

/// Wraps `inner` in the envelope layer. Errors: kInvalidArgument for a
/// negative timeout; the inner store's errors while indexing it for limits.
Result<std::unique_ptr<JsonEnvelopeBackend>> NewJsonEnvelopeBackend(
    std::unique_ptr<Backend> inner, ExpiryOptions options = {});

/// Wraps `inner` in the modified-time layer: values unchanged, an entry
/// expires `options.timeout` after the inner store's stat().modified (or its
/// recorded write time with track_write_times). Errors as above.
Result<std::unique_ptr<ExpiringBackend>> NewModifiedTimeBackend(
    std::unique_ptr<Backend> inner, ExpiryOptions options = {});

/// Options of the original's caches.
struct CacheOptions {
  /// Lifetime of an entry written without its own timeout. REQUIRES: >= 0.
  std::chrono::seconds timeout = kDefaultTimeout;
  /// Where now() comes from; null means DefaultClock().
  std::shared_ptr<Clock> clock;
  /// Bounds on the entries, with least-recently-used eviction.
  CacheLimits limits;
  /// JsonCache: the JSON format on disk (the original's by default).
  JsonFormat format;
  /// JsonCache in a folder: see ExpiryOptions::decoded_bytes.
  std::uint64_t decoded_bytes = kDefaultDecodedBytes;
  /// For a folder: how the file store writes.
  FileOptions file;
};

/// The original's JsonCache: JSON values with an expiry, in a folder or in
/// memory. All methods are safe to call concurrently.
class JsonCache {
 public:
  /// The value type, and what iteration and items() give.
  ///@{
  using Value = Json;
  using Entry = std::pair<std::string, Json>;
  ///@}

  /// A cache in `folder` (created if needed). Errors: kInvalidArgument for a
  /// negative timeout; FileBackend::Open's errors.
  static Result<JsonCache> Open(std::filesystem::path folder,
                                CacheOptions options = {});
  /// A cache in memory (the original's path=None).
  static Result<JsonCache> InMemory(CacheOptions options = {});
  /// A cache over any envelope layer (e.g. NewSqliteJsonCacheBackend's),
  /// its values written in `format`.
  static JsonCache Over(std::unique_ptr<JsonEnvelopeBackend> envelope,
                        JsonFormat format = {});

  /// The live value under `key`; std::nullopt if absent or expired (an
  /// expired entry is removed). Errors: kDataLoss for a corrupt entry (left
  /// in place); the store's errors.
  Result<std::optional<Json>> load(std::string_view key) const {
    return envelope_->load_json(key);
  }
  /// load, by the original's name.
  Result<std::optional<Json>> get(std::string_view key) const {
    return load(key);
  }
  /// Stores `value` for the default timeout, or for `timeout` (0: already
  /// expired, kNeverExpires: forever). Errors: kInvalidArgument for an
  /// invalid key, a value that cannot be written, a negative timeout.
  ///@{
  Status dump(std::string_view key, const Json& value) const {
    return envelope_->dump_json(key, value, envelope_->timeout());
  }
  Status dump(std::string_view key, const Json& value,
              std::chrono::seconds timeout) const {
    return envelope_->dump_json(key, value, timeout);
  }
  ///@}
  /// dump, by the original's name.
  ///@{
  Status set(std::string_view key, const Json& value) const {
    return dump(key, value);
  }
  Status set(std::string_view key, const Json& value,
             std::chrono::seconds timeout) const {
    return dump(key, value, timeout);
  }
  ///@}
  /// Whether a live entry existed. It is not an error if `key` does not
  /// exist. (The original's delete.)
  Result<bool> remove(std::string_view key) const {
    return envelope_->remove(key);
  }
  /// Live keys only, sorted.
  Result<std::vector<std::string>> keys() const { return envelope_->keys(); }
  /// Backend's methods of these names, on live entries only (an expired
  /// entry is absent). Errors: kDataLoss from items() for a corrupt entry.
  ///@{
  Result<std::vector<std::string>> list(std::string_view prefix) const {
    return envelope_->list(prefix);
  }
  Result<bool> contains(std::string_view key) const {
    return envelope_->contains(key);
  }
  Result<std::size_t> size() const { return envelope_->size(); }
  Result<std::vector<Entry>> items() const { return view_.items(); }
  ///@}
  /// See ExpiringBackend::prune.
  Result<std::size_t> prune() const { return envelope_->prune(); }
  /// Removes every entry, live or not.
  Status clear() const { return envelope_->clear(); }
  /// A snapshot of the counters.
  CacheStats stats() const { return envelope_->stats(); }
  /// A URL that reopens the store underneath (Backend::url).
  std::string url() const { return envelope_->url(); }

  /// Range-for over Result<Entry> (live entries), as Backend's iteration.
  ///@{
  auto begin() const { return view_.begin(); }
  std::default_sentinel_t end() const { return {}; }
  ///@}

  /// The byte-level store: JSON text in and out.
  JsonEnvelopeBackend& store() const { return *envelope_; }
  /// Gives up the byte-level store (e.g. to NewReadThroughBackend); the
  /// cache must not be used after.
  std::unique_ptr<Backend> release() && { return std::move(view_).release(); }

 private:
  JsonCache(JsonBackend view, JsonEnvelopeBackend* envelope)
      : view_(std::move(view)), envelope_(envelope) {}

  JsonBackend view_;  // Owns *envelope_.
  JsonEnvelopeBackend* envelope_;
};

/// The original's TextCache: UTF-8 text whose expiry comes from the file's
/// modification time (in memory: the time of the dump, by the clock). No
/// per-object timeout. All methods are safe to call concurrently.
class TextCache {
 public:
  /// The value type, and what iteration and items() give.
  ///@{
  using Value = std::string;
  using Entry = std::pair<std::string, std::string>;
  ///@}

  /// A cache in `folder` (created if needed). Errors: kInvalidArgument for a
  /// negative timeout; FileBackend::Open's errors.
  static Result<TextCache> Open(std::filesystem::path folder,
                                CacheOptions options = {});
  /// A cache in memory, each entry timed from its dump by the clock.
  static Result<TextCache> InMemory(CacheOptions options = {});
  /// A cache over any expiring layer (e.g. NewSqliteTextCacheBackend's).
  static TextCache Over(std::unique_ptr<ExpiringBackend> expiring);

  /// As JsonCache::load; kDataLoss for stored bytes that are not UTF-8.
  Result<std::optional<std::string>> load(std::string_view key) const {
    return view_.load(key);
  }
  /// load, by the original's name.
  Result<std::optional<std::string>> get(std::string_view key) const {
    return load(key);
  }
  /// Errors: kInvalidArgument for an invalid key or text that is not UTF-8.
  Status dump(std::string_view key, const std::string& value) const {
    return view_.dump(key, value);
  }
  /// dump, by the original's name.
  Status set(std::string_view key, const std::string& value) const {
    return dump(key, value);
  }
  /// As JsonCache's methods of these names: live entries only.
  ///@{
  Result<bool> remove(std::string_view key) const { return view_.remove(key); }
  Result<std::vector<std::string>> keys() const { return view_.keys(); }
  Result<std::vector<std::string>> list(std::string_view prefix) const {
    return view_.list(prefix);
  }
  Result<bool> contains(std::string_view key) const {
    return view_.contains(key);
  }
  Result<std::size_t> size() const { return view_.size(); }
  Result<std::vector<Entry>> items() const { return view_.items(); }
  ///@}
  /// As JsonCache's prune, clear, stats, url and range-for.
  ///@{
  Result<std::size_t> prune() const { return expiring_->prune(); }
  Status clear() const { return view_.clear(); }
  CacheStats stats() const { return expiring_->stats(); }
  std::string url() const { return expiring_->url(); }
  auto begin() const { return view_.begin(); }
  std::default_sentinel_t end() const { return {}; }
  ///@}

  /// The byte-level store (any bytes in and out).
  ExpiringBackend& store() const { return *expiring_; }
  /// As JsonCache::release.
  std::unique_ptr<Backend> release() && { return std::move(view_).release(); }

 private:
  TextCache(TextBackend view, ExpiringBackend* expiring)
      : view_(std::move(view)), expiring_(expiring) {}

  TextBackend view_;  // Owns *expiring_.
  ExpiringBackend* expiring_;
};

/// Options of NewReadThroughBackend.
struct ReadThroughOptions {
  /// How long a front copy counts as fresh after this layer stored it.
  /// kNeverExpires (the default): until the front drops it (a JsonCache
  /// front expires its own entries). Copies this process did not store
  /// (found in a persistent front at start) count as stored at the front's
  /// stat().modified, or as stale if the front keeps no time.
  std::chrono::seconds max_age = kNeverExpires;
  /// Bounds on the front, with LRU eviction. None by default.
  CacheLimits limits;
  /// When the back store fails with kUnavailable or kDeadlineExceeded and
  /// the front still holds a copy older than max_age, return that copy
  /// instead of the error; stats().stale_served counts these and on_stale
  /// (if set) is called with the key and the back store's error first.
  bool serve_stale = false;
  /// Called, if set, before a stale copy is served (see serve_stale).
  std::function<void(std::string_view key, const Status& back_error)> on_stale;
  /// Where now() comes from; null means DefaultClock().
  std::shared_ptr<Clock> clock;
};

/// A read-through, write-through layer: inner() is the back store.
///
/// load: a fresh front copy is returned without touching the back;
/// otherwise the value is loaded from the back and copied into the front.
/// A back failure is returned as an error (never as "missing"), unless
/// serve_stale applies. A front failure is treated as a miss.
/// dump/remove: the back first; then the front copy is replaced (dump) or
/// dropped (remove). If the back fails, the front copy is dropped and the
/// back's error returned. A load through this layer never returns a value
/// older than the caller's own last successful dump/remove of that key.
/// list/keys/size/stat/contains/items: the back store's answer.
/// clear: the back, then the front.
class ReadThroughBackend : public BackendWrapper {
 public:
  /// Wraps `inner` (owned), the back store.
  using BackendWrapper::BackendWrapper;

  /// The fast store in front.
  virtual Backend& front() const = 0;
  /// A snapshot of the counters.
  virtual CacheStats stats() const = 0;
  /// Drops the front copy of `key` so the next load goes to the back.
  /// Returns whether there was one.
  virtual Result<bool> invalidate(std::string_view key) = 0;
};

/// Makes the layer. Errors: kInvalidArgument for a negative max_age; the
/// front's errors while indexing it for limits.
Result<std::unique_ptr<ReadThroughBackend>> NewReadThroughBackend(
    std::unique_ptr<Backend> front, std::unique_ptr<Backend> back,
    ReadThroughOptions options = {});

/// A JsonCache or TextCache in front: its expiry (and limits) apply to the
/// front copies. A front holds only values of its kind: a JsonCache front
/// refuses bytes that are not JSON, a TextCache front bytes that are not
/// UTF-8. A refused copy is counted in stats().front_refusals and its key is
/// served by the back store on every load (never lost, never an error).
/// Values a JsonCache front serves are the same JSON as the back's, in the
/// cache's format (keys sorted, indent 4), not necessarily the same bytes.
Result<std::unique_ptr<ReadThroughBackend>> NewReadThroughBackend(
    JsonCache front, std::unique_ptr<Backend> back,
    ReadThroughOptions options = {});
/// The same with a TextCache in front (see the JsonCache overload).
Result<std::unique_ptr<ReadThroughBackend>> NewReadThroughBackend(
    TextCache front, std::unique_ptr<Backend> back,
    ReadThroughOptions options = {});

}  // namespace backends

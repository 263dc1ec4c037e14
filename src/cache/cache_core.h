#pragma once

// What every cache layer shares: the counters, and the least-recently-used
// index that enforces CacheLimits.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/cache.h"

namespace backends::cache_internal {

struct Counters {
  std::atomic<std::uint64_t> hits{0};
  std::atomic<std::uint64_t> misses{0};
  std::atomic<std::uint64_t> expirations{0};
  std::atomic<std::uint64_t> evictions{0};
  std::atomic<std::uint64_t> stale_served{0};
  std::atomic<std::uint64_t> decoded_hits{0};

  CacheStats Snapshot() const;
};

/// The keys a cache holds, most recently used last, with their stored
/// sizes. Only kept when a limit is set. Thread-safe.
class LruIndex {
 public:
  struct Victim {
    std::string key;
    std::uint64_t size;
  };

  explicit LruIndex(CacheLimits limits) : limits_(limits) {}

  bool limited() const {
    return limits_.max_entries != 0 || limits_.max_bytes != 0;
  }

  /// Records `key` (`size` stored bytes) as just written; returns the
  /// least recently used keys (never `key`) that must go to get back within
  /// the limits. They are no longer indexed.
  std::vector<Victim> Admit(std::string_view key, std::uint64_t size);
  /// Records `key` as just read (size as stored, if not yet indexed).
  void Touch(std::string_view key, std::uint64_t size);
  /// Puts back a victim whose removal failed, as least recently used.
  void Restore(Victim victim);
  void Forget(std::string_view key);
  void Clear();

  /// Indexes what `store` holds, oldest modification first (for a store
  /// that keeps data across processes). Does nothing without limits.
  Status Seed(Backend& store);

 private:
  using Order = std::list<std::pair<std::string, std::uint64_t>>;
  void InsertLocked(std::string_view key, std::uint64_t size, bool newest);

  const CacheLimits limits_;
  std::mutex mutex_;
  // Guarded by mutex_: recency order (front = least recent), position of
  // each key in it, and the total of the sizes.
  Order order_;
  std::unordered_map<std::string_view, Order::iterator> where_;
  std::uint64_t bytes_ = 0;
};

/// Removes `victims` from `store`, counting the ones removed; a victim
/// whose removal fails goes back into the index to be tried again later.
void Evict(Backend& store, LruIndex& index, Counters& counters,
           std::vector<LruIndex::Victim> victims);

}  // namespace backends::cache_internal

#pragma once

// What every cache layer shares: the counters, the order of use that
// least-recently-used bookkeeping is made of, and the index that enforces
// CacheLimits with it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "backends/backend.h"
#include "backends/cache.h"

namespace backends::cache_internal {

/// JSON text given to a JSON cache's `operation` on `key`, parsed.
/// Errors: kInvalidArgument "OPERATION KEY: value is not JSON: ...".
Result<Json> ParseJsonValue(std::string_view operation, std::string_view key,
                            std::string_view value);
/// The same, written in `format` as the cache stores it.
Result<std::string> ReformatJsonValue(std::string_view operation,
                                      std::string_view key,
                                      std::string_view value,
                                      const JsonFormat& format);

/// `options` as ExpiringBackend::settings() reports them: no clock.
inline ExpiryOptions WithoutClock(ExpiryOptions options) {
  options.clock = nullptr;
  return options;
}

struct Counters {
  std::atomic<std::uint64_t> hits{0};
  std::atomic<std::uint64_t> misses{0};
  std::atomic<std::uint64_t> expirations{0};
  std::atomic<std::uint64_t> evictions{0};
  std::atomic<std::uint64_t> stale_served{0};
  std::atomic<std::uint64_t> decoded_hits{0};
  std::atomic<std::uint64_t> front_refusals{0};

  CacheStats Snapshot() const;
};

/// Keys in order of use, least recent first, each with a value and a size;
/// the sizes are totalled. Not thread-safe: its owner locks.
template <typename Value>
class UseOrder {
 public:
  struct Item {
    std::string key;
    Value value;
    std::uint64_t size = 0;
  };

  std::size_t count() const { return items_.size(); }
  std::uint64_t bytes() const { return bytes_; }
  bool contains(std::string_view key) const { return where_.contains(key); }

  /// The item under `key`, marked as just used; null if there is none.
  Item* Use(std::string_view key) {
    auto it = where_.find(key);
    if (it == where_.end()) return nullptr;
    items_.splice(items_.end(), items_, it->second);
    return &*it->second;
  }
  /// Puts `key` (replacing any item under it) as the most recently used, or
  /// with newest == false as the least.
  void Insert(std::string_view key, Value value, std::uint64_t size,
              bool newest = true) {
    Erase(key);
    auto pos = items_.emplace(newest ? items_.end() : items_.begin(),
                              Item{std::string(key), std::move(value), size});
    // The map's key views the string owned by the list node.
    where_.emplace(pos->key, pos);
    bytes_ += size;
  }
  void Erase(std::string_view key) {
    auto it = where_.find(key);
    if (it == where_.end()) return;
    auto node = it->second;
    where_.erase(it);
    bytes_ -= node->size;
    items_.erase(node);
  }
  /// Removes and returns the least recently used item. REQUIRES: count() > 0.
  Item PopOldest() {
    where_.erase(items_.front().key);
    Item item = std::move(items_.front());
    items_.pop_front();
    bytes_ -= item.size;
    return item;
  }
  void Clear() {
    where_.clear();
    items_.clear();
    bytes_ = 0;
  }

 private:
  using Items = std::list<Item>;
  Items items_;
  std::unordered_map<std::string_view, typename Items::iterator> where_;
  std::uint64_t bytes_ = 0;
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
  const CacheLimits limits_;
  std::mutex mutex_;
  UseOrder<std::monostate> order_;  // Guarded by mutex_.
};

/// Removes `victims` from `store`, counting the ones removed; a victim
/// whose removal fails goes back into the index to be tried again later.
void Evict(Backend& store, LruIndex& index, Counters& counters,
           std::vector<LruIndex::Victim> victims);

}  // namespace backends::cache_internal

#include "cache/cache_core.h"

#include <algorithm>
#include <optional>

namespace backends::cache_internal {

CacheStats Counters::Snapshot() const {
  return CacheStats{.hits = hits.load(),
                    .misses = misses.load(),
                    .expirations = expirations.load(),
                    .evictions = evictions.load(),
                    .stale_served = stale_served.load(),
                    .decoded_hits = decoded_hits.load()};
}

void LruIndex::InsertLocked(std::string_view key, std::uint64_t size,
                            bool newest) {
  auto it = where_.find(key);
  if (it != where_.end()) {
    bytes_ -= it->second->second;
    order_.erase(it->second);
    where_.erase(it);
  }
  auto pos = order_.emplace(newest ? order_.end() : order_.begin(),
                            std::string(key), size);
  // The map's key views the string owned by the list node.
  where_.emplace(pos->first, pos);
  bytes_ += size;
}

std::vector<LruIndex::Victim> LruIndex::Admit(std::string_view key,
                                              std::uint64_t size) {
  std::vector<Victim> victims;
  if (!limited()) return victims;
  std::scoped_lock lock(mutex_);
  InsertLocked(key, size, /*newest=*/true);
  auto over = [&] {
    return (limits_.max_entries != 0 && order_.size() > limits_.max_entries) ||
           (limits_.max_bytes != 0 && bytes_ > limits_.max_bytes);
  };
  while (order_.size() > 1 && over()) {
    auto& [victim, victim_size] = order_.front();
    where_.erase(victim);
    bytes_ -= victim_size;
    victims.push_back(Victim{std::move(victim), victim_size});
    order_.pop_front();
  }
  return victims;
}

void LruIndex::Touch(std::string_view key, std::uint64_t size) {
  if (!limited()) return;
  std::scoped_lock lock(mutex_);
  auto it = where_.find(key);
  if (it != where_.end()) {
    order_.splice(order_.end(), order_, it->second);
  } else {
    InsertLocked(key, size, /*newest=*/true);
  }
}

void LruIndex::Restore(Victim victim) {
  std::scoped_lock lock(mutex_);
  if (where_.contains(victim.key)) return;  // Rewritten meanwhile.
  InsertLocked(victim.key, victim.size, /*newest=*/false);
}

void LruIndex::Forget(std::string_view key) {
  if (!limited()) return;
  std::scoped_lock lock(mutex_);
  auto it = where_.find(key);
  if (it == where_.end()) return;
  bytes_ -= it->second->second;
  order_.erase(it->second);
  where_.erase(it);
}

void LruIndex::Clear() {
  std::scoped_lock lock(mutex_);
  where_.clear();
  order_.clear();
  bytes_ = 0;
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
  for (const auto& entry : found) {
    InsertLocked(entry.key, entry.size, /*newest=*/true);
  }
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

// VolatileBackend: a hash map under a reader-writer lock. Values are copied
// out under the shared lock, so a reader never observes a value while it is
// being replaced.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/memory.h"

namespace backends {
namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const {
    return std::hash<std::string_view>{}(s);
  }
};

}  // namespace

struct VolatileBackend::State {
  std::shared_mutex mutex;
  // Guarded by mutex.
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>>
      values;
  // Guarded by mutex: counts the changes to the set of keys (not values).
  std::uint64_t key_generation = 0;

  // The keys sorted, as of sorted_generation, for paged listing: a hash
  // map has no order, and sorting per page would make reading n keys in
  // pages cost n^2 / page. Guarded by sorted_mutex.
  std::mutex sorted_mutex;
  std::shared_ptr<const std::vector<std::string>> sorted;
  std::uint64_t sorted_generation = 0;

  std::shared_ptr<const std::vector<std::string>> SortedKeys();
};

std::shared_ptr<const std::vector<std::string>>
VolatileBackend::State::SortedKeys() {
  std::vector<std::string> keys;
  std::uint64_t generation = 0;
  {
    std::shared_lock lock(mutex);
    generation = key_generation;
    {
      std::lock_guard lock_sorted(sorted_mutex);
      if (sorted != nullptr && sorted_generation == generation) return sorted;
    }
    keys.reserve(values.size());
    for (const auto& entry : values) keys.push_back(entry.first);
  }
  std::sort(keys.begin(), keys.end());
  auto fresh =
      std::make_shared<const std::vector<std::string>>(std::move(keys));
  std::lock_guard lock_sorted(sorted_mutex);
  if (sorted == nullptr || sorted_generation < generation) {
    sorted = fresh;
    sorted_generation = generation;
  }
  return fresh;
}

VolatileBackend::VolatileBackend() : state_(std::make_unique<State>()) {}
VolatileBackend::~VolatileBackend() = default;

Result<std::optional<std::string>> VolatileBackend::load(std::string_view key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("load", key));
  std::shared_lock lock(state_->mutex);
  auto it = state_->values.find(key);
  if (it == state_->values.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status VolatileBackend::dump(std::string_view key, std::string_view value) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
  {
    // Overwrite in place when the old buffer fits (not more than twice the
    // size, so a small value never pins a large buffer): no allocation and
    // no free, the common case for a store of same-sized values.
    std::unique_lock lock(state_->mutex);
    auto it = state_->values.find(key);
    if (it != state_->values.end() && it->second.capacity() >= value.size() &&
        it->second.capacity() <= 2 * value.size() + 64) {
      it->second.assign(value);
      return Status::OK();
    }
  }
  std::string copy(value);  // Allocate outside the lock.
  std::unique_lock lock(state_->mutex);
  auto it = state_->values.find(key);
  if (it != state_->values.end()) {
    it->second.swap(copy);
    lock.unlock();  // The old value is freed outside the lock.
  } else {
    state_->values.emplace(std::string(key), std::move(copy));
    ++state_->key_generation;
  }
  return Status::OK();
}

Result<bool> VolatileBackend::remove(std::string_view key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("remove", key));
  std::unique_lock lock(state_->mutex);
  auto it = state_->values.find(key);
  if (it == state_->values.end()) return false;
  state_->values.erase(it);
  ++state_->key_generation;
  return true;
}

Result<bool> VolatileBackend::remove_if(std::string_view key,
                                        const RemovalCheck& should_remove) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("remove", key));
  std::unique_lock lock(state_->mutex);
  auto it = state_->values.find(key);
  if (it == state_->values.end()) return false;
  if (!should_remove(it->second, KeyInfo{.size = it->second.size()})) {
    return false;
  }
  state_->values.erase(it);
  ++state_->key_generation;
  return true;
}

Result<std::vector<std::string>> VolatileBackend::list(
    std::string_view prefix) {
  std::vector<std::string> out;
  {
    std::shared_lock lock(state_->mutex);
    out.reserve(state_->values.size());
    for (const auto& [key, value] : state_->values) {
      if (key.starts_with(prefix)) out.push_back(key);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<KeyPage> VolatileBackend::list_page(std::string_view prefix,
                                           std::string_view start_after,
                                           std::size_t limit) {
  const auto keys = state_->SortedKeys();
  auto it = std::upper_bound(keys->begin(), keys->end(), start_after);
  it = std::max(it, std::lower_bound(keys->begin(), keys->end(), prefix));
  KeyPage page;
  limit = std::max<std::size_t>(limit, 1);
  for (; it != keys->end() && it->starts_with(prefix); ++it) {
    if (page.keys.size() == limit) {
      page.more = true;
      break;
    }
    page.keys.push_back(*it);
  }
  return page;
}

Result<std::optional<KeyInfo>> VolatileBackend::stat(std::string_view key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("stat", key));
  std::shared_lock lock(state_->mutex);
  auto it = state_->values.find(key);
  if (it == state_->values.end()) return std::optional<KeyInfo>();
  return std::optional<KeyInfo>(
      KeyInfo{.size = it->second.size(), .modified = std::nullopt});
}

Result<bool> VolatileBackend::contains(std::string_view key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("contains", key));
  std::shared_lock lock(state_->mutex);
  return state_->values.find(key) != state_->values.end();
}

Result<std::size_t> VolatileBackend::size() {
  std::shared_lock lock(state_->mutex);
  return state_->values.size();
}

Status VolatileBackend::clear() {
  decltype(state_->values) old;
  {
    std::unique_lock lock(state_->mutex);
    old.swap(state_->values);
    ++state_->key_generation;
  }
  return Status::OK();
}

std::string VolatileBackend::url() const { return "memory://"; }

}  // namespace backends

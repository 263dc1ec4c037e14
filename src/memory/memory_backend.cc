// VolatileBackend: a hash map under a reader-writer lock. Values are copied
// out under the shared lock, so a reader never observes a value while it is
// being replaced.
//
// Versions: every dump takes the next number of one store-wide counter, so
// a value written after another (even the same bytes, even after a remove)
// never shows the version of the one before.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backends/memory.h"
#include "write_condition.h"

namespace backends {
namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const {
    return std::hash<std::string_view>{}(s);
  }
};

// Sorts after every key that starts with what precedes it: UTF-8 keys never
// hold the byte 0xFF (backend.h, EntryPage::resume_after).
constexpr char kAfterEveryKey = '\xff';

struct Slot {
  std::string value;
  std::uint64_t version = 0;
};

KeyInfo InfoOf(const Slot& slot) {
  return KeyInfo{.size = slot.value.size(),
                 .version = std::to_string(slot.version)};
}

}  // namespace

struct VolatileBackend::State {
  std::shared_mutex mutex;
  // Guarded by mutex.
  std::unordered_map<std::string, Slot, StringHash, std::equal_to<>> values;
  // Guarded by mutex: the version of the last value written.
  std::uint64_t last_version = 0;
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

namespace {
using SortedIterator = std::vector<std::string>::const_iterator;

// The first of `keys` that starts with `prefix` and sorts after
// `start_after`.
SortedIterator FirstListed(const std::vector<std::string>& keys,
                           std::string_view prefix,
                           std::string_view start_after) {
  return std::max(std::upper_bound(keys.begin(), keys.end(), start_after),
                  std::lower_bound(keys.begin(), keys.end(), prefix));
}

}  // namespace

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
  return std::optional<std::string>(it->second.value);
}

Status VolatileBackend::dump(std::string_view key, std::string_view value) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
  {
    // Overwrite in place when the old buffer fits (not more than twice the
    // size, so a small value never pins a large buffer): no allocation and
    // no free, the common case for a store of same-sized values.
    std::unique_lock lock(state_->mutex);
    auto it = state_->values.find(key);
    if (it != state_->values.end() &&
        it->second.value.capacity() >= value.size() &&
        it->second.value.capacity() <= 2 * value.size() + 64) {
      it->second.value.assign(value);
      it->second.version = ++state_->last_version;
      return Status::OK();
    }
  }
  std::string copy(value);  // Allocate outside the lock.
  std::unique_lock lock(state_->mutex);
  auto it = state_->values.find(key);
  const std::uint64_t version = ++state_->last_version;
  if (it != state_->values.end()) {
    it->second.value.swap(copy);
    it->second.version = version;
    lock.unlock();  // The old value is freed outside the lock.
  } else {
    state_->values.emplace(std::string(key), Slot{std::move(copy), version});
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
  if (!should_remove(it->second.value, InfoOf(it->second))) {
    return false;
  }
  state_->values.erase(it);
  ++state_->key_generation;
  return true;
}

Result<std::optional<std::string>> VolatileBackend::load_range(
    std::string_view key, std::uint64_t offset, std::uint64_t length) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("load_range", key));
  std::shared_lock lock(state_->mutex);
  auto it = state_->values.find(key);
  if (it == state_->values.end()) return std::optional<std::string>();
  const std::string& value = it->second.value;
  if (offset >= value.size()) return std::optional<std::string>("");
  return std::optional<std::string>(value.substr(offset, length));
}

Result<bool> VolatileBackend::copy(std::string_view src_key,
                                   std::string_view dst_key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("copy", src_key));
  BACKENDS_RETURN_IF_ERROR(ValidateKey("copy", dst_key));
  std::unique_lock lock(state_->mutex);
  auto src = state_->values.find(src_key);
  if (src == state_->values.end()) return false;
  if (src_key == dst_key) return true;
  Slot slot{src->second.value, ++state_->last_version};
  auto [dst, added] = state_->values.try_emplace(std::string(dst_key));
  dst->second.value.swap(slot.value);
  dst->second.version = slot.version;
  if (added) ++state_->key_generation;
  lock.unlock();  // The replaced value is freed outside the lock.
  return true;
}

Result<bool> VolatileBackend::rename(std::string_view src_key,
                                     std::string_view dst_key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("rename", src_key));
  BACKENDS_RETURN_IF_ERROR(ValidateKey("rename", dst_key));
  Slot replaced;
  std::unique_lock lock(state_->mutex);
  auto src = state_->values.find(src_key);
  if (src == state_->values.end()) return false;
  if (src_key == dst_key) return true;
  Slot moved = std::move(src->second);
  state_->values.erase(src);
  auto [dst, added] = state_->values.try_emplace(std::string(dst_key));
  replaced = std::exchange(dst->second, std::move(moved));
  ++state_->key_generation;
  lock.unlock();
  return true;
}

Result<std::string> VolatileBackend::dump_if(std::string_view key,
                                             std::string_view value,
                                             const WriteCondition& condition) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("dump_if", key));
  std::string copy(value);  // Allocate outside the lock.
  std::unique_lock lock(state_->mutex);
  auto it = state_->values.find(key);
  std::optional<std::string> current;
  if (it != state_->values.end()) current = std::to_string(it->second.version);
  BACKENDS_RETURN_IF_ERROR(CheckWriteCondition(key, condition, current));
  const std::uint64_t version = ++state_->last_version;
  if (it != state_->values.end()) {
    it->second.value.swap(copy);
    it->second.version = version;
  } else {
    state_->values.emplace(std::string(key), Slot{std::move(copy), version});
    ++state_->key_generation;
  }
  lock.unlock();
  return std::to_string(version);
}

Result<std::vector<std::string>> VolatileBackend::list(
    std::string_view prefix) {
  const auto keys = state_->SortedKeys();
  auto first = FirstListed(*keys, prefix, "");
  auto last = std::find_if_not(first, keys->end(), [&](const std::string& key) {
    return key.starts_with(prefix);
  });
  return std::vector<std::string>(first, last);
}

Result<KeyPage> VolatileBackend::list_page(std::string_view prefix,
                                           std::string_view start_after,
                                           std::size_t limit) {
  const auto keys = state_->SortedKeys();
  auto it = FirstListed(*keys, prefix, start_after);
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

Result<EntryPage> VolatileBackend::list_entries(const ListRequest& request) {
  const auto keys = state_->SortedKeys();
  const std::string_view prefix = request.prefix;
  const std::string_view delimiter = request.delimiter;
  const std::size_t limit = std::max<std::size_t>(request.limit, 1);
  EntryPage page;
  auto it = FirstListed(*keys, prefix, request.start_after);
  std::shared_lock lock(state_->mutex);
  while (it != keys->end() && it->starts_with(prefix)) {
    if (page.entries.size() + page.common_prefixes.size() == limit) {
      page.more = true;
      break;
    }
    const std::size_t cut = delimiter.empty()
                                ? std::string::npos
                                : it->find(delimiter, prefix.size());
    if (cut != std::string::npos) {
      page.common_prefixes.push_back(it->substr(0, cut + delimiter.size()));
      page.resume_after = page.common_prefixes.back() + kAfterEveryKey;
      it = std::lower_bound(it, keys->end(), page.resume_after);
      continue;
    }
    auto found = state_->values.find(*it);
    if (found != state_->values.end()) {  // else removed since the snapshot
      page.entries.push_back(ListEntry{*it, InfoOf(found->second)});
      page.resume_after = *it;
    }
    ++it;
  }
  return page;
}

Result<std::optional<KeyInfo>> VolatileBackend::stat(std::string_view key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("stat", key));
  std::shared_lock lock(state_->mutex);
  auto it = state_->values.find(key);
  if (it == state_->values.end()) return std::optional<KeyInfo>();
  return std::optional<KeyInfo>(InfoOf(it->second));
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

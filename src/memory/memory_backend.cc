// VolatileBackend: a hash map under a reader-writer lock. Values are copied
// out under the shared lock, so a reader never observes a value while it is
// being replaced.

#include <algorithm>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

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
};

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
  }
  return Status::OK();
}

Result<bool> VolatileBackend::remove(std::string_view key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("remove", key));
  std::unique_lock lock(state_->mutex);
  auto it = state_->values.find(key);
  if (it == state_->values.end()) return false;
  state_->values.erase(it);
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
  }
  return Status::OK();
}

std::string VolatileBackend::url() const { return "memory://"; }

}  // namespace backends

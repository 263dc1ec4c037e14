#include "cache/decoded_copies.h"

#include <utility>

namespace backends::cache_internal {

std::optional<DecodedCopies::Copy> DecodedCopies::Find(std::string_view key) {
  if (!enabled()) return std::nullopt;
  std::scoped_lock lock(mutex_);
  auto it = where_.find(key);
  if (it == where_.end()) return std::nullopt;
  order_.splice(order_.end(), order_, it->second);
  return it->second->second;
}

void DecodedCopies::Put(std::string_view key, Copy copy) {
  if (!enabled()) return;
  std::scoped_lock lock(mutex_);
  EraseLocked(key);
  if (copy.stored_size > max_bytes_) return;
  bytes_ += copy.stored_size;
  auto pos = order_.emplace(order_.end(), std::string(key), std::move(copy));
  where_.emplace(pos->first, pos);
  while (bytes_ > max_bytes_) {
    bytes_ -= order_.front().second.stored_size;
    where_.erase(order_.front().first);
    order_.pop_front();
  }
}

void DecodedCopies::Erase(std::string_view key) {
  if (!enabled()) return;
  std::scoped_lock lock(mutex_);
  EraseLocked(key);
}

void DecodedCopies::EraseLocked(std::string_view key) {
  auto it = where_.find(key);
  if (it == where_.end()) return;
  bytes_ -= it->second->second.stored_size;
  auto node = it->second;
  where_.erase(it);
  order_.erase(node);
}

void DecodedCopies::Clear() {
  if (!enabled()) return;
  std::scoped_lock lock(mutex_);
  where_.clear();
  order_.clear();
  bytes_ = 0;
}

}  // namespace backends::cache_internal

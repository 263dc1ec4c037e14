#include "cache/decoded_copies.h"

#include <utility>

namespace backends::cache_internal {

std::optional<DecodedCopies::Copy> DecodedCopies::Find(std::string_view key) {
  if (!enabled()) return std::nullopt;
  std::scoped_lock lock(mutex_);
  auto* item = order_.Use(key);
  if (item == nullptr) return std::nullopt;
  return item->value;
}

void DecodedCopies::Put(std::string_view key, Copy copy) {
  if (!enabled()) return;
  std::scoped_lock lock(mutex_);
  order_.Erase(key);
  const std::uint64_t size = copy.stored_size;
  if (size > max_bytes_) return;
  order_.Insert(key, std::move(copy), size);
  while (order_.bytes() > max_bytes_) order_.PopOldest();
}

void DecodedCopies::Erase(std::string_view key) {
  if (!enabled()) return;
  std::scoped_lock lock(mutex_);
  order_.Erase(key);
}

void DecodedCopies::Clear() {
  if (!enabled()) return;
  std::scoped_lock lock(mutex_);
  order_.Clear();
}

}  // namespace backends::cache_internal

#pragma once

// Entries a JsonCache in a folder has decoded, kept in this process and
// served again while their file's stamp is unchanged (FileBackend::stamp):
// a load then costs one stat instead of a read and a parse. Expiry is still
// checked on every access, by the caller, from the copy's expiration.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "backends/file.h"
#include "backends/json.h"
#include "cache/cache_core.h"
#include "cache/expiry_time.h"

namespace backends::cache_internal {

/// Bounded by the entries' stored sizes; the least recently used copy goes
/// first. Thread-safe.
class DecodedCopies {
 public:
  struct Copy {
    FileStamp stamp;  // Settled when the copy was made.
    std::shared_ptr<const Json> content;
    SysSeconds expiration;
    std::uint64_t stored_size = 0;
  };

  /// max_bytes == 0 keeps nothing.
  explicit DecodedCopies(std::uint64_t max_bytes) : max_bytes_(max_bytes) {}

  bool enabled() const { return max_bytes_ != 0; }
  /// The copy of `key`, marked as just used.
  std::optional<Copy> Find(std::string_view key);
  /// Keeps `copy` (replacing any), then drops the least recently used
  /// copies beyond the bound. A copy larger than the bound is not kept.
  void Put(std::string_view key, Copy copy);
  void Erase(std::string_view key);
  void Clear();

 private:
  const std::uint64_t max_bytes_;
  std::mutex mutex_;
  UseOrder<Copy> order_;  // Guarded by mutex_; sizes are stored sizes.
};

}  // namespace backends::cache_internal

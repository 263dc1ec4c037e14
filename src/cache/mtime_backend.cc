// The modified-time layer (TextCache's expiry): values are stored unchanged
// and an entry expires `timeout` after the inner store's modification time,
// or, with track_write_times, after the time this layer wrote it (for
// stores that keep no time, such as memory).
//
// A load asks for the time first and then reads the value: if the value is
// replaced in between, the newer value is judged by the older time, which
// can only make it expire early, never late.

#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "backends/cache.h"
#include "cache/expiring_base.h"
#include "cache/expiry_time.h"

namespace backends {
namespace cache_internal {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

class ModifiedTimeBackend final : public ExpiringBase<ExpiringBackend> {
 public:
  ModifiedTimeBackend(std::unique_ptr<Backend> inner, ExpiryOptions options)
      : ExpiringBase(std::move(inner), options),
        track_(options.track_write_times) {}

  Result<std::optional<std::string>> load(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(Liveness state, Check("load", key));
    if (state == Liveness::kLive) {
      BACKENDS_ASSIGN_OR_RETURN(auto value, inner().load(key));
      if (value) {
        Hit(key, value->size());
        return value;
      }
    }
    Miss();
    return std::optional<std::string>();
  }

  Status dump(std::string_view key, std::string_view value) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
    BACKENDS_RETURN_IF_ERROR(inner().dump(key, value));
    if (track_) {
      TimePoint now = clock_->now();
      std::scoped_lock lock(mutex_);
      written_[std::string(key)] = now;
    }
    Admitted(key, value.size());
    return Status::OK();
  }

  Result<std::string> dump_if(std::string_view key, std::string_view value,
                              const WriteCondition& condition) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump_if", key));
    BACKENDS_ASSIGN_OR_RETURN(std::string version,
                              ConditionalDump(key, value, condition));
    if (track_) {
      TimePoint now = clock_->now();
      std::scoped_lock lock(mutex_);
      written_[std::string(key)] = now;
    }
    return version;
  }

  Result<bool> remove(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(bool removed, ExpiringBase::remove(key));
    Untrack(key);
    return removed;
  }

  Status clear() override {
    if (track_) {
      std::scoped_lock lock(mutex_);
      written_.clear();
    }
    return ExpiringBase::clear();
  }

  Result<std::optional<KeyInfo>> stat(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(Liveness state, Check("stat", key));
    if (state != Liveness::kLive) return std::optional<KeyInfo>();
    BACKENDS_ASSIGN_OR_RETURN(auto info, inner().stat(key));
    if (info && track_ && !info->modified) info->modified = WrittenAt(key);
    return info;
  }

 protected:
  // Liveness from the listing's modification time (or the time this layer
  // wrote the key): only an expired entry costs a request, to remove it.
  Result<std::optional<KeyInfo>> Presented(const ListEntry& entry) override {
    KeyInfo info = entry.info;
    if (track_ && !info.modified) info.modified = WrittenAt(entry.key);
    const std::optional<TimePoint> written =
        track_ ? WrittenAt(entry.key) : entry.info.modified;
    if (written && !IsOlderThan(clock_->now(), *written, timeout_)) {
      return std::optional<KeyInfo>(std::move(info));
    }
    BACKENDS_ASSIGN_OR_RETURN(Liveness state, Check("list", entry.key));
    if (state != Liveness::kLive) return std::optional<KeyInfo>();
    return stat(entry.key);  // rewritten since the listing
  }

  Result<Liveness> Check(std::string_view operation,
                         std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey(operation, key));
    BACKENDS_ASSIGN_OR_RETURN(auto info, inner().stat(key));
    if (!info) return Liveness::kAbsent;
    std::optional<TimePoint> modified = info->modified;
    if (track_) {
      modified = WrittenAt(key);
    } else if (!modified) {
      return FailedPreconditionError(
          std::string(operation) + " " + QuoteKey(key) +
          ": the store keeps no modification time (use track_write_times)");
    }
    // An entry of unknown age (not written through this layer) is expired.
    if (modified && !IsOlderThan(clock_->now(), *modified, timeout_)) {
      return Liveness::kLive;
    }
    // Removed only if still expired when taken: a rewrite since we looked
    // (a new modification time) stays.
    const auto now = clock_->now();
    BACKENDS_ASSIGN_OR_RETURN(
        bool removed,
        inner().remove_if(key, [&](std::string_view, const KeyInfo& taken) {
          if (track_) return WrittenAt(key) == modified;
          return taken.modified && IsOlderThan(now, *taken.modified, timeout_);
        }));
    if (!removed) {
      BACKENDS_ASSIGN_OR_RETURN(bool present, inner().contains(key));
      return present ? Liveness::kLive : Liveness::kAbsent;
    }
    Untrack(key);
    Expired(key);
    return Liveness::kExpired;
  }

 private:
  std::optional<TimePoint> WrittenAt(std::string_view key) {
    std::scoped_lock lock(mutex_);
    auto it = written_.find(std::string(key));
    if (it == written_.end()) return std::nullopt;
    return it->second;
  }
  void Untrack(std::string_view key) {
    if (!track_) return;
    std::scoped_lock lock(mutex_);
    written_.erase(std::string(key));
  }

  const bool track_;
  std::mutex mutex_;
  // Guarded by mutex_: write time of each key (track_write_times only).
  std::unordered_map<std::string, TimePoint> written_;
};

}  // namespace
}  // namespace cache_internal

Result<std::unique_ptr<ExpiringBackend>> NewModifiedTimeBackend(
    std::unique_ptr<Backend> inner, ExpiryOptions options) {
  if (options.timeout < std::chrono::seconds::zero()) {
    return InvalidArgumentError("modified-time cache: negative timeout " +
                                std::to_string(options.timeout.count()) + " s");
  }
  auto layer = std::make_unique<cache_internal::ModifiedTimeBackend>(
      std::move(inner), std::move(options));
  BACKENDS_RETURN_IF_ERROR(layer->Init());
  return std::unique_ptr<ExpiringBackend>(std::move(layer));
}

}  // namespace backends

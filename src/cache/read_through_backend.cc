// The read-through / write-through layer.
//
// Ordering. A writer bumps the key's generation before writing the back
// store; whoever copies a value into the front (a writer after its back
// write, a reader after its back load) reads the generation before going to
// the back and checks it again after writing the front. If it moved, a newer
// write may have reached the back in between, so the front copy is dropped
// instead of kept. Every writer of the front does this check after its own
// front write, so the last one to finish always sees every newer generation:
// the front never keeps a copy older than the back, and no lock is held
// across I/O. Generations live in a fixed table of stripes indexed by a hash
// of the key; keys sharing a stripe only cause extra (harmless) drops.
//
// Freshness (max_age) is the time this process stored the copy, kept in a
// map next to the front; copies found in a persistent front at start count
// from the front's modification time.

#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "backends/cache.h"
#include "cache/cache_core.h"
#include "cache/expiry_time.h"

namespace backends {
namespace cache_internal {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

class ReadThroughImpl final : public ReadThroughBackend {
 public:
  ReadThroughImpl(std::unique_ptr<Backend> front, std::unique_ptr<Backend> back,
                  ReadThroughOptions options)
      : ReadThroughBackend(std::move(back)),
        front_(std::move(front)),
        clock_(options.clock ? std::move(options.clock) : DefaultClock()),
        max_age_(options.max_age),
        serve_stale_(options.serve_stale),
        on_stale_(std::move(options.on_stale)),
        index_(options.limits) {}

  Status Init() { return index_.Seed(*front_); }

  Backend& front() const override { return *front_; }
  CacheStats stats() const override { return counters_.Snapshot(); }

  Result<bool> invalidate(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("invalidate", key));
    Bump(key);
    return DropFront(key);
  }

  Result<std::optional<std::string>> load(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("load", key));
    // A failing front is only a slower cache: go to the back.
    auto front_copy = front_->load(key);
    std::optional<std::string> copy;
    if (front_copy.ok()) copy = std::move(front_copy).value();
    if (copy) {
      if (Fresh(key)) {
        ++counters_.hits;
        index_.Touch(key, copy->size());
        return copy;
      }
      ++counters_.expirations;
    }
    const std::uint64_t generation = Generation(key);
    auto loaded = inner().load(key);
    if (!loaded.ok()) {
      const ErrorCode code = loaded.status().code();
      if (copy && serve_stale_ &&
          (code == ErrorCode::kUnavailable ||
           code == ErrorCode::kDeadlineExceeded)) {
        ++counters_.stale_served;
        if (on_stale_) on_stale_(key, loaded.status());
        return copy;
      }
      return std::move(loaded).status();
    }
    ++counters_.misses;
    if (!*loaded) {
      if (copy) (void)DropFront(key);  // Gone from the back: drop ours.
      return loaded;
    }
    (void)Keep(key, **loaded, generation);
    return loaded;
  }

  Status dump(std::string_view key, std::string_view value) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
    const std::uint64_t generation = Bump(key);
    Status status = inner().dump(key, value);
    if (!status.ok()) {
      // The back may or may not hold the value now: make the next load ask.
      (void)DropFront(key);
      return status;
    }
    return Keep(key, value, generation);
  }

  Result<bool> remove(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("remove", key));
    Bump(key);
    auto removed = inner().remove(key);
    auto dropped = DropFront(key);
    if (!removed.ok()) return removed;
    if (!dropped.ok()) {
      return dropped.status().WithContext("remove " + QuoteKey(key) +
                                          ": removed from the back store, "
                                          "but the front copy remains");
    }
    return removed;
  }

  Status clear() override {
    for (auto& stripe : generations_) ++stripe;
    BACKENDS_RETURN_IF_ERROR(inner().clear());
    index_.Clear();
    {
      std::scoped_lock lock(mutex_);
      stored_at_.clear();
    }
    return front_->clear();
  }

  Result<std::vector<Entry>> items() override { return inner().items(); }

 private:
  static constexpr std::size_t kStripes = 256;

  std::atomic<std::uint64_t>& Stripe(std::string_view key) {
    return generations_[std::hash<std::string_view>{}(key) % kStripes];
  }
  std::uint64_t Generation(std::string_view key) { return Stripe(key).load(); }
  std::uint64_t Bump(std::string_view key) { return ++Stripe(key); }

  bool Fresh(std::string_view key) {
    if (max_age_ == kNeverExpires) return true;
    std::optional<TimePoint> stored;
    {
      std::scoped_lock lock(mutex_);
      auto it = stored_at_.find(std::string(key));
      if (it != stored_at_.end()) stored = it->second;
    }
    if (!stored) {
      // Not stored by this process: judge by the front's own time, if any.
      auto info = front_->stat(key);
      if (info.ok() && *info && (*info)->modified) stored = (*info)->modified;
    }
    return stored && !IsOlderThan(clock_->now(), *stored, max_age_);
  }

  // Copies `value` into the front unless `generation` is outdated; see the
  // top of the file. Fails only if a copy older than the back may remain.
  Status Keep(std::string_view key, std::string_view value,
              std::uint64_t generation) {
    const TimePoint now = clock_->now();
    Status stored = front_->dump(key, value);
    if (stored.ok() && Generation(key) == generation) {
      if (max_age_ != kNeverExpires) {
        std::scoped_lock lock(mutex_);
        stored_at_[std::string(key)] = now;
      }
      Evict(*front_, index_, counters_, index_.Admit(key, value.size()));
      return Status::OK();
    }
    auto dropped = DropFront(key);
    if (!dropped.ok()) {
      return dropped.status().WithContext(
          "dump " + QuoteKey(key) +
          ": stored in the back store, but an older front copy remains");
    }
    return Status::OK();
  }

  Result<bool> DropFront(std::string_view key) {
    {
      std::scoped_lock lock(mutex_);
      stored_at_.erase(std::string(key));
    }
    index_.Forget(key);
    return front_->remove(key);
  }

  const std::unique_ptr<Backend> front_;
  const std::shared_ptr<Clock> clock_;
  const std::chrono::seconds max_age_;
  const bool serve_stale_;
  const std::function<void(std::string_view, const Status&)> on_stale_;
  LruIndex index_;
  Counters counters_;
  std::array<std::atomic<std::uint64_t>, kStripes> generations_{};
  std::mutex mutex_;
  // Guarded by mutex_: when this process stored each front copy.
  std::unordered_map<std::string, TimePoint> stored_at_;
};

}  // namespace
}  // namespace cache_internal

Result<std::unique_ptr<ReadThroughBackend>> NewReadThroughBackend(
    std::unique_ptr<Backend> front, std::unique_ptr<Backend> back,
    ReadThroughOptions options) {
  if (options.max_age < std::chrono::seconds::zero()) {
    return InvalidArgumentError("read-through cache: negative max_age " +
                                std::to_string(options.max_age.count()) + " s");
  }
  auto layer = std::make_unique<cache_internal::ReadThroughImpl>(
      std::move(front), std::move(back), std::move(options));
  BACKENDS_RETURN_IF_ERROR(layer->Init());
  return std::unique_ptr<ReadThroughBackend>(std::move(layer));
}

}  // namespace backends

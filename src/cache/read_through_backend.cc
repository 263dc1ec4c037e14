// The read-through / write-through layer.
//
// Ordering. Each key maps to one of a fixed table of stripes holding a
// generation (bumped when a write or remove starts) and the number of
// writes in flight. A value may be copied into the front only if it is
// known to be the back's latest: a reader's when no write was in flight as
// it began and none has begun since; a writer's when no other write
// overlapped its own (overlapping writes may reach the back in either
// order, so both drop the front copy instead). The check and the front
// write happen under the stripe's lock, so no front copy is ever older than
// a write that has returned, not even for an instant. The lock is never held
// across back-store I/O. Keys sharing a stripe only cause extra drops.
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
#include "backends/open.h"
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
        limits_(options.limits),
        index_(options.limits) {}

  Status Init() { return index_.Seed(*front_); }

  Backend& front() const override { return *front_; }
  CacheStats stats() const override { return counters_.Snapshot(); }

  // The back store's URL with front= and this layer's settings, which
  // OpenStore reopens as the same layer (open.h).
  std::string url() const override {
    std::string url = AddUrlParam(inner().url(), "front", front_->url());
    auto add = [&url](std::string_view name, std::uint64_t value) {
      url = AddUrlParam(url, name, std::to_string(value));
    };
    if (max_age_ != kNeverExpires) {
      add("max_age", static_cast<std::uint64_t>(max_age_.count()));
    }
    if (serve_stale_) add("serve_stale", 1);
    if (limits_.max_entries != 0) add("front_max_entries", limits_.max_entries);
    if (limits_.max_bytes != 0) add("front_max_bytes", limits_.max_bytes);
    return url;
  }

  Result<bool> invalidate(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("invalidate", key));
    Stripe& stripe = StripeOf(key);
    std::scoped_lock lock(stripe.mutex);
    ++stripe.generation;
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
    const Snapshot before = Observe(key);
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
    (void)Keep(key, **loaded, before);
    return loaded;
  }

  Status dump(std::string_view key, std::string_view value) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
    const Snapshot mine = BeginWrite(key);
    Status status = inner().dump(key, value);
    // On failure the back may or may not hold the value: the next load asks.
    Status ended =
        EndWrite("dump", key, mine, status.ok() ? &value : nullptr, status);
    if (!status.ok()) return status;
    return ended;
  }

  // The back store checks and writes; the front copy is replaced as by
  // dump, or dropped when the condition failed.
  Result<std::string> dump_if(std::string_view key, std::string_view value,
                              const WriteCondition& condition) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump_if", key));
    const Snapshot mine = BeginWrite(key);
    // The front copy goes first: a compare-and-swap reads the back's
    // version, and must then not be served a front copy older than it.
    Result<bool> dropped = false;
    {
      Stripe& stripe = StripeOf(key);
      std::scoped_lock lock(stripe.mutex);
      dropped = DropFront(key);
    }
    auto version = dropped.ok() ? inner().dump_if(key, value, condition)
                                : Result<std::string>(dropped.status());
    Status ended = EndWrite("dump_if", key, mine,
                            version.ok() ? &value : nullptr, version.status());
    if (!version.ok()) return version;
    BACKENDS_RETURN_IF_ERROR(ended);
    return version;
  }

  // Copies and renames happen in the back store (server-side on S3); the
  // front copies of the keys they change are dropped.
  Result<bool> copy(std::string_view src_key,
                    std::string_view dst_key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("copy", src_key));
    BACKENDS_RETURN_IF_ERROR(ValidateKey("copy", dst_key));
    const Snapshot mine = BeginWrite(dst_key);
    auto copied = inner().copy(src_key, dst_key);
    Status ended = EndWrite("copy", dst_key, mine, nullptr, copied.status());
    if (!copied.ok()) return copied;
    BACKENDS_RETURN_IF_ERROR(ended);
    return copied;
  }

  Result<bool> rename(std::string_view src_key,
                      std::string_view dst_key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("rename", src_key));
    BACKENDS_RETURN_IF_ERROR(ValidateKey("rename", dst_key));
    const Snapshot src = BeginWrite(src_key);
    const Snapshot dst = BeginWrite(dst_key);
    auto renamed = inner().rename(src_key, dst_key);
    Status ended_src =
        EndWrite("rename", src_key, src, nullptr, renamed.status());
    Status ended_dst =
        EndWrite("rename", dst_key, dst, nullptr, renamed.status());
    if (!renamed.ok()) return renamed;
    BACKENDS_RETURN_IF_ERROR(ended_src);
    BACKENDS_RETURN_IF_ERROR(ended_dst);
    return renamed;
  }

  Result<bool> remove(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("remove", key));
    const Snapshot mine = BeginWrite(key);
    auto removed = inner().remove(key);
    Status dropped = EndWrite("remove", key, mine, nullptr, removed.status());
    if (!removed.ok()) return removed;
    BACKENDS_RETURN_IF_ERROR(dropped);
    return removed;
  }

  Status clear() override {
    for (auto& stripe : stripes_) {
      std::scoped_lock lock(stripe.mutex);
      ++stripe.generation;
    }
    BACKENDS_RETURN_IF_ERROR(inner().clear());
    index_.Clear();
    {
      std::scoped_lock lock(mutex_);
      stored_at_.clear();
    }
    return front_->clear();
  }

  Result<std::vector<Entry>> items() override { return inner().items(); }
  Result<EntryPage> list_entries(const ListRequest& request) override {
    return inner().list_entries(request);  // the back store's, as list's
  }

 private:
  static constexpr std::size_t kStripes = 256;

  struct Stripe {
    std::mutex mutex;
    std::uint64_t generation = 0;  // Guarded by mutex.
    int writing = 0;               // Guarded by mutex: writes in flight.
  };
  struct Snapshot {
    std::uint64_t generation;
    bool quiet;  // No other write was in flight.
  };

  Stripe& StripeOf(std::string_view key) {
    return stripes_[std::hash<std::string_view>{}(key) % kStripes];
  }
  Snapshot Observe(std::string_view key) {
    Stripe& stripe = StripeOf(key);
    std::scoped_lock lock(stripe.mutex);
    return {stripe.generation, stripe.writing == 0};
  }
  // Whether a value read or written since `seen` is the back's latest: no
  // other write was in flight then, and none has begun since.
  static bool Latest(const Stripe& stripe, Snapshot seen) {
    return seen.quiet && stripe.generation == seen.generation;
  }
  Snapshot BeginWrite(std::string_view key) {
    Stripe& stripe = StripeOf(key);
    std::scoped_lock lock(stripe.mutex);
    const bool alone = stripe.writing++ == 0;
    return {++stripe.generation, alone};
  }
  // Ends a write or remove: keeps `*value` in the front if no other write
  // overlapped this one, else (or without a value) drops the front copy.
  // Fails only if a copy older than the back may remain.
  Status EndWrite(std::string_view op, std::string_view key, Snapshot mine,
                  const std::string_view* value, const Status& outcome) {
    Stripe& stripe = StripeOf(key);
    std::scoped_lock lock(stripe.mutex);
    --stripe.writing;
    if (value && Latest(stripe, mine)) return Store(key, *value);
    auto dropped = DropFront(key);
    if (dropped.ok()) return Status::OK();
    return dropped.status().WithContext(
        std::string(op) + " " + QuoteKey(key) +
        (outcome.ok() ? ": done in the back store"
                      : ": failed in the back store") +
        ", and an older front copy remains");
  }
  // A reader's copy from the back, loaded after `before`.
  Status Keep(std::string_view key, std::string_view value, Snapshot before) {
    Stripe& stripe = StripeOf(key);
    std::scoped_lock lock(stripe.mutex);
    return Latest(stripe, before) ? Store(key, value) : Status::OK();
  }

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

  // Copies `value` into the front. REQUIRES: the key's stripe is locked.
  Status Store(std::string_view key, std::string_view value) {
    const TimePoint now = clock_->now();
    Status stored = front_->dump(key, value);
    if (stored.ok()) {
      if (max_age_ != kNeverExpires) {
        std::scoped_lock lock(mutex_);
        stored_at_[std::string(key)] = now;
      }
      Evict(*front_, index_, counters_, index_.Admit(key, value.size()));
      return Status::OK();
    }
    // A failing front is only a slower cache, unless the old copy stays.
    ++counters_.front_refusals;
    auto dropped = DropFront(key);
    if (dropped.ok()) return Status::OK();
    return dropped.status().WithContext(
        "keep " + QuoteKey(key) + " in the front store: an older copy "
                                  "remains");
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
  const CacheLimits limits_;
  LruIndex index_;
  Counters counters_;
  std::array<Stripe, kStripes> stripes_;
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

namespace {

// A TextCache front holds UTF-8 text only, as TextCache itself.
class TextOnlyFront final : public BackendWrapper {
 public:
  using BackendWrapper::BackendWrapper;
  Status dump(std::string_view key, std::string_view value) override {
    if (!IsValidUtf8(value)) {
      return InvalidArgumentError("dump " + QuoteKey(key) +
                                  ": a TextCache holds UTF-8 text only");
    }
    return BackendWrapper::dump(key, value);
  }
};

}  // namespace

Result<std::unique_ptr<ReadThroughBackend>> NewReadThroughBackend(
    JsonCache front, std::unique_ptr<Backend> back,
    ReadThroughOptions options) {
  return NewReadThroughBackend(std::move(front).release(), std::move(back),
                               std::move(options));
}

Result<std::unique_ptr<ReadThroughBackend>> NewReadThroughBackend(
    TextCache front, std::unique_ptr<Backend> back,
    ReadThroughOptions options) {
  return NewReadThroughBackend(
      std::make_unique<TextOnlyFront>(std::move(front).release()),
      std::move(back), std::move(options));
}

}  // namespace backends

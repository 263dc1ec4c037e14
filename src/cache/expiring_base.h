#pragma once

// The part of every expiring layer that does not depend on where the expiry
// time lives: listing live keys, pruning, limits and counters. A layer
// supplies Check() (is this entry live?) and load/dump.

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/cache.h"
#include "cache/cache_core.h"
#include "write_condition.h"

namespace backends::cache_internal {

enum class Liveness {
  kAbsent,
  kLive,
  /// It was expired, and has been removed (and counted).
  kExpired,
};

template <typename Base>
class ExpiringBase : public Base {
 public:
  /// Keys per listing page of size() and prune().
  static constexpr std::size_t kPageSize = 1000;

  ExpiringBase(std::unique_ptr<Backend> inner, ExpiryOptions options)
      : Base(std::move(inner)),
        clock_(options.clock ? std::move(options.clock) : DefaultClock()),
        timeout_(options.timeout),
        format_(options.format),
        settings_(WithoutClock(options)),
        index_(options.limits) {}

  /// Indexes the inner store for the limits.
  Status Init() { return index_.Seed(this->inner()); }

  Result<std::vector<std::string>> list(std::string_view prefix) override {
    BACKENDS_ASSIGN_OR_RETURN(auto keys, this->inner().list(prefix));
    std::vector<std::string> live;
    live.reserve(keys.size());
    for (auto& key : keys) {
      BACKENDS_ASSIGN_OR_RETURN(bool listed, Listed(key));
      if (listed) live.push_back(std::move(key));
    }
    return live;
  }

  /// Pages of the inner store's listing, live entries only: a page is
  /// filled from as many inner pages as it takes.
  Result<KeyPage> list_page(std::string_view prefix,
                            std::string_view start_after,
                            std::size_t limit) override {
    limit = std::max<std::size_t>(limit, 1);
    KeyPage page;
    std::string after(start_after);
    while (true) {
      BACKENDS_ASSIGN_OR_RETURN(
          KeyPage inner,
          this->inner().list_page(prefix, after, limit - page.keys.size()));
      for (auto& key : inner.keys) {
        BACKENDS_ASSIGN_OR_RETURN(bool listed, Listed(key));
        if (listed) page.keys.push_back(key);
      }
      if (!inner.more || inner.keys.empty()) return page;
      if (page.keys.size() == limit) {
        page.more = true;
        return page;
      }
      after = std::move(inner.keys.back());
    }
  }

  /// Pages of the inner store's entry listing, live entries only, each
  /// described as this layer presents it (Presented); a common prefix only
  /// if it holds a live entry. A page is filled from as many inner pages as
  /// it takes.
  Result<EntryPage> list_entries(const ListRequest& request) override {
    const std::size_t limit = std::max<std::size_t>(request.limit, 1);
    EntryPage page;
    ListRequest next = request;
    while (true) {
      next.limit = limit - page.entries.size() - page.common_prefixes.size();
      BACKENDS_ASSIGN_OR_RETURN(EntryPage inner,
                                this->inner().list_entries(next));
      for (auto& entry : inner.entries) {
        BACKENDS_ASSIGN_OR_RETURN(auto info, Presented(entry));
        if (info) page.entries.push_back({std::move(entry.key), *info});
      }
      for (auto& common : inner.common_prefixes) {
        BACKENDS_ASSIGN_OR_RETURN(bool live,
                                  HoldsLive(common, request.start_after));
        if (live) page.common_prefixes.push_back(std::move(common));
      }
      if (!inner.resume_after.empty()) page.resume_after = inner.resume_after;
      if (!inner.more || inner.resume_after.empty()) return page;
      if (page.entries.size() + page.common_prefixes.size() == limit) {
        page.more = true;
        return page;
      }
      next.start_after = std::move(inner.resume_after);
    }
  }

  Result<bool> contains(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(Liveness state, Check("contains", key));
    return state == Liveness::kLive;
  }

  /// Counts live entries page by page (removing expired ones on the way).
  Result<std::size_t> size() override {
    std::size_t count = 0;
    std::string after;
    while (true) {
      BACKENDS_ASSIGN_OR_RETURN(KeyPage page,
                                this->list_page("", after, kPageSize));
      count += page.keys.size();
      if (!page.more || page.keys.empty()) return count;
      after = std::move(page.keys.back());
    }
  }

  Result<std::vector<Backend::Entry>> items() override {
    return Backend::items();  // list + load: live entries only.
  }

  Result<bool> remove(std::string_view key) override {
    // An entry that cannot be decoded may still be removed on purpose.
    auto state = Check("remove", key);
    if (!state.ok() && state.status().code() != ErrorCode::kDataLoss) {
      return std::move(state).status();
    }
    BACKENDS_ASSIGN_OR_RETURN(bool removed, this->inner().remove(key));
    index_.Forget(key);
    return removed && (!state.ok() || *state == Liveness::kLive);
  }

  Status clear() override {
    // The index first: a dump racing with clear() is re-indexed by Admit.
    index_.Clear();
    return this->inner().clear();
  }

  /// Walks the inner store's listing a page at a time: memory stays
  /// bounded by one page however many entries the store holds.
  Result<std::size_t> prune() override {
    std::size_t pruned = 0;
    std::string after;
    while (true) {
      BACKENDS_ASSIGN_OR_RETURN(
          KeyPage page, this->inner().list_page("", after, kPageSize));
      for (const auto& key : page.keys) {
        auto state = Check("prune", key);
        if (!state.ok() && state.status().code() != ErrorCode::kDataLoss) {
          return std::move(state).status();
        }
        if (state.ok() && *state == Liveness::kExpired) ++pruned;
      }
      if (!page.more || page.keys.empty()) return pruned;
      after = std::move(page.keys.back());
    }
  }

  CacheStats stats() const override { return counters_.Snapshot(); }
  std::chrono::seconds timeout() const override { return timeout_; }
  ExpiryOptions settings() const override { return settings_; }

 protected:
  /// Whether `key` is absent, live, or expired (then removed and counted).
  virtual Result<Liveness> Check(std::string_view operation,
                                 std::string_view key) = 0;

  /// The info a listing shows for the inner store's `entry`, as stat()
  /// would give it; nullopt when the entry is not live (an expired one is
  /// removed on the way). An entry that cannot be decoded is listed (as
  /// list() lists it) with the inner store's info.
  virtual Result<std::optional<KeyInfo>> Presented(const ListEntry& entry) = 0;

  /// Whether some live entry starts with `common` (after `start_after`).
  Result<bool> HoldsLive(const std::string& common,
                         std::string_view start_after) {
    ListRequest request{.prefix = common, .limit = 100};
    if (start_after.starts_with(common)) request.start_after = start_after;
    while (true) {
      BACKENDS_ASSIGN_OR_RETURN(EntryPage inner,
                                this->inner().list_entries(request));
      for (const auto& entry : inner.entries) {
        BACKENDS_ASSIGN_OR_RETURN(auto info, Presented(entry));
        if (info) return true;
      }
      if (!inner.more || inner.resume_after.empty()) return false;
      request.start_after = std::move(inner.resume_after);
    }
  }

  /// Whether a listing shows `key`: a live entry, or one that cannot be
  /// decoded (it still exists: load reports it).
  Result<bool> Listed(std::string_view key) {
    auto state = Check("list", key);
    if (!state.ok() && state.status().code() != ErrorCode::kDataLoss) {
      return std::move(state).status();
    }
    return !state.ok() || *state == Liveness::kLive;
  }

  /// Counts an expired entry removed, and forgets it.
  void Expired(std::string_view key) {
    ++counters_.expirations;
    index_.Forget(key);
  }
  void Hit(std::string_view key, std::uint64_t stored_size) {
    ++counters_.hits;
    index_.Touch(key, stored_size);
  }
  void Miss() { ++counters_.misses; }
  /// dump_if storing `stored` for the value. Expired entries count as
  /// absent: the layer's stat (which removes an expired entry) is checked
  /// first, then the inner store checks and writes in one step.
  Result<std::string> ConditionalDump(std::string_view key,
                                      std::string_view stored,
                                      const WriteCondition& condition) {
    if (condition.if_absent || condition.if_version) {
      BACKENDS_ASSIGN_OR_RETURN(auto info, this->stat(key));
      BACKENDS_RETURN_IF_ERROR(CheckWriteCondition(
          key, condition,
          info ? std::optional<std::string>(info->version) : std::nullopt));
    }
    BACKENDS_ASSIGN_OR_RETURN(std::string version,
                              this->inner().dump_if(key, stored, condition));
    Admitted(key, stored.size());
    return version;
  }
  /// After a successful dump: enforce the limits.
  void Admitted(std::string_view key, std::uint64_t stored_size) {
    if (!index_.limited()) return;
    Evict(this->inner(), index_, counters_, index_.Admit(key, stored_size));
  }

  const std::shared_ptr<Clock> clock_;
  const std::chrono::seconds timeout_;
  const JsonFormat format_;
  const ExpiryOptions settings_;
  LruIndex index_;
  Counters counters_;
};

}  // namespace backends::cache_internal

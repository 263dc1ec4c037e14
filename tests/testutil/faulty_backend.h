#pragma once

// FaultyBackend: a layer that makes chosen operations of its inner store
// fail with a chosen Status (leveldb's ErrorEnv, as a Backend). Thread-safe.
//
//   auto faulty = std::make_unique<FaultyBackend>(std::move(store));
//   faulty->Fail(FaultyBackend::Op::kLoad, UnavailableError("injected"));
//   faulty->Heal();

#include <array>
#include <mutex>
#include <optional>
#include <utility>

#include "backends/backend.h"

namespace backends::testing {

class FaultyBackend final : public BackendWrapper {
 public:
  enum class Op {
    kLoad,
    kDump,
    kRemove,
    kList,
    kStat,
    kContains,
    kSize,
    kItems,
    kClear,
    kCount
  };

  using BackendWrapper::BackendWrapper;

  /// Makes `op` fail with `status` (not OK) on its next `times` calls, or on
  /// every call while `times` is negative.
  void Fail(Op op, Status status, int times = -1) {
    std::scoped_lock lock(mutex_);
    faults_[Index(op)] = Fault{std::move(status), times};
  }
  /// Stops every injected failure.
  void Heal() {
    std::scoped_lock lock(mutex_);
    for (auto& fault : faults_) fault.reset();
  }
  /// How many calls of `op` reached this layer (failed or not).
  int calls(Op op) const {
    std::scoped_lock lock(mutex_);
    return calls_[Index(op)];
  }

  Result<std::optional<std::string>> load(std::string_view key) override {
    if (auto s = Take(Op::kLoad)) return *s;
    return BackendWrapper::load(key);
  }
  Status dump(std::string_view key, std::string_view value) override {
    if (auto s = Take(Op::kDump)) return *s;
    return BackendWrapper::dump(key, value);
  }
  Result<std::string> dump_if(std::string_view key, std::string_view value,
                              const WriteCondition& condition) override {
    if (auto s = Take(Op::kDump)) return *s;
    return inner().dump_if(key, value, condition);
  }
  Result<bool> remove(std::string_view key) override {
    if (auto s = Take(Op::kRemove)) return *s;
    return BackendWrapper::remove(key);
  }
  Result<std::vector<std::string>> list(std::string_view prefix) override {
    if (auto s = Take(Op::kList)) return *s;
    return BackendWrapper::list(prefix);
  }
  Result<KeyPage> list_page(std::string_view prefix,
                            std::string_view start_after,
                            std::size_t limit) override {
    if (auto s = Take(Op::kList)) return *s;
    return BackendWrapper::list_page(prefix, start_after, limit);
  }
  Result<std::optional<KeyInfo>> stat(std::string_view key) override {
    if (auto s = Take(Op::kStat)) return *s;
    return BackendWrapper::stat(key);
  }
  Result<bool> contains(std::string_view key) override {
    if (auto s = Take(Op::kContains)) return *s;
    return BackendWrapper::contains(key);
  }
  Result<std::size_t> size() override {
    if (auto s = Take(Op::kSize)) return *s;
    return BackendWrapper::size();
  }
  Result<std::vector<Entry>> items() override {
    if (auto s = Take(Op::kItems)) return *s;
    return BackendWrapper::items();
  }
  Status clear() override {
    if (auto s = Take(Op::kClear)) return *s;
    return BackendWrapper::clear();
  }

 private:
  struct Fault {
    Status status;
    int remaining;
  };
  static std::size_t Index(Op op) { return static_cast<std::size_t>(op); }

  std::optional<Status> Take(Op op) {
    std::scoped_lock lock(mutex_);
    ++calls_[Index(op)];
    auto& fault = faults_[Index(op)];
    if (!fault) return std::nullopt;
    Status status = fault->status;
    if (fault->remaining > 0 && --fault->remaining == 0) fault.reset();
    return status;
  }

  mutable std::mutex mutex_;
  // Guarded by mutex_.
  std::array<std::optional<Fault>, static_cast<std::size_t>(Op::kCount)>
      faults_;
  std::array<int, static_cast<std::size_t>(Op::kCount)> calls_{};
};

}  // namespace backends::testing

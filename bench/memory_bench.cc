// VolatileBackend against the map a user would write by hand: a
// std::unordered_map<std::string, std::string> under a std::shared_mutex,
// find + copy out under the shared lock (load), find + assign or insert
// under the exclusive lock (dump). 1000 keys, 1 and 2 threads, each thread
// walking the keys from its own offset.

#include <benchmark/benchmark.h>

#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/memory.h"
#include "bench_util.h"

namespace backends::bench {
namespace {

constexpr std::size_t kKeys = 1000;

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const {
    return std::hash<std::string_view>{}(s);
  }
};

class RawMap {
 public:
  std::optional<std::string> Find(std::string_view key) {
    std::shared_lock lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  void Put(std::string_view key, std::string_view value) {
    std::unique_lock lock(mutex_);
    auto it = map_.find(key);
    if (it != map_.end()) {
      it->second.assign(value);
    } else {
      map_.emplace(std::string(key), std::string(value));
    }
  }

 private:
  std::shared_mutex mutex_;
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>>
      map_;
};

// One store and one map per value size, filled before the first run.
struct Maps {
  std::string value;
  std::vector<std::string> keys;
  VolatileBackend store;
  RawMap raw;

  explicit Maps(std::size_t size) : value(MakeBytes(size)) {
    for (std::size_t i = 0; i < kKeys; ++i) {
      keys.push_back("users/" + KeyName(i));
      if (!store.dump(keys.back(), value).ok()) Die("memory dump");
      raw.Put(keys.back(), value);
    }
  }
  static Maps& Get(int64_t size) {
    static Maps small(100);
    static Maps medium(1024);
    static Maps large(64 << 10);
    return size <= 100 ? small : size <= 1024 ? medium : large;
  }
};

void Finish(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_LoadOurs(benchmark::State& state) {
  auto& m = Maps::Get(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 500;
  for (auto _ : state) {
    auto value = m.store.load(m.keys[i++ % kKeys]);
    if (!value.ok() || !*value) Die("memory load");
    benchmark::DoNotOptimize(value);
  }
  Finish(state);
}

void BM_LoadRaw(benchmark::State& state) {
  auto& m = Maps::Get(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 500;
  for (auto _ : state) {
    auto value = m.raw.Find(m.keys[i++ % kKeys]);
    if (!value) Die("map find");
    benchmark::DoNotOptimize(value);
  }
  Finish(state);
}

void BM_DumpOurs(benchmark::State& state) {
  auto& m = Maps::Get(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 500;
  for (auto _ : state) {
    if (!m.store.dump(m.keys[i++ % kKeys], m.value).ok()) Die("memory dump");
  }
  Finish(state);
}

void BM_DumpRaw(benchmark::State& state) {
  auto& m = Maps::Get(state.range(0));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 500;
  for (auto _ : state) m.raw.Put(m.keys[i++ % kKeys], m.value);
  Finish(state);
}

void Args(benchmark::internal::Benchmark* b) {
  for (int64_t size : {100, 1 << 10, 64 << 10}) b->Arg(size);
  b->Threads(1)->Threads(2)->UseRealTime();
}

BENCHMARK(BM_LoadOurs)->Name("memory/load/ours")->Apply(Args);
BENCHMARK(BM_LoadRaw)->Name("memory/load/raw")->Apply(Args);
BENCHMARK(BM_DumpOurs)->Name("memory/dump/ours")->Apply(Args);
BENCHMARK(BM_DumpRaw)->Name("memory/dump/raw")->Apply(Args);

}  // namespace
}  // namespace backends::bench

BENCHMARK_MAIN();

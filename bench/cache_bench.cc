// The original's caches (JsonCache, TextCache) in a folder: get of a live
// entry and set, on the 1 KiB JSON document of fs_bench and 1 KiB of text,
// 1000 keys. The peer is python3-diskcache (bench/diskcache_baseline.py),
// run by scripts/bench.sh in the same data folder on the same document.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "backends/cache.h"
#include "bench_util.h"

namespace backends::bench {
namespace {

constexpr std::size_t kKeys = 1000;

std::vector<std::string> Keys() {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < kKeys; ++i) keys.push_back(KeyName(i));
  return keys;
}

struct JsonCacheFolder {
  Json doc = MakeJsonDocument(1024);
  std::vector<std::string> keys = Keys();
  JsonCache cache = Check(JsonCache::Open(FreshDir("cache_json")), "open");
  JsonCacheFolder() {
    for (const auto& key : keys) Check(cache.set(key, doc), "set");
  }
  static JsonCacheFolder& Get() {
    static JsonCacheFolder folder;
    return folder;
  }
};

struct TextCacheFolder {
  std::string text = MakeBytes(1024);
  std::vector<std::string> keys = Keys();
  TextCache cache = Check(TextCache::Open(FreshDir("cache_text")), "open");
  TextCacheFolder() {
    for (const auto& key : keys) Check(cache.set(key, text), "set");
  }
  static TextCacheFolder& Get() {
    static TextCacheFolder folder;
    return folder;
  }
};

template <typename Folder>
void BM_Get(benchmark::State& state) {
  auto& f = Folder::Get();
  std::size_t i = 0;
  for (auto _ : state) {
    auto value = Check(f.cache.get(f.keys[i++ % kKeys]), "get");
    if (!value) Die("get: a live entry is missing");
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_JsonSet(benchmark::State& state) {
  auto& f = JsonCacheFolder::Get();
  std::size_t i = 0;
  for (auto _ : state) Check(f.cache.set(f.keys[i++ % kKeys], f.doc), "set");
  state.SetItemsProcessed(state.iterations());
}

void BM_TextSet(benchmark::State& state) {
  auto& f = TextCacheFolder::Get();
  std::size_t i = 0;
  for (auto _ : state) Check(f.cache.set(f.keys[i++ % kKeys], f.text), "set");
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Get<JsonCacheFolder>)->Name("cache/json_get/ours")->UseRealTime();
BENCHMARK(BM_JsonSet)->Name("cache/json_set/ours")->UseRealTime();
BENCHMARK(BM_Get<TextCacheFolder>)->Name("cache/text_get/ours")->UseRealTime();
BENCHMARK(BM_TextSet)->Name("cache/text_set/ours")->UseRealTime();

}  // namespace
}  // namespace backends::bench

BENCHMARK_MAIN();

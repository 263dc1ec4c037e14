// The original's caches (JsonCache, TextCache) in a folder: get of a live
// entry and set, on the 1 KiB JSON document of fs_bench and 1 KiB of text,
// 1000 keys. The peer is python3-diskcache (bench/diskcache_baseline.py),
// run by scripts/bench.sh in the same data folder on the same document.
// The raw baselines do what the file format needs, in the cache's folder,
// interleaved with ours: read a file; write a temporary file of the
// envelope's bytes and rename it over the key. json_get/ours is the
// steady state of a cache read again and again (decoded copies, served
// after a stat); json_get/no_copies reads and parses the file every time,
// as a get does for an entry changed in the last moment.

#include <benchmark/benchmark.h>

#include <filesystem>
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
  std::filesystem::path dir = FreshDir("cache_json");
  JsonCache cache = Check(JsonCache::Open(dir), "open");
  JsonCache no_copies =
      Check(JsonCache::Open(dir, {.decoded_bytes = 0}), "open");
  DirFd fd{dir};
  std::string envelope;  // the bytes set() writes for `doc`
  JsonCacheFolder() {
    for (const auto& key : keys) Check(cache.set(key, doc), "set");
    std::string buffer;
    envelope.assign(buffer.data(), RawLoad(fd.get(), keys[0].c_str(), buffer));
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

template <typename Cache>
void GetEach(benchmark::State& state, const Cache& cache,
             const std::vector<std::string>& keys) {
  std::size_t i = 0;
  for (auto _ : state) {
    auto value = Check(cache.get(keys[i++ % kKeys]), "get");
    if (!value) Die("get: a live entry is missing");
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}

template <typename Folder>
void BM_Get(benchmark::State& state) {
  auto& f = Folder::Get();
  GetEach(state, f.cache, f.keys);
}

void BM_JsonGetNoCopies(benchmark::State& state) {
  auto& f = JsonCacheFolder::Get();
  GetEach(state, f.no_copies, f.keys);
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

void BM_JsonGetRaw(benchmark::State& state) {
  auto& f = JsonCacheFolder::Get();
  std::string buffer;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        RawLoad(f.fd.get(), f.keys[i++ % kKeys].c_str(), buffer));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_JsonSetRaw(benchmark::State& state) {
  auto& f = JsonCacheFolder::Get();
  std::size_t i = 0;
  for (auto _ : state) {
    RawDump(f.fd.get(), f.keys[i++ % kKeys].c_str(), f.envelope);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Get<JsonCacheFolder>)->Name("cache/json_get/ours")->UseRealTime();
BENCHMARK(BM_JsonGetNoCopies)->Name("cache/json_get/no_copies")->UseRealTime();
BENCHMARK(BM_JsonGetRaw)->Name("cache/json_get/raw")->UseRealTime();
BENCHMARK(BM_JsonSetRaw)->Name("cache/json_set/raw")->UseRealTime();
BENCHMARK(BM_JsonSet)->Name("cache/json_set/ours")->UseRealTime();
BENCHMARK(BM_Get<TextCacheFolder>)->Name("cache/text_get/ours")->UseRealTime();
BENCHMARK(BM_TextSet)->Name("cache/text_set/ours")->UseRealTime();

}  // namespace
}  // namespace backends::bench

BENCHMARK_MAIN();

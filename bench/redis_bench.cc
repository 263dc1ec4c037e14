// RedisBackend against raw hiredis loops on the same kind of connection
// (hiredis's synchronous context over TCP to 127.0.0.1), 1 KiB values, on
// the server in REDIS_URL (scripts/bench.sh starts one):
//
//   redis/get/ours, redis/get/raw        one GET per iteration
//   redis/set/ours, redis/set/raw        one SET per iteration
//   redis/load_many/ours, .../raw        1,000 GETs: load_many, or the raw
//                                        loop's redisAppendCommand x1000
//                                        then redisGetReply x1000
//   redis/dump_many/ours, .../raw        the same with SETs
//   redis/cluster/load_many/ours         load_many of the 1,000 keys on the
//                                        Redis Cluster in REDIS_CLUSTER_URL
//                                        (3 masters), and .../one_node: the
//                                        same batch by the same store kind on
//                                        the plain server (one node)
//   redis/cluster/load_many/one_master   the same keys under a hash tag:
//                                        one slot, one master of the cluster
//                                        (with its replica, as the others)
//   redis/cluster/dump_many/ours, .../one_node, .../one_master   dump_many
//   redis/get/tls                        one GET by the store over TLS
//                                        (REDIS_TLS_URL), against .../raw
//                                        (plain): what TLS costs, no goal
//
// Each reports time per iteration; the ratio ours/raw is the figure.

#include <benchmark/benchmark.h>
#include <hiredis/hiredis.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends/redis.h"
#include "bench_util.h"

namespace backends::bench {
namespace {

constexpr int kKeys = 1000;
constexpr std::size_t kValueBytes = 1024;

RedisOptions Options() {
  const char* url = std::getenv("REDIS_URL");
  if (url == nullptr) Die("REDIS_URL is not set (scripts/bench.sh sets it)");
  RedisOptions options = Check(ParseRedisUrl(url), "REDIS_URL");
  options.prefix = "bench:";
  return options;
}

const std::vector<std::string>& Keys() {
  static const auto* keys = [] {
    auto* out = new std::vector<std::string>();
    for (int i = 0; i < kKeys; ++i) out->push_back("k" + std::to_string(i));
    return out;
  }();
  return *keys;
}

const std::string& Value() {
  static const std::string value = MakeBytes(kValueBytes);
  return value;
}

RedisBackend& Ours() {
  static RedisBackend* store = [] {
    auto made = Check(NewRedisBackend(Options()), "open");
    std::vector<std::pair<std::string, std::string>> items;
    for (const auto& key : Keys()) items.emplace_back(key, Value());
    for (const auto& status : made->dump_many(items)) Check(status, "fill");
    return made.release();
  }();
  return *store;
}

redisContext* Raw() {
  static redisContext* context = [] {
    const RedisOptions options = Options();
    redisContext* c = redisConnect(options.host.c_str(), options.port);
    if (c == nullptr || c->err != 0) Die("raw connect");
    return c;
  }();
  return context;
}

void Reply(void* reply) {
  auto* r = static_cast<redisReply*>(reply);
  if (r == nullptr || r->type == REDIS_REPLY_ERROR) Die("raw reply");
  freeReplyObject(r);
}

std::string Name(const std::string& key) { return "bench:" + key; }

// A store on the cluster, or nullptr without REDIS_CLUSTER_URL.
RedisBackend* OpenCluster(const std::string& prefix) {
  const char* url = std::getenv("REDIS_CLUSTER_URL");
  if (url == nullptr || *url == '\0') return nullptr;
  RedisOptions options = Check(ParseRedisUrl(url), "REDIS_CLUSTER_URL");
  options.prefix = prefix;
  auto made = Check(NewRedisBackend(options), "open the cluster");
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& key : Keys()) items.emplace_back(key, Value());
  for (const auto& status : made->dump_many(items)) Check(status, "fill");
  return made.release();
}

// The keys spread over the 3 masters.
RedisBackend* Cluster() {
  static RedisBackend* store = OpenCluster("bench:");
  return store;
}

// The same keys in one slot (a hash tag), so on one master of the cluster.
RedisBackend* ClusterOneSlot() {
  static RedisBackend* store = OpenCluster("{bench}:");
  return store;
}

void LoadMany(benchmark::State& state, RedisBackend& store) {
  for (auto _ : state) {
    auto values = store.load_many(Keys());
    for (const auto& value : values) {
      if (!value.ok() || !*value) Die("load_many");
    }
  }
}

void DumpMany(benchmark::State& state, RedisBackend& store) {
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& key : Keys()) items.emplace_back(key, Value());
  for (auto _ : state) {
    for (const auto& status : store.dump_many(items))
      Check(status, "dump_many");
  }
}

void BM_ClusterLoadMany(benchmark::State& state) {
  RedisBackend* cluster = Cluster();
  if (cluster == nullptr)
    return state.SkipWithError("REDIS_CLUSTER_URL is not set");
  LoadMany(state, *cluster);
}

void BM_ClusterOneSlotLoadMany(benchmark::State& state) {
  RedisBackend* cluster = ClusterOneSlot();
  if (cluster == nullptr)
    return state.SkipWithError("REDIS_CLUSTER_URL is not set");
  LoadMany(state, *cluster);
}

void BM_ClusterOneSlotDumpMany(benchmark::State& state) {
  RedisBackend* cluster = ClusterOneSlot();
  if (cluster == nullptr)
    return state.SkipWithError("REDIS_CLUSTER_URL is not set");
  DumpMany(state, *cluster);
}

void BM_ClusterDumpMany(benchmark::State& state) {
  RedisBackend* cluster = Cluster();
  if (cluster == nullptr)
    return state.SkipWithError("REDIS_CLUSTER_URL is not set");
  DumpMany(state, *cluster);
}

void BM_GetOurs(benchmark::State& state) {
  RedisBackend& store = Ours();
  std::size_t i = 0;
  for (auto _ : state) {
    auto value = store.load(Keys()[i++ % kKeys]);
    if (!value.ok() || !*value) Die("load");
    benchmark::DoNotOptimize(value);
  }
}

void BM_GetTls(benchmark::State& state) {
  static RedisBackend* store = []() -> RedisBackend* {
    const char* url = std::getenv("REDIS_TLS_URL");
    if (url == nullptr || *url == '\0') return nullptr;
    RedisOptions options = Check(ParseRedisUrl(url), "REDIS_TLS_URL");
    options.prefix = "bench:";
    auto made = Check(NewRedisBackend(options), "open over TLS");
    Check(made->dump(Keys()[0], Value()), "fill");
    return made.release();
  }();
  if (store == nullptr) return state.SkipWithError("REDIS_TLS_URL is not set");
  for (auto _ : state) {
    auto value = store->load(Keys()[0]);
    if (!value.ok() || !*value) Die("load over TLS");
    benchmark::DoNotOptimize(value);
  }
}

void BM_GetRaw(benchmark::State& state) {
  Ours();  // the keys exist
  redisContext* c = Raw();
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string name = Name(Keys()[i++ % kKeys]);
    Reply(redisCommand(c, "GET %b", name.data(), name.size()));
  }
}

void BM_SetOurs(benchmark::State& state) {
  RedisBackend& store = Ours();
  std::size_t i = 0;
  for (auto _ : state) Check(store.dump(Keys()[i++ % kKeys], Value()), "dump");
}

void BM_SetRaw(benchmark::State& state) {
  redisContext* c = Raw();
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string name = Name(Keys()[i++ % kKeys]);
    Reply(redisCommand(c, "SET %b %b", name.data(), name.size(), Value().data(),
                       Value().size()));
  }
}

void BM_LoadManyOurs(benchmark::State& state) { LoadMany(state, Ours()); }

void BM_LoadManyRaw(benchmark::State& state) {
  Ours();
  redisContext* c = Raw();
  std::vector<std::string> names;
  for (const auto& key : Keys()) names.push_back(Name(key));
  for (auto _ : state) {
    for (const auto& name : names) {
      redisAppendCommand(c, "GET %b", name.data(), name.size());
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
      void* reply = nullptr;
      if (redisGetReply(c, &reply) != REDIS_OK) Die("raw pipeline");
      Reply(reply);
    }
  }
}

void BM_DumpManyOurs(benchmark::State& state) { DumpMany(state, Ours()); }

void BM_DumpManyRaw(benchmark::State& state) {
  redisContext* c = Raw();
  std::vector<std::string> names;
  for (const auto& key : Keys()) names.push_back(Name(key));
  for (auto _ : state) {
    for (const auto& name : names) {
      redisAppendCommand(c, "SET %b %b", name.data(), name.size(),
                         Value().data(), Value().size());
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
      void* reply = nullptr;
      if (redisGetReply(c, &reply) != REDIS_OK) Die("raw pipeline");
      Reply(reply);
    }
  }
}

BENCHMARK(BM_GetOurs)->Name("redis/get/ours")->UseRealTime();
BENCHMARK(BM_GetRaw)->Name("redis/get/raw")->UseRealTime();
BENCHMARK(BM_GetTls)->Name("redis/get/tls")->UseRealTime();
BENCHMARK(BM_SetOurs)->Name("redis/set/ours")->UseRealTime();
BENCHMARK(BM_SetRaw)->Name("redis/set/raw")->UseRealTime();
BENCHMARK(BM_LoadManyOurs)->Name("redis/load_many/ours")->UseRealTime();
BENCHMARK(BM_LoadManyRaw)->Name("redis/load_many/raw")->UseRealTime();
BENCHMARK(BM_DumpManyOurs)->Name("redis/dump_many/ours")->UseRealTime();
BENCHMARK(BM_DumpManyRaw)->Name("redis/dump_many/raw")->UseRealTime();
BENCHMARK(BM_ClusterLoadMany)
    ->Name("redis/cluster/load_many/ours")
    ->UseRealTime();
BENCHMARK(BM_LoadManyOurs)
    ->Name("redis/cluster/load_many/one_node")
    ->UseRealTime();
BENCHMARK(BM_ClusterOneSlotLoadMany)
    ->Name("redis/cluster/load_many/one_master")
    ->UseRealTime();
BENCHMARK(BM_ClusterDumpMany)
    ->Name("redis/cluster/dump_many/ours")
    ->UseRealTime();
BENCHMARK(BM_ClusterOneSlotDumpMany)
    ->Name("redis/cluster/dump_many/one_master")
    ->UseRealTime();
BENCHMARK(BM_DumpManyOurs)
    ->Name("redis/cluster/dump_many/one_node")
    ->UseRealTime();

}  // namespace
}  // namespace backends::bench

BENCHMARK_MAIN();

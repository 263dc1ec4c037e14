// The filesystem store against the raw syscalls it needs, in one folder.
//
// Each pair "<group>/ours/..." and "<group>/raw/..." does the same work on
// the same files in the same sub-folder of the data folder (see
// bench_util.h), and runs interleaved with the other in one process
// (--benchmark_enable_random_interleaving), so bench/report.py can divide
// one by the other. Baselines:
//   dump   temp file (O_EXCL) + write + close + rename     [+ fsync file/dir]
//   load   open + read to EOF + close (a reused buffer: the floor)
//   load+parse  the same, then simdjson's DOM parse (the fastest packaged
//          parser, see json_bench.cc)
//   remove unlink
//   keys   std::filesystem::recursive_directory_iterator, collecting the
//          relative names of regular files (unsorted; keys() sorts)
//   range  load_range of 4 KiB at a random offset of a 1 GiB value vs
//          openat + pread + close of the same bytes (the store opens the
//          key's file per call, so the raw side does too)

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/file.h"
#include "bench_util.h"

namespace backends::bench {
namespace {

constexpr std::size_t kJsonBytes = 1024;

// 1 KiB JSON documents in the original's format, one folder, 1000 keys.
struct JsonFolder {
  static constexpr std::size_t kKeys = 1000;
  std::filesystem::path dir = FreshDir("json");
  Json doc = MakeJsonDocument(kJsonBytes);
  std::string text = ToOriginalJson(doc);
  std::vector<std::string> keys;
  FileSystemJsonBackend store =
      Check(FileSystemJsonBackend::Open(dir), "open json store");
  DirFd fd{dir};

  JsonFolder() {
    for (std::size_t i = 0; i < kKeys; ++i) keys.push_back(KeyName(i));
    Populate(dir, kKeys, text);
  }
  static JsonFolder& Get() {
    static JsonFolder folder;
    return folder;
  }
};

void SetCounters(benchmark::State& state, std::size_t bytes) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}

void BM_JsonDumpOurs(benchmark::State& state) {
  auto& f = JsonFolder::Get();
  std::size_t i = 0;
  for (auto _ : state) {
    Check(f.store.dump(f.keys[i++ % f.kKeys], f.doc), "dump");
  }
  SetCounters(state, f.text.size());
}

void BM_JsonDumpRaw(benchmark::State& state) {
  auto& f = JsonFolder::Get();
  std::size_t i = 0;
  for (auto _ : state) {
    RawDump(f.fd.get(), f.keys[i++ % f.kKeys].c_str(), f.text);
  }
  SetCounters(state, f.text.size());
}

void BM_JsonLoadOurs(benchmark::State& state) {
  auto& f = JsonFolder::Get();
  std::size_t i = 0;
  for (auto _ : state) {
    auto value = Check(f.store.load(f.keys[i++ % f.kKeys]), "load");
    if (!value) Die("load: missing key");
    benchmark::DoNotOptimize(value);
  }
  SetCounters(state, f.text.size());
}

void BM_JsonLoadRawRead(benchmark::State& state) {
  auto& f = JsonFolder::Get();
  std::string buffer;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        RawLoad(f.fd.get(), f.keys[i++ % f.kKeys].c_str(), buffer));
  }
  SetCounters(state, f.text.size());
}

void BM_JsonLoadRawReadSimdjson(benchmark::State& state) {
  auto& f = JsonFolder::Get();
  std::string buffer;
  simdjson::dom::parser parser;
  std::size_t i = 0;
  for (auto _ : state) {
    std::size_t n = RawLoad(f.fd.get(), f.keys[i++ % f.kKeys].c_str(), buffer);
    simdjson::dom::element root;
    if (parser.parse(buffer.data(), n).get(root)) Die("simdjson parse");
    benchmark::DoNotOptimize(root);
  }
  SetCounters(state, f.text.size());
}

BENCHMARK(BM_JsonDumpOurs)->Name("fs/json_dump/ours")->UseRealTime();
BENCHMARK(BM_JsonDumpRaw)->Name("fs/json_dump/raw")->UseRealTime();
BENCHMARK(BM_JsonLoadOurs)->Name("fs/json_load/ours")->UseRealTime();
BENCHMARK(BM_JsonLoadRawRead)->Name("fs/json_load/raw")->UseRealTime();
BENCHMARK(BM_JsonLoadRawReadSimdjson)
    ->Name("fs/json_load/raw+simdjson")
    ->UseRealTime();

// Byte values of several sizes through FileBackend; one folder per size,
// holding at most 64 MiB.
struct BytesFolder {
  std::size_t size;
  std::size_t count;
  std::filesystem::path dir;
  std::string value;
  std::vector<std::string> keys;
  std::unique_ptr<FileBackend> store;
  std::unique_ptr<DirFd> fd;

  explicit BytesFolder(std::size_t bytes)
      : size(bytes),
        count(std::clamp<std::size_t>((64u << 20) / bytes, 16, 1000)),
        dir(FreshDir("bytes_" + std::to_string(bytes))),
        value(MakeBytes(bytes)) {
    for (std::size_t i = 0; i < count; ++i) keys.push_back(KeyName(i));
    Populate(dir, count, value);
    store = Check(FileBackend::Open(dir), "open byte store");
    fd = std::make_unique<DirFd>(dir);
  }
  static BytesFolder& Get(std::size_t bytes) {
    static std::map<std::size_t, std::unique_ptr<BytesFolder>> folders;
    auto& slot = folders[bytes];
    if (!slot) slot = std::make_unique<BytesFolder>(bytes);
    return *slot;
  }
};

void BM_BytesDumpOurs(benchmark::State& state) {
  auto& f = BytesFolder::Get(static_cast<std::size_t>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state)
    Check(f.store->dump(f.keys[i++ % f.count], f.value), "dump");
  SetCounters(state, f.size);
}

void BM_BytesDumpRaw(benchmark::State& state) {
  auto& f = BytesFolder::Get(static_cast<std::size_t>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state)
    RawDump(f.fd->get(), f.keys[i++ % f.count].c_str(), f.value);
  SetCounters(state, f.size);
}

void BM_BytesLoadOurs(benchmark::State& state) {
  auto& f = BytesFolder::Get(static_cast<std::size_t>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state) {
    auto value = Check(f.store->load(f.keys[i++ % f.count]), "load");
    if (!value) Die("load: missing key");
    benchmark::DoNotOptimize(value);
  }
  SetCounters(state, f.size);
}

void BM_BytesLoadRaw(benchmark::State& state) {
  auto& f = BytesFolder::Get(static_cast<std::size_t>(state.range(0)));
  std::string buffer;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        RawLoad(f.fd->get(), f.keys[i++ % f.count].c_str(), buffer));
  }
  SetCounters(state, f.size);
}

void SizeArgs(benchmark::internal::Benchmark* b) {
  for (int64_t size : {100, 1 << 10, 64 << 10, 1 << 20}) b->Arg(size);
  b->UseRealTime();
}

BENCHMARK(BM_BytesDumpOurs)->Name("fs/bytes_dump/ours")->Apply(SizeArgs);
BENCHMARK(BM_BytesDumpRaw)->Name("fs/bytes_dump/raw")->Apply(SizeArgs);
BENCHMARK(BM_BytesLoadOurs)->Name("fs/bytes_load/ours")->Apply(SizeArgs);
BENCHMARK(BM_BytesLoadRaw)->Name("fs/bytes_load/raw")->Apply(SizeArgs);

// remove vs unlink: each iteration creates a batch of files (not timed) and
// removes them (timed by hand), so both sides delete files of the same age.
struct RemoveFolder {
  static constexpr std::size_t kBatch = 100;
  std::filesystem::path dir = FreshDir("remove");
  std::string value = MakeBytes(1024);
  std::vector<std::string> keys;
  std::unique_ptr<FileBackend> store =
      Check(FileBackend::Open(dir), "open remove store");
  DirFd fd{dir};
  RemoveFolder() {
    for (std::size_t i = 0; i < kBatch; ++i) keys.push_back(KeyName(i));
  }
  static RemoveFolder& Get() {
    static RemoveFolder folder;
    return folder;
  }
};

template <bool kOurs>
void BM_Remove(benchmark::State& state) {
  auto& f = RemoveFolder::Get();
  for (auto _ : state) {
    for (const auto& key : f.keys) RawDump(f.fd.get(), key.c_str(), f.value);
    auto start = std::chrono::steady_clock::now();
    for (const auto& key : f.keys) {
      if constexpr (kOurs) {
        if (!Check(f.store->remove(key), "remove")) Die("remove: missing");
      } else {
        if (::unlinkat(f.fd.get(), key.c_str(), 0) != 0) Die("unlink");
      }
    }
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
  }
  state.SetItemsProcessed(state.iterations() * RemoveFolder::kBatch);
}

BENCHMARK(BM_Remove<true>)->Name("fs/remove/ours")->UseManualTime();
BENCHMARK(BM_Remove<false>)->Name("fs/remove/raw")->UseManualTime();

// keys() over 10k keys: flat (one folder) or nested (100 folders x 100).
struct KeysFolder {
  static constexpr std::size_t kKeys = 10000;
  std::filesystem::path dir;
  std::unique_ptr<FileBackend> store;

  explicit KeysFolder(bool nested)
      : dir(FreshDir(nested ? "keys_nested" : "keys_flat")) {
    std::string value = "{\"v\": 1}";
    if (nested) {
      for (std::size_t d = 0; d < 100; ++d) {
        auto sub = dir / KeyName(d);
        std::filesystem::create_directory(sub);
        Populate(sub, kKeys / 100, value);
      }
    } else {
      Populate(dir, kKeys, value);
    }
    store = Check(FileBackend::Open(dir), "open keys store");
  }
  static KeysFolder& Get(bool nested) {
    static KeysFolder flat(false);
    static KeysFolder deep(true);
    return nested ? deep : flat;
  }
};

void BM_KeysOurs(benchmark::State& state) {
  auto& f = KeysFolder::Get(state.range(0) != 0);
  for (auto _ : state) {
    auto keys = Check(f.store->keys(), "keys");
    if (keys.size() != KeysFolder::kKeys) Die("keys: wrong count");
    benchmark::DoNotOptimize(keys);
  }
  state.SetItemsProcessed(state.iterations() * KeysFolder::kKeys);
}

void BM_KeysWalk(benchmark::State& state) {
  auto& f = KeysFolder::Get(state.range(0) != 0);
  const std::size_t root_len = f.dir.native().size() + 1;
  for (auto _ : state) {
    std::vector<std::string> keys;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(f.dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_regular_file(ec))
        keys.push_back(it->path().native().substr(root_len));
    }
    if (ec || keys.size() != KeysFolder::kKeys) Die("walk");
    benchmark::DoNotOptimize(keys);
  }
  state.SetItemsProcessed(state.iterations() * KeysFolder::kKeys);
}

BENCHMARK(BM_KeysOurs)
    ->Name("fs/keys10k/ours")
    ->ArgName("nested")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime();
BENCHMARK(BM_KeysWalk)
    ->Name("fs/keys10k/walk")
    ->ArgName("nested")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime();

// Durable mode: fsync of the file and of its folder on every dump.
struct DurableFolder {
  static constexpr std::size_t kKeys = 100;
  std::filesystem::path dir = FreshDir("durable");
  std::string value = MakeBytes(1024);
  std::vector<std::string> keys;
  std::unique_ptr<FileBackend> store =
      Check(FileBackend::Open(dir, FileOptions{.durable = true}),
            "open durable store");
  DirFd fd{dir};
  DurableFolder() {
    for (std::size_t i = 0; i < kKeys; ++i) keys.push_back(KeyName(i));
    Populate(dir, kKeys, value);
  }
  static DurableFolder& Get() {
    static DurableFolder folder;
    return folder;
  }
};

void BM_DurableDumpOurs(benchmark::State& state) {
  auto& f = DurableFolder::Get();
  std::size_t i = 0;
  for (auto _ : state) {
    Check(f.store->dump(f.keys[i++ % f.kKeys], f.value), "durable dump");
  }
  SetCounters(state, f.value.size());
}

void BM_DurableDumpRaw(benchmark::State& state) {
  auto& f = DurableFolder::Get();
  std::size_t i = 0;
  for (auto _ : state) {
    RawDump(f.fd.get(), f.keys[i++ % f.kKeys].c_str(), f.value, true);
  }
  SetCounters(state, f.value.size());
}

BENCHMARK(BM_DurableDumpOurs)->Name("fs/durable_dump/ours")->UseRealTime();
BENCHMARK(BM_DurableDumpRaw)->Name("fs/durable_dump/raw")->UseRealTime();

// One 1 GiB value (written once, real bytes, not a sparse file).
struct BigValue {
  static constexpr std::uint64_t kBytes = std::uint64_t{1} << 30;
  static constexpr std::uint64_t kRange = 4096;
  std::filesystem::path dir = FreshDir("range");
  std::unique_ptr<FileBackend> store =
      Check(FileBackend::Open(dir), "open range store");
  DirFd fd{dir};
  BigValue() {
    const std::string chunk = MakeBytes(1 << 20);
    RepeatedSource source(chunk, kBytes);
    Check(store->dump_stream("big", source), "write the 1 GiB value");
  }
  static BigValue& Get() {
    static BigValue value;
    return value;
  }
  // Offsets spread over the value, the same sequence for both sides.
  static std::uint64_t Offset(std::uint64_t i) {
    return (i * 2654435761u * kRange) % (kBytes - kRange);
  }
};

void BM_RangeOurs(benchmark::State& state) {
  auto& big = BigValue::Get();
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto got = Check(big.store->load_range("big", BigValue::Offset(i++),
                                           BigValue::kRange),
                     "load_range");
    if (!got || got->size() != BigValue::kRange) Die("load_range: short read");
    benchmark::DoNotOptimize(got->data());
  }
  SetCounters(state, BigValue::kRange);
}

void BM_RangeRaw(benchmark::State& state) {
  auto& big = BigValue::Get();
  std::string buffer(BigValue::kRange, '\0');
  std::uint64_t i = 0;
  for (auto _ : state) {
    const int file = ::openat(big.fd.get(), "big", O_RDONLY | O_CLOEXEC);
    if (file < 0) Die("open big");
    const ssize_t n =
        ::pread(file, buffer.data(), buffer.size(),
                static_cast<off_t>(BigValue::Offset(i++)));
    ::close(file);
    if (n != static_cast<ssize_t>(buffer.size())) Die("pread: short read");
    benchmark::DoNotOptimize(buffer.data());
  }
  SetCounters(state, BigValue::kRange);
}

BENCHMARK(BM_RangeOurs)->Name("fs/range4k_of_1g/ours")->UseRealTime();
BENCHMARK(BM_RangeRaw)->Name("fs/range4k_of_1g/raw")->UseRealTime();

}  // namespace
}  // namespace backends::bench

BENCHMARK_MAIN();

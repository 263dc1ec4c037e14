// Peak resident memory (VmHWM) of single operations, in one process:
//
//   rss_probe keys DIR OUT.json     keys() over 100k keys of a FileBackend in
//                                   DIR (created once, raw, then reused)
//   rss_probe decoded DIR OUT.json  a JsonCache in DIR reading 4000 settled
//                                   1 KiB entries once: its decoded copies
//   rss_probe s3-up OUT.json [MiB]  a 1 GiB (or MiB) S3 upload through
//                                   dump_stream (S3_* / AWS_* environment)
//   rss_probe s3-down OUT.json [MiB]  its download through load_stream (in
//                                   a fresh process), then removes it
//
// Before each operation the peak is reset (`5` to /proc/self/clear_refs),
// so the figure is the operation's own peak above the resident size before
// it. OUT.json holds {"figures": [{"name", "value", "unit"}]} for
// bench/report.py.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "backends/cache.h"
#include "backends/file.h"
#include "bench_util.h"
#if BACKENDS_WITH_S3
#include "backends/s3.h"
#endif

namespace backends::bench {
namespace {

constexpr std::size_t kKeyCount = 100'000;

struct Figure {
  std::string name;
  double value;
  std::string unit;
};

// Runs `op`; returns its peak above the resident size before it, in bytes.
template <typename Op>
double PeakAbove(Op&& op) {
  ResetPeak();
  std::size_t before = ProcStatusBytes("VmRSS");
  op();
  std::size_t peak = ProcStatusBytes("VmHWM");
  return peak > before ? static_cast<double>(peak - before) : 0.0;
}

void Write(const std::string& out, const std::vector<Figure>& figures) {
  std::FILE* f = std::fopen(out.c_str(), "w");
  if (!f) Die("cannot write " + out);
  std::fprintf(f, "{\"figures\": [\n");
  for (std::size_t i = 0; i < figures.size(); ++i) {
    std::fprintf(f,
                 "  {\"name\": \"%s\", \"value\": %.6g, \"unit\": \"%s\"}%s\n",
                 figures[i].name.c_str(), figures[i].value,
                 figures[i].unit.c_str(), i + 1 < figures.size() ? "," : "");
    std::printf("%s = %.6g %s\n", figures[i].name.c_str(), figures[i].value,
                figures[i].unit.c_str());
  }
  std::fprintf(f, "]}\n");
  std::fclose(f);
}

int Keys(const std::filesystem::path& dir, const std::string& out) {
  std::filesystem::create_directories(dir);
  // Beside the folder, not in it: every file in it is a key.
  auto marker = dir.parent_path() / (dir.filename().string() + ".populated");
  if (!std::filesystem::exists(marker)) {
    Populate(dir, kKeyCount, "v");
    std::ofstream(marker) << "done\n";
  }
  auto store = Check(FileBackend::Open(dir), "open the folder");
  std::size_t count = 0;
  auto start = std::chrono::steady_clock::now();
  double peak = PeakAbove([&] {
    auto keys = Check(store->keys(), "keys()");
    count = keys.size();
  });
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (count != kKeyCount) {
    Die("keys() returned " + std::to_string(count) + " keys, expected " +
        std::to_string(kKeyCount));
  }
  Write(out, {{"rss/keys100k/peak", peak / (1 << 20), "MiB"},
              {"rss/keys100k/per_key", peak / kKeyCount, "B"},
              {"rss/keys100k/time", seconds * 1e3, "ms"}});
  return 0;
}

int Decoded(const std::filesystem::path& dir, const std::string& out) {
  constexpr std::size_t kEntries = 4000;
  std::filesystem::remove_all(dir);
  const Json doc = MakeJsonDocument(1024);
  auto cache = Check(JsonCache::Open(dir, {.decoded_bytes = 1ull << 30}),
                     "open the cache");
  for (std::size_t i = 0; i < kEntries; ++i) {
    Check(cache.set(KeyName(i), doc), "set");
  }
  // Copies are made of settled files only: wait for the last one written.
  auto files = Check(FileBackend::Open(dir), "open the folder");
  for (int tries = 0;; ++tries) {
    std::optional<FileStamp> settled;
    Check(files->load_stamped(KeyName(kEntries - 1), settled), "load");
    if (settled) break;
    if (tries == 5000) Die("the entries did not settle in 5 s");
    usleep(1000);
  }
  std::uint64_t stored = 0;
  double peak = PeakAbove([&] {
    for (std::size_t i = 0; i < kEntries; ++i) {
      Check(cache.get(KeyName(i)), "get");
    }
  });
  for (std::size_t i = 0; i < kEntries; ++i) {
    stored += Check(files->stat(KeyName(i)), "stat")->size;
  }
  if (cache.stats().decoded_hits != 0) Die("copies existed before the reads");
  for (std::size_t i = 0; i < kEntries; ++i)
    Check(cache.get(KeyName(i)), "get");
  if (cache.stats().decoded_hits != kEntries) Die("not every entry was copied");
  Write(out, {{"rss/decoded_copies/peak", peak / (1 << 20), "MiB"},
              {"rss/decoded_copies/per_stored_byte",
               peak / static_cast<double>(stored), "x"}});
  return 0;
}

#if BACKENDS_WITH_S3
// `size` deterministic bytes, made piece by piece.
class PatternSource final : public ByteSource {
 public:
  explicit PatternSource(std::uint64_t size) : size_(size) {}
  Result<std::size_t> Read(std::span<char> buffer) override {
    std::size_t n = static_cast<std::size_t>(
        std::min<std::uint64_t>(buffer.size(), size_ - at_));
    for (std::size_t i = 0; i < n; ++i) {
      buffer[i] = static_cast<char>('a' + (at_ + i) % 23);
    }
    at_ += n;
    return n;
  }
  std::optional<std::uint64_t> size() const override { return size_; }

 private:
  std::uint64_t size_;
  std::uint64_t at_ = 0;
};

// Counts what it receives and checks it against the pattern.
class CheckingSink final : public ByteSink {
 public:
  Status Write(std::string_view piece) override {
    for (std::size_t i = 0; i < piece.size(); i += 4093) {
      if (piece[i] != static_cast<char>('a' + (at_ + i) % 23)) {
        Die("load_stream: wrong byte at " + std::to_string(at_ + i));
      }
    }
    at_ += piece.size();
    return Status();
  }
  std::uint64_t received() const { return at_; }

 private:
  std::uint64_t at_ = 0;
};

const char* EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

int S3(bool upload, const std::string& out, std::uint64_t mib) {
  S3Options options;
  options.endpoint = EnvOr("S3_ENDPOINT", "");
  options.bucket = EnvOr("S3_BUCKET", "testbucket");
  options.region = EnvOr("AWS_DEFAULT_REGION", "us-east-1");
  options.access_key_id = EnvOr("AWS_ACCESS_KEY_ID", "");
  options.secret_access_key = EnvOr("AWS_SECRET_ACCESS_KEY", "");
  options.addressing = S3Addressing::kPathStyle;
  options.prefix = "bench/";
  if (options.endpoint.empty()) Die("S3_ENDPOINT is not set");
  auto store = Check(S3Backend::Open(options), "open the S3 store");
  std::uint64_t size = mib << 20;
  const std::string key = "stream-probe";
  CheckingSink sink;
  auto start = std::chrono::steady_clock::now();
  double peak = PeakAbove([&] {
    if (upload) {
      PatternSource source(size);
      Check(store->dump_stream(key, source), "dump_stream");
    } else if (!Check(store->load_stream(key, sink), "load_stream")) {
      Die("load_stream: no value (run s3-up first)");
    }
  });
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (!upload) {
    if (sink.received() != size) Die("load_stream: wrong size");
    Check(store->remove(key), "remove the probe object");
  }
  std::string tag = "rss/s3_stream_" + std::to_string(mib) + "MiB/" +
                    (upload ? "upload" : "download");
  Write(out, {{tag + "_peak", peak / (1 << 20), "MiB"},
              {tag + "_rate", static_cast<double>(mib) / seconds, "MiB/s"}});
  return 0;
}
#endif

}  // namespace
}  // namespace backends::bench

int main(int argc, char** argv) {
  using namespace backends::bench;
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "keys" && argc == 4) return Keys(argv[2], argv[3]);
  if (mode == "decoded" && argc == 4) return Decoded(argv[2], argv[3]);
#if BACKENDS_WITH_S3
  if ((mode == "s3-up" || mode == "s3-down") && (argc == 3 || argc == 4)) {
    return S3(mode == "s3-up", argv[2],
              argc == 4 ? std::stoull(argv[3]) : 1024);
  }
#endif
  std::fprintf(stderr,
               "usage: rss_probe keys|decoded DIR OUT.json | rss_probe "
               "s3-up|s3-down OUT.json [MiB]\n");
  return 2;
}

// gzip as S3RawBackend does it (libdeflate, src/s3/gzip.h) against zlib at
// the same level (6, zlib's default) on the same input; compressed sizes are
// reported as the counter "compressed". Inputs: real scripts and styles from
// Debian packages (libjs-jquery, libjs-bootstrap4; scripts/install-deps.sh
// bench), where present, and 1 MiB of generated JavaScript-like text
// (functions, calls, literals and comments from a small vocabulary), which
// is not like real files (libdeflate's level 6 loses 5% on it to zlib's):
// it is kept to show that.

#include <benchmark/benchmark.h>
#include <zlib.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "s3/gzip.h"

namespace backends::bench {
namespace {

std::string ZlibGzip(const std::string& in, int level) {
  z_stream z{};
  // windowBits 15 + 16: a gzip wrapper, as GzipCompress writes.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    Die("deflateInit2");
  }
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) Die("deflate");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string ZlibGunzip(const std::string& in, std::size_t size) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) Die("inflateInit2");
  std::string out(size, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (inflate(&z, Z_FINISH) != Z_STREAM_END) Die("inflate");
  inflateEnd(&z);
  return out;
}

void Finish(benchmark::State& state, const std::string& in,
            std::size_t compressed) {
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(in.size()));
  state.counters["compressed"] = static_cast<double>(compressed);
}

void CompressOurs(benchmark::State& state, const std::string& in, int level) {
  std::size_t size = 0;
  for (auto _ : state) {
    auto out = s3::GzipCompress(in, level);
    if (!out.ok()) Die("GzipCompress");
    size = out->size();
    benchmark::DoNotOptimize(out);
  }
  Finish(state, in, size);
}

void CompressZlib(benchmark::State& state, const std::string& in) {
  std::size_t size = 0;
  for (auto _ : state) {
    auto out = ZlibGzip(in, 6);
    size = out.size();
    benchmark::DoNotOptimize(out);
  }
  Finish(state, in, size);
}

void DecompressOurs(benchmark::State& state, const std::string& in) {
  std::string packed = ZlibGzip(in, 6);
  for (auto _ : state) {
    auto out = s3::GzipDecompress(packed, "bench");
    if (!out.ok() || *out != in) Die("GzipDecompress");
    benchmark::DoNotOptimize(out);
  }
  Finish(state, in, packed.size());
}

void DecompressZlib(benchmark::State& state, const std::string& in) {
  std::string packed = ZlibGzip(in, 6);
  for (auto _ : state) {
    auto out = ZlibGunzip(packed, in.size());
    if (out != in) Die("inflate: wrong bytes");
    benchmark::DoNotOptimize(out);
  }
  Finish(state, in, packed.size());
}

// (name, contents) of every input present on this machine.
std::vector<std::pair<std::string, std::string>> Inputs() {
  std::vector<std::pair<std::string, std::string>> inputs;
  const std::pair<const char*, const char*> files[] = {
      {"jquery.js", "/usr/share/javascript/jquery/jquery.js"},
      {"bootstrap.css", "/usr/share/javascript/bootstrap4/css/bootstrap.css"},
      {"bootstrap.js", "/usr/share/javascript/bootstrap4/js/bootstrap.js"}};
  for (const auto& [name, path] : files) {
    std::ifstream file(path, std::ios::binary);
    if (!file) continue;
    std::ostringstream text;
    text << file.rdbuf();
    inputs.emplace_back(name, text.str());
  }
  inputs.emplace_back("generated", GeneratedJavaScript(42));
  return inputs;
}

void Register() {
  static const auto inputs = Inputs();
  for (const auto& [name, in] : inputs) {
    const std::string& text = in;
    // Levels above 6 show what libdeflate needs to match zlib 6's size.
    for (int level = 6; level <= (name == "generated" ? 8 : 6); ++level) {
      benchmark::RegisterBenchmark(
          ("gzip/compress/ours/" + name + "/level:" + std::to_string(level))
              .c_str(),
          [&text, level](benchmark::State& s) {
            CompressOurs(s, text, level);
          });
    }
    benchmark::RegisterBenchmark(
        ("gzip/compress/zlib/" + name + "/level:6").c_str(),
        [&text](benchmark::State& s) { CompressZlib(s, text); });
    benchmark::RegisterBenchmark(
        ("gzip/decompress/ours/" + name).c_str(),
        [&text](benchmark::State& s) { DecompressOurs(s, text); });
    benchmark::RegisterBenchmark(
        ("gzip/decompress/zlib/" + name).c_str(),
        [&text](benchmark::State& s) { DecompressZlib(s, text); });
  }
}

}  // namespace
}  // namespace backends::bench

int main(int argc, char** argv) {
  backends::bench::Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

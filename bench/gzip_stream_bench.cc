// Streaming gzip of a 256 MiB JavaScript file, as S3 uploads of the gzip
// types do it (s3::GzipStreamCompressor reading the file in chunks), against
// libdeflate compressing the whole file in memory at the same level
// (s3::GzipCompress, what dump() uses), in the same run:
//
//   gzip_stream_bench DIR [MiB]
//
// Goals: time <= 1.2x the whole-buffer time, size within 1%, and peak RSS
// of the streaming path <= 64 MiB. The file is written to DIR first (and
// removed at the end); the streaming path runs first, before the process
// has held the whole file, and its peak is VmHWM after clear_refs (as
// rss_probe.cc measures). Times are the best of three alternating rounds.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "bench_util.h"
#include "s3/gzip.h"
#include "s3/gzip_stream.h"

namespace backends::bench {
namespace {

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

struct Streamed {
  double seconds = 0;
  std::uint64_t size = 0;
  double peak_mib = 0;
};

Streamed Stream(const std::string& path) {
  ResetPeak();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Die("open " + path);
  Streamed result;
  const auto start = std::chrono::steady_clock::now();
  {
    s3::GzipStreamCompressor gzip(
        [fd](char* buffer, std::size_t n) -> Result<std::size_t> {
          while (true) {
            ssize_t got = ::read(fd, buffer, n);
            if (got >= 0) return static_cast<std::size_t>(got);
            if (errno != EINTR) return IOError("read");
          }
        });
    std::string out(256 << 10, '\0');
    while (true) {
      std::size_t n = Check(gzip.Read(out.data(), out.size()), "gzip");
      if (n == 0) break;
      result.size += n;
    }
  }
  result.seconds = Seconds(start);
  result.peak_mib = static_cast<double>(ProcStatusBytes("VmHWM")) / (1 << 20);
  ::close(fd);
  return result;
}

int Run(const std::string& dir, std::uint64_t mib) {
  const std::string path = dir + "/gzip-stream-bench.js";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    // A different MiB each time (no repeat within deflate's reach).
    for (std::uint64_t i = 0; i < mib; ++i) {
      out << GeneratedJavaScript(i * 0x9E3779B97F4A7C15ull + 1);
    }
    if (!out.flush()) Die("write " + path);
  }
  double best_stream = 1e300, best_whole = 1e300, peak = 0;
  std::uint64_t stream_size = 0, whole_size = 0;
  for (int round = 0; round < 3; ++round) {
    Streamed streamed = Stream(path);
    best_stream = std::min(best_stream, streamed.seconds);
    peak = std::max(peak, streamed.peak_mib);
    stream_size = streamed.size;
    std::string whole;
    {
      std::ifstream in(path, std::ios::binary);
      whole.assign(std::istreambuf_iterator<char>(in), {});
    }
    const auto start = std::chrono::steady_clock::now();
    auto compressed = Check(s3::GzipCompress(whole, 6), "GzipCompress");
    best_whole = std::min(best_whole, Seconds(start));
    whole_size = compressed.size();
  }
  ::unlink(path.c_str());
  const double time_ratio = best_stream / best_whole;
  const double size_ratio =
      static_cast<double>(stream_size) / static_cast<double>(whole_size);
  std::printf(
      "gzip_stream/%lluMiB_js level 6 (best of 3)\n"
      "  streaming (GzipStreamCompressor): %.3f s, %llu bytes, peak RSS "
      "%.1f MiB (goal <= 64 MiB)\n"
      "  libdeflate whole buffer:          %.3f s, %llu bytes\n"
      "  time ratio %.3f (goal <= 1.2), size ratio %.4f (goal <= 1.01)\n",
      static_cast<unsigned long long>(mib), best_stream,
      static_cast<unsigned long long>(stream_size), peak, best_whole,
      static_cast<unsigned long long>(whole_size), time_ratio, size_ratio);
  return time_ratio <= 1.2 && size_ratio <= 1.01 && peak <= 64 ? 0 : 1;
}

}  // namespace
}  // namespace backends::bench

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: gzip_stream_bench DIR [MiB (256)]\n");
    return 2;
  }
  return backends::bench::Run(argv[1], argc == 3 ? std::stoull(argv[2]) : 256);
}

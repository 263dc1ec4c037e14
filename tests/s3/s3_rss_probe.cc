// A child process for the peak-memory test (s3_large.cc): moves one object
// between a file and the S3 test server with the streaming calls, then
// prints its own peak resident set (VmHWM from /proc/self/status), so the
// figure covers this transfer only.
//
//   s3_rss_probe upload PREFIX KEY PATH     dump_file(KEY, PATH)
//   s3_rss_probe download PREFIX KEY PATH   load_to_file(KEY, PATH)
//
// Reads S3_ENDPOINT, S3_BUCKET and the credentials from the environment.
// Prints "vmhwm_kib=N seconds=S" and exits 0, or prints the error, exits 1.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "backends/s3.h"

namespace {

long PeakKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s upload|download PREFIX KEY PATH\n",
                 argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  backends::S3Options options;
  const char* bucket = std::getenv("S3_BUCKET");
  const char* endpoint = std::getenv("S3_ENDPOINT");
  options.bucket = bucket == nullptr ? "" : bucket;
  options.endpoint = endpoint == nullptr ? "" : endpoint;
  options.prefix = argv[2];
  auto store = backends::S3Backend::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  backends::Status status;
  if (mode == "upload") {
    status = (*store)->dump_file(argv[3], argv[4]);
  } else if (mode == "download") {
    auto loaded = (*store)->load_to_file(argv[3], argv[4]);
    status = loaded.status();
    if (loaded.ok() && !*loaded) {
      status = backends::NotFoundError("no such key");
    }
  } else {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("vmhwm_kib=%ld seconds=%.3f\n", PeakKib(), seconds);
  return 0;
}

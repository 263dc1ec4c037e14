// One of the processes of many_process_test.cc: runs the stress workload
// (stress_ops.h) on a folder shared with the other workers.
//
//   reliability_stress_worker file|json ROOT WORKER WORKERS OPERATIONS SEED
//
// file: a FileBackend; json: a JsonCache folder (its byte store, JSON text).
// Prints "dumps loads hits removes lists conflicts" on success (exit 0); on
// an unexpected answer prints it on stderr and exits 1.

#include <sys/prctl.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "backends/cache.h"
#include "backends/file.h"
#include "reliability/stress_ops.h"

int main(int argc, char** argv) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc != 7) {
    std::fprintf(stderr,
                 "usage: %s file|json ROOT WORKER WORKERS OPERATIONS SEED\n",
                 argv[0]);
    return 64;
  }
  const std::string mode = argv[1];
  backends::reliability::StressConfig config{
      .worker = std::strtoull(argv[3], nullptr, 10),
      .workers = std::strtoull(argv[4], nullptr, 10),
      .operations = std::strtoull(argv[5], nullptr, 10),
      .seed = std::strtoull(argv[6], nullptr, 10),
      .json_values = mode == "json"};
  backends::reliability::StressResult r;
  if (mode == "json") {
    auto cache = backends::JsonCache::Open(
        argv[2], backends::CacheOptions{.timeout = backends::kNeverExpires});
    if (!cache.ok()) {
      std::fprintf(stderr, "open: %s\n", cache.status().ToString().c_str());
      return 1;
    }
    r = backends::reliability::RunStress(cache->store(), config);
  } else {
    auto file = backends::FileBackend::Open(argv[2]);
    if (!file.ok()) {
      std::fprintf(stderr, "open: %s\n", file.status().ToString().c_str());
      return 1;
    }
    r = backends::reliability::RunStress(**file, config);
  }
  if (!r.error.empty()) {
    std::fprintf(stderr, "worker %s: %s\n", argv[3], r.error.c_str());
    return 1;
  }
  std::printf("%llu %llu %llu %llu %llu %llu\n",
              static_cast<unsigned long long>(r.dumps),
              static_cast<unsigned long long>(r.loads),
              static_cast<unsigned long long>(r.hits),
              static_cast<unsigned long long>(r.removes),
              static_cast<unsigned long long>(r.lists),
              static_cast<unsigned long long>(r.conflicts));
  return 0;
}

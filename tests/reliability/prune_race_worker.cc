// One process of prune_race_test.cc's process variant:
//
//   reliability_prune_race_worker json|text writer ROOT ID ROUNDS
//   reliability_prune_race_worker json|text pruner|reader ROOT STOPFILE
//
// A writer prints "rounds lost transient_misses" (exit 0) or an error on stderr
// (exit 1). A pruner or reader runs until STOPFILE exists, then exits 0, or 1
// on error.

#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "reliability/prune_race.h"

using backends::reliability::CacheKind;

int main(int argc, char** argv) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s json|text ROLE ROOT ...\n", argv[0]);
    return 64;
  }
  const CacheKind kind =
      std::string(argv[1]) == "json" ? CacheKind::kJson : CacheKind::kText;
  const std::string role = argv[2];
  if (role == "writer" && argc == 6) {
    auto r = backends::reliability::RunRaceWriter(
        kind, argv[3], std::atoi(argv[4]), std::strtoull(argv[5], nullptr, 10));
    if (!r.error.empty()) {
      std::fprintf(stderr, "writer %s: %s\n", argv[4], r.error.c_str());
      return 1;
    }
    std::printf("%llu %llu %llu\n", static_cast<unsigned long long>(r.rounds),
                static_cast<unsigned long long>(r.lost),
                static_cast<unsigned long long>(r.transient_misses));
    return 0;
  }
  std::atomic<bool> stop{false};
  const std::string stop_file = argv[4];
  std::thread watcher([&] {
    while (::access(stop_file.c_str(), F_OK) != 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    stop = true;
  });
  std::string error = backends::reliability::RunRacePruner(
      kind, argv[3], role == "reader", stop);
  watcher.join();
  if (!error.empty()) {
    std::fprintf(stderr, "%s: %s\n", role.c_str(), error.c_str());
    return 1;
  }
  return 0;
}

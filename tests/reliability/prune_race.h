#pragma once

// The prune race (issue 20): a writer makes an entry expired, then fresh
// again, while pruners and readers remove the expired entries they find. A
// removal that lands after the fresh write loses a live entry. Shared by
// prune_race_test.cc (threads) and prune_race_worker.cc (processes).
//
// Each writer owns its keys "w<ID>/k<0..kKeysPerWriter>", visited in turn;
// before rewriting a key it checks that the key still holds the fresh value
// it wrote there on the previous visit (a lost entry stays lost, so the
// pruners have a whole cycle to do their damage), and once more at the end.
// A file store's remove_if takes a file aside before checking it, so a key
// may be missing for a moment while a fresh value is being put back: the
// writer counts that as a transient miss if the value is back within a
// second, and as lost if it is not.

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "backends/cache.h"

namespace backends::reliability {

enum class CacheKind { kJson, kText };

inline constexpr int kKeysPerWriter = 8;

struct RaceResult {
  std::uint64_t rounds = 0;
  std::uint64_t lost = 0;
  std::uint64_t transient_misses = 0;
  std::string error;  // The first unexpected error, if any.
};

// The writer's side: `rounds` expired-then-fresh rewrites.
RaceResult RunRaceWriter(CacheKind kind, const std::filesystem::path& root,
                         int writer, std::uint64_t rounds);

// Prunes (and, with `read`, loads every key: the expired-on-read path) until
// `stop` is set. Returns the first unexpected error, or "".
std::string RunRacePruner(CacheKind kind, const std::filesystem::path& root,
                          bool read, const std::atomic<bool>& stop);

}  // namespace backends::reliability

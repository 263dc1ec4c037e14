#pragma once

// The mixed workload of the many-process and many-thread tests: random
// dump / load / remove / list on a small set of overlapping keys, with
// sealed values (sealed_value.h), checking every answer as it goes.
//
// Keys: shared/k0..k7 and shared/deep/a/b/k0..k3 (whose folders are pruned
// by one worker's remove while another dumps beneath them), plus the
// conflicting pair "c" and "c/x" (a value where the other needs a folder).
// The only error a worker accepts is kFailedPrecondition on that pair, which
// file.h documents; anything else, and any load or list answer that is not
// a complete sealed value of the key asked for, stops the worker with a
// message.

#include <cstdint>
#include <string>
#include <vector>

#include "backends/backend.h"

namespace backends::reliability {

struct StressConfig {
  /// 0-based; generations written by worker w are (w << 40) | n.
  std::uint64_t worker = 0;
  std::uint64_t workers = 1;
  std::uint64_t operations = 1000;
  std::uint64_t seed = 1;
  /// Values are JSON strings holding the sealed text (for JSON stores).
  bool json_values = false;
};

struct StressResult {
  std::uint64_t dumps = 0, loads = 0, hits = 0, removes = 0, lists = 0;
  /// Documented kFailedPrecondition answers on the conflicting pair.
  std::uint64_t conflicts = 0;
  /// The first unexpected answer; empty if none.
  std::string error;
};

/// Every key the workload touches.
std::vector<std::string> StressKeys();

/// Runs `config.operations` random operations on `store`.
StressResult RunStress(Backend& store, const StressConfig& config);

/// Checks the value a key holds at rest: absent, or a complete sealed value
/// of that key written by one of `workers` workers. Returns "" if legal.
std::string CheckAtRest(Backend& store, const std::string& key,
                        std::uint64_t workers, bool json_values);

}  // namespace backends::reliability

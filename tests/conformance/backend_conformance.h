#pragma once

// The conformance suite: one set of behavioural tests that every store, view
// and layer must pass. A store's test file instantiates it:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, BackendConformanceTest,
//       ::testing::Values(BackendFactory{
//           .name = "memory",
//           .make = [](const std::filesystem::path&) -> FactoryResult {
//             return std::make_unique<VolatileBackend>();
//           }}),
//       BackendFactoryName);
//
// Capabilities default to strict; a case a store cannot do skips with a
// reason, never silently.

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/status.h"
#include "testutil/temp_dir.h"

namespace backends::testing {

using FactoryResult = Result<std::unique_ptr<Backend>>;

struct BackendFactory {
  std::string name;
  /// Makes a fresh, empty store. `scratch` is a new empty folder the store
  /// may use (a file store's root); it outlives the store. Stores on shared
  /// servers (S3) must use a fresh prefix each call.
  std::function<FactoryResult(const std::filesystem::path& scratch)> make;

  /// Makes a valid value of about `size` bytes that round-trips unchanged
  /// through the store. `seed` varies the content. The default makes
  /// arbitrary bytes (all 256 byte values) when `binary_values` is set, else
  /// printable ASCII text.
  std::function<std::string(int seed, std::size_t size)> make_value;

  /// The store keeps any bytes (NUL, invalid UTF-8) as values.
  bool binary_values = true;
  /// Keys invalid for this store beyond the library-wide rule (ValidateKey):
  /// each must be rejected with kInvalidArgument on dump, load, remove and
  /// contains.
  std::vector<std::string> extra_invalid_keys;
  /// Keys valid for this store that other stores may reject; each must
  /// round-trip.
  std::vector<std::string> extra_valid_keys;
  /// Several threads dumping and loading at once (all stores must, unless a
  /// reason is given here).
  std::string no_concurrency_reason;
  /// Threads and operations per thread for the concurrency cases: network
  /// stores use fewer.
  int threads = 4;
  int operations_per_thread = 200;
};

inline void PrintTo(const BackendFactory& factory, std::ostream* os) {
  *os << factory.name;
}

/// For INSTANTIATE_TEST_SUITE_P: the factory's name as the test's suffix.
std::string BackendFactoryName(
    const ::testing::TestParamInfo<BackendFactory>& info);

/// Expects `seen` (the keys or common prefixes pages gave, in order) to be
/// sorted, without a repeat, and to start with `first`.
void ExpectListedOnceInOrder(const std::vector<std::string>& seen,
                             const std::vector<std::string>& first);

class BackendConformanceTest : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// The factory's value generator (or the default).
  std::string Value(int seed, std::size_t size = 32) const;

  /// For the cases that page while keys come and go: in round `round`,
  /// writes "k/<101 + round>" and "k/0<round>" (keys on both sides of a
  /// position moving through "k/1.."), and removes "k/<138 - 2 round>".
  Status ChurnKeys(int round);

  std::unique_ptr<ScopedTempDir> temp_;
  std::filesystem::path scratch_;
  std::unique_ptr<Backend> store_;
};

}  // namespace backends::testing

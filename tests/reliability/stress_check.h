#pragma once

// The final-state check shared by the many-process and many-thread tests.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "backends/backend.h"
#include "backends/file.h"
#include "reliability/stress_ops.h"

namespace backends::reliability {

/// After every worker is done: every key is absent or a complete value of
/// its own; the conflicting pair is never both present; keys() lists only
/// workload keys; no temporary file is left anywhere under `root`.
inline void ExpectLegalFinalState(Backend& store,
                                  const std::filesystem::path& root,
                                  std::uint64_t workers, bool json_values) {
  const auto keys = StressKeys();
  for (const auto& key : keys) {
    EXPECT_EQ(CheckAtRest(store, key, workers, json_values), "") << key;
  }
  auto listed = store.list("");
  ASSERT_TRUE(listed.ok()) << listed.status();
  for (const auto& key : *listed) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  }
  bool c = std::find(listed->begin(), listed->end(), "c") != listed->end();
  bool cx = std::find(listed->begin(), listed->end(), "c/x") != listed->end();
  EXPECT_FALSE(c && cx) << "\"c\" is both a value and a folder";
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(root)) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(kTempFilePrefix))
        << "temporary file left behind: " << entry.path();
  }
}

}  // namespace backends::reliability

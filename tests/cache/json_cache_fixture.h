#pragma once

// A JsonCache in a fresh folder, on a FakeClock.

#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "backends/cache.h"
#include "testutil/fake_clock.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {

class JsonCacheFolderTest : public ::testing::Test {
 protected:
  JsonCache Open(CacheOptions options = {}) {
    options.clock = clock_;
    auto cache = JsonCache::Open(dir_.path(), options);
    EXPECT_THAT(cache, IsOk());
    return std::move(cache).value();
  }

  ScopedTempDir dir_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
};

}  // namespace backends::testing

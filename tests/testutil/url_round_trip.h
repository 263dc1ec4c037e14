#pragma once

// The check that a store's url() reopens exactly it: OpenStore(url) gives
// the same layers (by type), the same format and timeout, a store whose
// url() is the same text, and (for stores that persist) the same data in
// both directions.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <typeinfo>
#include <vector>

#include "backends/cache.h"
#include "backends/open.h"
#include "backends/view.h"
#include "testutil/status_matchers.h"

namespace backends::testing {

/// The type of each layer, outermost first.
inline std::vector<std::string> LayerTypes(const Backend& store) {
  std::vector<std::string> out;
  for (const Backend* at = &store; at != nullptr;) {
    out.push_back(typeid(*at).name());
    auto* wrapper = dynamic_cast<const BackendWrapper*>(at);
    at = wrapper != nullptr ? &wrapper->inner() : nullptr;
  }
  return out;
}

inline std::string FormatName(ValueFormat format) {
  switch (format) {
    case ValueFormat::kText:
      return std::string(TextCodec::kUrlFormat);
    case ValueFormat::kJson:
      return std::string(JsonCodec::kUrlFormat);
    case ValueFormat::kRaw:
      break;
  }
  return std::string(RawCodec::kUrlFormat);
}

/// `original` is the byte store beneath the object whose url() is `url`;
/// `format` the format of that object's values.
inline void ExpectUrlReopens(Backend& original, const std::string& url,
                             ValueFormat format, bool persistent = true) {
  SCOPED_TRACE("url: " + url);
  auto reopened = OpenStore(url);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  Backend& again = *reopened->backend;
  EXPECT_EQ(reopened->format, format);
  EXPECT_EQ(LayerTypes(again), LayerTypes(original));
  // A cache's format is implied by its kind (JsonCache::url() has none).
  EXPECT_EQ(reopened->cache != CacheKind::kNone ? again.url()
            : format == ValueFormat::kJson
                ? ViewUrl(again, JsonCodec{reopened->json_format})
                : ViewUrl(again, FormatName(format)),
            url);
  auto* expiring = dynamic_cast<ExpiringBackend*>(&original);
  if (expiring != nullptr) {
    auto* reopened_expiring = dynamic_cast<ExpiringBackend*>(&again);
    ASSERT_NE(reopened_expiring, nullptr);
    const ExpiryOptions want = expiring->settings();
    const ExpiryOptions got = reopened_expiring->settings();
    EXPECT_EQ(got.timeout, want.timeout);
    EXPECT_EQ(got.limits.max_entries, want.limits.max_entries);
    EXPECT_EQ(got.limits.max_bytes, want.limits.max_bytes);
    EXPECT_EQ(got.decoded_bytes, want.decoded_bytes);
    // Every negative indent writes the same compact text.
    EXPECT_EQ(std::max(got.format.indent, -1), std::max(want.format.indent, -1));
    EXPECT_EQ(got.format.ensure_ascii, want.format.ensure_ascii);
  }
  if (!persistent) return;
  // A value valid in every format: JSON text that is UTF-8.
  BACKENDS_ASSERT_OK(original.dump("round/trip", "\"there\""));
  ASSERT_OK_AND_ASSIGN(auto there, again.load("round/trip"));
  ASSERT_TRUE(there.has_value());
  EXPECT_EQ(*there, *original.load("round/trip").value());
  BACKENDS_ASSERT_OK(again.dump("round/back", "[1]"));
  ASSERT_OK_AND_ASSIGN(auto back, original.load("round/back"));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, *again.load("round/back").value());
}

}  // namespace backends::testing

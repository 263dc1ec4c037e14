// The JsonCache envelope reader: any bytes stored under a key of the
// envelope layer (over a memory store, with a fixed clock) load as a live
// value, as missing (expired: then removed), or fail with kDataLoss and are
// left in place. A live value is valid JSON. A value dumped through the
// layer loads back equal.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "backends/cache.h"
#include "backends/memory.h"
#include "fuzz_check.h"

namespace {

class FixedClock final : public backends::Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    // 2024-05-01T12:00:00Z
    return std::chrono::system_clock::time_point(
        std::chrono::seconds(1714564800));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  using namespace backends;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto layer = NewJsonEnvelopeBackend(
      std::make_unique<VolatileBackend>(),
      ExpiryOptions{.clock = std::make_shared<FixedClock>()});
  FUZZ_CHECK(layer.ok(), layer.status().ToString());
  JsonEnvelopeBackend& cache = **layer;
  FUZZ_CHECK(cache.inner().dump("k", bytes).ok(), "inner dump");
  auto loaded = cache.load("k");
  auto still_there = cache.inner().load("k");
  FUZZ_CHECK(still_there.ok(), still_there.status().ToString());
  if (!loaded.ok()) {
    FUZZ_CHECK(loaded.status().code() == ErrorCode::kDataLoss,
               loaded.status().ToString());
    FUZZ_CHECK(still_there->has_value() && **still_there == bytes,
               "a corrupt entry was changed or deleted");
  } else if (!loaded->has_value()) {
    FUZZ_CHECK(!still_there->has_value(), "an expired entry was kept");
  } else {
    auto json = ParseJson(**loaded);
    FUZZ_CHECK(json.ok(), "live value is not JSON: " + **loaded);
    // What we write, we read back.
    FUZZ_CHECK(cache.dump("k2", **loaded).ok(), **loaded);
    auto back = cache.load_json("k2");
    FUZZ_CHECK(back.ok() && back->has_value() && **back == *json, **loaded);
  }
  // Through the typed form as well.
  auto as_json = cache.load_json("k");
  if (!as_json.ok()) {
    FUZZ_CHECK(as_json.status().code() == ErrorCode::kDataLoss,
               as_json.status().ToString());
  }
  return 0;
}

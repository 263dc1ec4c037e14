// ParseJson / DumpJson: any text either fails with kDataLoss or parses to a
// value that DumpJson writes (in the original's format, compactly, and as
// UTF-8), that parses back to an equal value, and whose second dump is
// byte-identical to the first.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "backends/json.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  using namespace backends;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseJson(text);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == ErrorCode::kDataLoss,
               parsed.status().ToString());
    return 0;
  }
  for (const JsonFormat& format :
       {JsonFormat{}, JsonFormat{.indent = -1},
        JsonFormat{.indent = 2, .ensure_ascii = false}}) {
    auto dumped = DumpJson(*parsed, format);
    FUZZ_CHECK(dumped.ok(), dumped.status().ToString());
    auto again = ParseJson(*dumped);
    FUZZ_CHECK(again.ok(), again.status().ToString() + " for " + *dumped);
    FUZZ_CHECK(*again == *parsed, *dumped);
    auto redumped = DumpJson(*again, format);
    FUZZ_CHECK(redumped.ok() && *redumped == *dumped, *dumped);
  }
  return 0;
}

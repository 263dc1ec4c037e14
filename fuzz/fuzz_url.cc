// Url::Parse: any text either fails with kInvalidArgument or parses; a
// parsed URL written back with PercentEncode parses to the same URL.

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "backends/open.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  using namespace backends;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto url = Url::Parse(text);
  if (!url.ok()) {
    FUZZ_CHECK(url.status().code() == ErrorCode::kInvalidArgument,
               url.status().ToString());
    return 0;
  }
  for (unsigned char c : url->scheme) {
    FUZZ_CHECK(!std::isupper(c), url->scheme);
  }
  FUZZ_CHECK(url->authority.find_first_of("/?") == std::string::npos,
             url->authority);
  std::string rebuilt =
      url->scheme + "://" + url->authority + PercentEncode(url->path, "/");
  for (std::size_t i = 0; i < url->query.size(); ++i) {
    rebuilt += i == 0 ? "?" : "&";
    rebuilt += PercentEncode(url->query[i].first) + "=" +
               PercentEncode(url->query[i].second);
  }
  auto again = Url::Parse(rebuilt);
  FUZZ_CHECK(again.ok(), again.status().ToString());
  FUZZ_CHECK(again->scheme == url->scheme, rebuilt);
  FUZZ_CHECK(again->authority == url->authority, rebuilt);
  FUZZ_CHECK(again->path == url->path, rebuilt);
  FUZZ_CHECK(again->query == url->query, rebuilt);
  for (const auto& [name, value] : url->query) {
    FUZZ_CHECK(url->Param(name).has_value(), name);
  }
  return 0;
}

// The S3 XML readers of listing and bulk deletion, and the time and key
// decoders they use: any bytes either parse or fail with kDataLoss; a
// truncated page always carries a continuation token.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "s3/list_objects.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  using namespace backends;
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto page = s3::ParseListObjectsV2(xml, "list \"prefix/\"");
  if (!page.ok()) {
    FUZZ_CHECK(page.status().code() == ErrorCode::kDataLoss,
               page.status().ToString());
  } else if (page->truncated) {
    FUZZ_CHECK(!page->next_token.empty(), "truncated page without a token");
  }
  auto deleted = s3::ParseDeleteObjectsResult(xml, "clear");
  if (!deleted.ok()) {
    FUZZ_CHECK(deleted.status().code() == ErrorCode::kDataLoss,
               deleted.status().ToString());
  }
  (void)s3::ParseIso8601(xml);
  (void)s3::ParseHttpDate(xml);
  std::string decoded = s3::UrlDecodeKey(xml);
  FUZZ_CHECK(decoded.size() <= xml.size(), "decoding grew the key");
  std::string escaped = s3::XmlEscape(xml);
  FUZZ_CHECK(escaped.find('<') == std::string::npos, escaped);
  std::string body = s3::BuildDeleteObjectsXml({std::string(xml), "b"});
  FUZZ_CHECK(body.find(escaped) != std::string::npos, "key not in body");
  return 0;
}

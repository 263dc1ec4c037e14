// The S3 XML readers of listing and bulk deletion, and the time and key
// decoders they use: any bytes either parse, or fail with kDataLoss, or (an
// <Error> document, which S3 may send inside a 200) fail with the error it
// names; a truncated page always carries a continuation token. The input split
// at 0x1e bytes is also a series of pages for ListingGuard, whose verdict must
// match a plain model of its rules (keys strictly ascending across pages,
// common prefixes too, no token twice, fewer than kMaxEmptyListPages
// truncated pages in a row without a key or common prefix), refusing with
// kDataLoss only.

#include <cstddef>
#include <cstdint>
#include <pugixml.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "iso8601.h"
#include "s3/list_objects.h"

namespace {

// Whether `xml` is an <Error> document: its failure is the error it names,
// not kDataLoss.
bool IsErrorDocument(std::string_view xml) {
  pugi::xml_document doc;
  return doc.load_buffer(xml.data(), xml.size()) &&
         std::string_view(doc.document_element().name()) == "Error";
}

// A failed parse of `xml`: kDataLoss, or any error an <Error> names.
void CheckParseFailure(std::string_view xml, const backends::Status& status) {
  if (IsErrorDocument(xml)) return;
  FUZZ_CHECK(status.code() == backends::ErrorCode::kDataLoss,
             status.ToString());
}

// Feeds the pages in `input` (split at 0x1e) to a ListingGuard and checks
// each verdict against the model.
void CheckListingGuard(std::string_view input) {
  using namespace backends;
  s3::ListingGuard guard("list \"\"");
  std::string last;
  bool any = false;
  std::string last_prefix;
  bool any_prefix = false;
  std::set<std::string> tokens;
  int empty_run = 0;
  while (!input.empty()) {
    const auto end = input.find('\x1e');
    auto page = s3::ParseListObjectsV2(input.substr(0, end), "list \"\"");
    input = end == std::string_view::npos ? "" : input.substr(end + 1);
    if (!page.ok()) continue;
    bool expect_ok = true;
    for (const auto& object : page->objects) {
      if (any && !(last < object.key)) expect_ok = false;
      any = true;
      last = object.key;
    }
    for (const auto& prefix : page->common_prefixes) {
      if (any_prefix && !(last_prefix < prefix)) expect_ok = false;
      any_prefix = true;
      last_prefix = prefix;
    }
    if (expect_ok && page->truncated) {
      if (!tokens.insert(page->next_token).second) expect_ok = false;
      const bool empty = page->objects.empty() && page->common_prefixes.empty();
      empty_run = empty ? empty_run + 1 : 0;
      if (empty_run >= s3::kMaxEmptyListPages) expect_ok = false;
    }
    Status verdict = guard.Check(*page);
    FUZZ_CHECK(verdict.ok() == expect_ok, verdict.ToString());
    if (!verdict.ok()) {
      FUZZ_CHECK(verdict.code() == ErrorCode::kDataLoss, verdict.ToString());
      return;  // a listing stops at the first fault
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  using namespace backends;
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto page = s3::ParseListObjectsV2(xml, "list \"prefix/\"");
  if (!page.ok()) {
    CheckParseFailure(xml, page.status());
  } else if (page->truncated) {
    FUZZ_CHECK(!page->next_token.empty(), "truncated page without a token");
  }
  auto deleted = s3::ParseDeleteObjectsResult(xml, "clear");
  if (!deleted.ok()) CheckParseFailure(xml, deleted.status());
  (void)internal::ParseIsoTimePoint(xml);
  (void)s3::ParseHttpDate(xml);
  std::string decoded = s3::UrlDecodeKey(xml);
  FUZZ_CHECK(decoded.size() <= xml.size(), "decoding grew the key");
  std::string escaped = s3::XmlEscape(xml);
  FUZZ_CHECK(escaped.find('<') == std::string::npos, escaped);
  std::string body = s3::BuildDeleteObjectsXml({std::string(xml), "b"});
  FUZZ_CHECK(body.find(escaped) != std::string::npos, "key not in body");
  CheckListingGuard(xml);
  return 0;
}

#pragma once

// The XML side of listing and bulk deletion, and S3's time formats.
//
// ListObjectsV2 answers at most 1000 keys per page; the caller follows
// `next_token` (NextContinuationToken) until `truncated` is false. Keys are
// requested with encoding-type=url, so keys holding characters XML 1.0
// cannot carry still list; the parser decodes them.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "backends/status.h"

namespace backends::s3 {

/// DeleteObjects takes at most this many keys per request.
inline constexpr std::size_t kMaxDeleteBatch = 1000;
/// ListObjectsV2 answers at most this many keys a page (max-keys).
inline constexpr std::size_t kMaxListPage = 1000;

struct ListedObject {
  std::string key;  // full object key (prefix included), decoded
  std::uint64_t size = 0;
  std::optional<std::chrono::system_clock::time_point> modified;
  std::string etag;  // as S3 writes it, quotes included
};

struct ListPage {
  std::vector<ListedObject> objects;
  /// With a delimiter: the CommonPrefixes (full, decoded), ascending.
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_token;  // NextContinuationToken when truncated
};

/// Parses a ListBucketResult. Errors: kDataLoss naming `context` for a
/// document that is not one, or a truncated page without a token.
Result<ListPage> ParseListObjectsV2(std::string_view xml,
                                    std::string_view context);

/// Truncated pages in a row that list neither a key nor a common prefix
/// before a listing is refused as not advancing (S3 may answer an empty page,
/// e.g. past many delete markers, but not without end).
inline constexpr int kMaxEmptyListPages = 1000;

/// Checks the pages of one listing as they arrive, so a broken server
/// cannot make it loop for ever. S3 lists keys in ascending
/// byte order and each continuation token names a later position.
class ListingGuard {
 public:
  /// `context` names the listing in messages.
  explicit ListingGuard(std::string context) : context_(std::move(context)) {}

  /// Checks the next page. Errors: kDataLoss naming the server's fault for
  /// a key that does not come after the key listed before it (on this page
  /// or an earlier one), the same for a common prefix, a
  /// NextContinuationToken already used, or kMaxEmptyListPages truncated
  /// pages in a row that list nothing.
  Status Check(const ListPage& page);

 private:
  Status Fault(const std::string& what) const;

  const std::string context_;
  int pages_ = 0;
  int empty_in_a_row_ = 0;
  bool any_key_ = false;
  std::string last_key_;
  bool any_prefix_ = false;
  std::string last_prefix_;
  std::unordered_set<std::string> tokens_;
};

/// The <Delete> body for `keys` (full object keys), quiet mode (the answer
/// lists only failures). Keys are XML-escaped; REQUIRES: at most
/// kMaxDeleteBatch keys.
std::string BuildDeleteObjectsXml(const std::vector<std::string>& keys);

struct DeleteFailure {
  std::string key;
  std::string code;
  std::string message;
};

/// Parses a DeleteResult: the keys that could not be deleted. Errors:
/// kDataLoss naming `context` for a document that is not one.
Result<std::vector<DeleteFailure>> ParseDeleteObjectsResult(
    std::string_view xml, std::string_view context);

/// Escapes text for an XML element: & < > " ' and control characters.
std::string XmlEscape(std::string_view text);

/// An HTTP date (RFC 9110 IMF-fixdate): "Wed, 01 May 2024 12:34:56 GMT".
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(
    std::string_view text);

/// Decodes %XX escapes (and '+' as a space, as S3's url encoding-type
/// does). Invalid escapes are kept as they are.
std::string UrlDecodeKey(std::string_view text);

}  // namespace backends::s3

// ListObjectsV2 and DeleteObjects documents, with pugixml.
//
// Pagination: each page names the next with NextContinuationToken while
// IsTruncated is true; StartAfter is never needed. The url encoding-type
// percent-encodes keys (AWS writes a space as '+' and '+' as %2B; radosgw
// writes %20 and %2B), so decoding '+' as a space is right for both.

#include "s3/list_objects.h"

#include <array>
#include <charconv>
#include <pugixml.hpp>

#include "backends/backend.h"
#include "iso8601.h"
#include "s3/xml_answer.h"

namespace backends::s3 {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), *out);
  return error == std::errc() && end == text.data() + text.size();
}

std::optional<std::chrono::system_clock::time_point> MakeTime(
    int year, unsigned month, unsigned day, int hour, int minute, int second) {
  std::chrono::year_month_day date{std::chrono::year(year),
                                   std::chrono::month(month),
                                   std::chrono::day(day)};
  // system_clock counts nanoseconds in 64 bits: years 1678 to 2261 only.
  if (year < 1678 || year > 2261 || !date.ok() || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  return std::chrono::sys_days(date) + std::chrono::hours(hour) +
         std::chrono::minutes(minute) + std::chrono::seconds(second);
}

// "HH:MM:SS" at `text`.
bool ParseClock(std::string_view text, int* h, int* m, int* s) {
  return text.size() >= 8 && text[2] == ':' && text[5] == ':' &&
         ParseNumber(text.substr(0, 2), h) &&
         ParseNumber(text.substr(3, 2), m) && ParseNumber(text.substr(6, 2), s);
}

}  // namespace

std::string UrlDecodeKey(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && HexDigit(text[i + 1]) >= 0 &&
               HexDigit(text[i + 2]) >= 0) {
      out +=
          static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

Result<ListPage> ParseListObjectsV2(std::string_view xml,
                                    std::string_view context) {
  BACKENDS_ASSIGN_OR_RETURN(XmlAnswer answer,
                            XmlAnswer::Parse(xml, "GET ?list-type=2", context));
  if (!answer.Has("IsTruncated")) {
    return DataLossError(std::string(context) +
                         ": ListObjectsV2 answer has no IsTruncated: not a "
                         "listing");
  }
  const pugi::xml_node root = answer.Holder("IsTruncated");
  const bool url_encoded =
      std::string_view(root.child("EncodingType").text().get()) == "url";
  ListPage page;
  page.truncated = root.child("IsTruncated").text().as_bool();
  page.next_token = root.child("NextContinuationToken").text().get();
  if (page.truncated && page.next_token.empty()) {
    return DataLossError(std::string(context) +
                         ": truncated ListObjectsV2 page without a "
                         "NextContinuationToken");
  }
  for (pugi::xml_node item : root.children("Contents")) {
    ListedObject object;
    std::string_view key = item.child("Key").text().get();
    object.key = url_encoded ? UrlDecodeKey(key) : std::string(key);
    object.size = item.child("Size").text().as_ullong();
    object.modified = backends::internal::ParseIsoTimePoint(
        item.child("LastModified").text().get());
    object.etag = item.child("ETag").text().get();
    page.objects.push_back(std::move(object));
  }
  for (pugi::xml_node common : root.children("CommonPrefixes")) {
    std::string_view prefix = common.child("Prefix").text().get();
    page.common_prefixes.push_back(url_encoded ? UrlDecodeKey(prefix)
                                               : std::string(prefix));
  }
  return page;
}

Status ListingGuard::Fault(const std::string& what) const {
  return DataLossError(context_ + ": the S3 server's listing is broken (page " +
                       std::to_string(pages_) + " " + what +
                       "); a server fault, listing stopped");
}

Status ListingGuard::Check(const ListPage& page) {
  ++pages_;
  for (const ListedObject& object : page.objects) {
    if (any_key_ && !(last_key_ < object.key)) {
      return Fault("lists " + QuoteKey(object.key) + " after " +
                   QuoteKey(last_key_) +
                   ", out of order: S3 lists each key "
                   "once, in ascending byte order");
    }
    any_key_ = true;
    last_key_ = object.key;
  }
  for (const std::string& prefix : page.common_prefixes) {
    if (any_prefix_ && !(last_prefix_ < prefix)) {
      return Fault("lists the common prefix " + QuoteKey(prefix) + " after " +
                   QuoteKey(last_prefix_) +
                   ", out of order: S3 lists each once, in ascending byte "
                   "order");
    }
    any_prefix_ = true;
    last_prefix_ = prefix;
  }
  if (!page.truncated) return Status::OK();
  if (!tokens_.insert(page.next_token).second) {
    return Fault("repeats the continuation token " +
                 QuoteKey(page.next_token.substr(0, 64)) +
                 " of an earlier page");
  }
  const bool empty = page.objects.empty() && page.common_prefixes.empty();
  empty_in_a_row_ = empty ? empty_in_a_row_ + 1 : 0;
  if (empty_in_a_row_ >= kMaxEmptyListPages) {
    return Fault("is the " + std::to_string(empty_in_a_row_) +
                 "th truncated page in a row to list nothing: the listing "
                 "does not advance");
  }
  return Status::OK();
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += "&#" + std::to_string(static_cast<unsigned char>(c)) + ";";
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string BuildDeleteObjectsXml(const std::vector<std::string>& keys) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Quiet>true</Quiet>";
  for (const auto& key : keys) {
    out += "<Object><Key>" + XmlEscape(key) + "</Key></Object>";
  }
  out += "</Delete>";
  return out;
}

Result<std::vector<DeleteFailure>> ParseDeleteObjectsResult(
    std::string_view xml, std::string_view context) {
  // A quiet DeleteObjects that deleted everything answers an empty result.
  BACKENDS_ASSIGN_OR_RETURN(XmlAnswer answer,
                            XmlAnswer::Parse(xml, "POST ?delete", context));
  const pugi::xml_node root = answer.Holder("Error");
  std::vector<DeleteFailure> failures;
  for (pugi::xml_node error : root.children("Error")) {
    failures.push_back({error.child("Key").text().get(),
                        error.child("Code").text().get(),
                        error.child("Message").text().get()});
  }
  return failures;
}

std::optional<std::chrono::system_clock::time_point> ParseHttpDate(
    std::string_view text) {
  // Wed, 01 May 2024 12:34:56 GMT
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun",
      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text[3] != ',' || text.substr(26) != "GMT") {
    return std::nullopt;
  }
  unsigned day = 0;
  int year = 0, hour = 0, minute = 0, second = 0;
  unsigned month = 0;
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (text.substr(8, 3) == kMonths[i]) month = i + 1;
  }
  if (month == 0 || !ParseNumber(text.substr(5, 2), &day) ||
      !ParseNumber(text.substr(12, 4), &year) ||
      !ParseClock(text.substr(17), &hour, &minute, &second)) {
    return std::nullopt;
  }
  return MakeTime(year, month, day, hour, minute, second);
}

}  // namespace backends::s3

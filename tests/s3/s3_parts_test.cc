// The S3 store's pure parts, without a server: error mapping, the
// ListObjectsV2 / DeleteObjects documents, gzip, content types and dates.

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "iso8601.h"
#include "s3/content_type.h"
#include "s3/gzip.h"
#include "s3/list_objects.h"
#include "s3/s3_errors.h"
#include "testutil/status_matchers.h"

namespace backends::s3 {
namespace {

using ::backends::testing::IsOkAndHolds;
using ::backends::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

std::string ErrorXml(std::string_view code, std::string_view message = "") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" +
         std::string(code) + "</Code><Message>" + std::string(message) +
         "</Message><BucketName>bkt</BucketName><RequestId>tx1</RequestId>"
         "</Error>";
}

Status Map(long status, std::string_view code, std::string_view message = "") {
  return S3Error("load \"k\"", "GET",
                 ParseS3Error(status, ErrorXml(code, message)));
}

TEST(S3ErrorsTest, MapsStatusAndCodeToTheRightKind) {
  EXPECT_THAT(Map(403, "AccessDenied"), StatusIs(ErrorCode::kPermissionDenied));
  EXPECT_THAT(Map(403, "SignatureDoesNotMatch"),
              StatusIs(ErrorCode::kUnauthenticated));
  EXPECT_THAT(Map(403, "InvalidAccessKeyId"),
              StatusIs(ErrorCode::kUnauthenticated));
  EXPECT_THAT(Map(400, "ExpiredToken"), StatusIs(ErrorCode::kUnauthenticated));
  EXPECT_THAT(Map(404, "NoSuchBucket"),
              StatusIs(ErrorCode::kNotFound, HasSubstr("bucket \"bkt\" does "
                                                       "not exist")));
  EXPECT_THAT(Map(503, "SlowDown"), StatusIs(ErrorCode::kUnavailable));
  EXPECT_THAT(Map(500, "InternalError"), StatusIs(ErrorCode::kUnavailable));
  EXPECT_THAT(Map(502, ""), StatusIs(ErrorCode::kUnavailable));
  EXPECT_THAT(Map(400, "AccessControlListNotSupported"),
              StatusIs(ErrorCode::kFailedPrecondition, HasSubstr("presign")));
  EXPECT_THAT(Map(400, "InvalidArgument"),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(Map(412, "PreconditionFailed"),
              StatusIs(ErrorCode::kFailedPrecondition));
}

TEST(S3ErrorsTest, MessageCarriesStatusCodeAndServerText) {
  auto status = Map(403, "AccessDenied", "no & way");
  EXPECT_EQ(status.message(),
            "load \"k\": s3 GET returned 403 AccessDenied: no & way "
            "(request id tx1)");
  // radosgw sends an empty <Message>: no dangling colon.
  EXPECT_THAT(Map(403, "AccessDenied").message(),
              HasSubstr("403 AccessDenied (request id tx1)"));
  // Not XML at all (a proxy's HTML page): the status alone.
  auto html = S3Error("dump \"k\"", "PUT", ParseS3Error(502, "<html>bad"));
  EXPECT_THAT(html, StatusIs(ErrorCode::kUnavailable,
                             HasSubstr("dump \"k\": s3 PUT returned 502")));
  // A HEAD answer has no body; the x-amz-error-code header names the code.
  auto head = ParseS3Error(403, "", "SignatureDoesNotMatch");
  EXPECT_THAT(S3Error("contains \"k\"", "HEAD", head),
              StatusIs(ErrorCode::kUnauthenticated));
}

TEST(S3ErrorsTest, CurlFailures) {
  EXPECT_THAT(CurlError("load \"k\"", "GET", CURLE_OPERATION_TIMEDOUT, ""),
              StatusIs(ErrorCode::kDeadlineExceeded, HasSubstr("load \"k\"")));
  EXPECT_THAT(CurlError("load \"k\"", "GET", CURLE_COULDNT_CONNECT, "refused"),
              StatusIs(ErrorCode::kUnavailable, HasSubstr("refused")));
  EXPECT_THAT(CurlError("x", "GET", CURLE_PEER_FAILED_VERIFICATION, ""),
              StatusIs(ErrorCode::kUnavailable));
  EXPECT_THAT(CurlError("x", "GET", CURLE_URL_MALFORMAT, ""),
              StatusIs(ErrorCode::kInvalidArgument));
}

TEST(ListObjectsTest, ParsesPagesAndDecodesUrlEncodedKeys) {
  const std::string xml =
      "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3.amazonaws."
      "com/doc/2006-03-01/\"><Name>b</Name><EncodingType>url</EncodingType>"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>tok/+=</"
      "NextContinuationToken><Contents><Key>p%2Fa+b%2Bc%25</Key>"
      "<LastModified>2024-05-01T12:34:56.250Z</LastModified><Size>42</Size>"
      "</Contents><Contents><Key>p%2F%E4%B8%AD%20x</Key><Size>0</Size>"
      "</Contents></ListBucketResult>";
  ASSERT_OK_AND_ASSIGN(auto page, ParseListObjectsV2(xml, "list"));
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(page.next_token, "tok/+=");
  ASSERT_EQ(page.objects.size(), 2u);
  EXPECT_EQ(page.objects[0].key, "p/a b+c%");
  EXPECT_EQ(page.objects[0].size, 42u);
  EXPECT_EQ(
      page.objects[0].modified,
      backends::internal::ParseIsoTimePoint("2024-05-01T12:34:56Z").value() +
          std::chrono::milliseconds(250));
  EXPECT_EQ(page.objects[1].key, "p/\xe4\xb8\xad x");
  EXPECT_THAT(ParseListObjectsV2("<nope/>", "list"),
              StatusIs(ErrorCode::kDataLoss));
  EXPECT_THAT(
      ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                         "</ListBucketResult>",
                         "list"),
      StatusIs(ErrorCode::kDataLoss, HasSubstr("NextContinuationToken")));
}

TEST(ListObjectsTest, DeleteBodyEscapesKeys) {
  std::string xml = BuildDeleteObjectsXml({"a&b", "<c>\"'", "plain"});
  EXPECT_THAT(xml, HasSubstr("<Quiet>true</Quiet>"));
  EXPECT_THAT(xml, HasSubstr("<Key>a&amp;b</Key>"));
  EXPECT_THAT(xml, HasSubstr("<Key>&lt;c&gt;&quot;&apos;</Key>"));
  EXPECT_THAT(xml, HasSubstr("<Key>plain</Key>"));
  EXPECT_EQ(XmlEscape("\x01"), "&#1;");
  ASSERT_OK_AND_ASSIGN(
      auto failures,
      ParseDeleteObjectsResult(
          "<DeleteResult><Deleted><Key>x</Key></Deleted><Error><Key>y</Key>"
          "<Code>AccessDenied</Code><Message>no</Message></Error>"
          "</DeleteResult>",
          "clear"));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].key, "y");
  EXPECT_EQ(failures[0].code, "AccessDenied");
}

TEST(XmlAnswerTest, ListingsAreReadByTheirFieldsWhateverTheRoot) {
  // Another server's root name, and a ...Response wrapping the result.
  for (const std::string xml :
       {"<ListObjectsV2Response><IsTruncated>false</IsTruncated><Contents>"
        "<Key>a</Key><Size>3</Size></Contents></ListObjectsV2Response>",
        "<ListObjectsV2Response><ResponseMetadata/><ListBucketResult>"
        "<IsTruncated>false</IsTruncated><Contents><Key>a</Key><Size>3</Size>"
        "</Contents></ListBucketResult></ListObjectsV2Response>"}) {
    ASSERT_OK_AND_ASSIGN(auto page, ParseListObjectsV2(xml, "list"));
    EXPECT_FALSE(page.truncated);
    ASSERT_EQ(page.objects.size(), 1u) << xml;
    EXPECT_EQ(page.objects[0].key, "a");
    EXPECT_EQ(page.objects[0].size, 3u);
  }
  // An empty listing still says whether it is truncated.
  ASSERT_OK_AND_ASSIGN(
      auto empty,
      ParseListObjectsV2("<ListBucketResult><Name>b</Name><IsTruncated>false"
                         "</IsTruncated></ListBucketResult>",
                         "list"));
  EXPECT_TRUE(empty.objects.empty());
  EXPECT_THAT(ParseListObjectsV2("<ListBucketResult><Name>b</Name>"
                                 "</ListBucketResult>",
                                 "list"),
              StatusIs(ErrorCode::kDataLoss, HasSubstr("IsTruncated")));
  EXPECT_THAT(ParseListObjectsV2("", "list"),
              StatusIs(ErrorCode::kDataLoss, HasSubstr("not XML")));
}

TEST(XmlAnswerTest, AnErrorDocumentIsAnErrorWhereverItComes) {
  // Inside a 200: a listing, a deletion, whatever the answer was to be.
  const std::string slow_down = ErrorXml("SlowDown", "reduce your rate");
  EXPECT_THAT(ParseListObjectsV2(slow_down, "list \"\""),
              StatusIs(ErrorCode::kUnavailable,
                       HasSubstr("list \"\": s3 GET ?list-type=2 returned "
                                 "500 SlowDown: reduce your rate")));
  EXPECT_THAT(
      ParseDeleteObjectsResult(ErrorXml("AccessDenied"), "clear"),
      StatusIs(ErrorCode::kPermissionDenied, HasSubstr("AccessDenied")));
}

TEST(XmlAnswerTest, DeleteResultsAreReadByTheirFields) {
  // Another root name, and a result wrapped in another element.
  for (const std::string xml :
       {"<DeleteObjectsResponse><Deleted><Key>x</Key></Deleted><Error><Key>y"
        "</Key><Code>InternalError</Code></Error></DeleteObjectsResponse>",
        "<Wrapper><DeleteResult><Error><Key>y</Key><Code>InternalError"
        "</Code></Error></DeleteResult></Wrapper>"}) {
    EXPECT_THAT(ParseDeleteObjectsResult(xml, "clear"),
                IsOkAndHolds(ElementsAre(
                    AllOf(Field(&DeleteFailure::key, "y"),
                          Field(&DeleteFailure::code, "InternalError")))))
        << xml;
  }
  // A quiet deletion that removed everything lists nothing.
  EXPECT_THAT(ParseDeleteObjectsResult("<DeleteResult/>", "clear"),
              IsOkAndHolds(::testing::IsEmpty()));
  EXPECT_THAT(ParseDeleteObjectsResult("not xml", "clear"),
              StatusIs(ErrorCode::kDataLoss));
}

TEST(DatesTest, HttpAndIsoDates) {
  auto http = ParseHttpDate("Wed, 01 May 2024 12:34:56 GMT");
  ASSERT_TRUE(http.has_value());
  EXPECT_EQ(http,
            backends::internal::ParseIsoTimePoint("2024-05-01T12:34:56Z"));
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*http), 1714566896);
  EXPECT_FALSE(ParseHttpDate("Wed, 01 Foo 2024 12:34:56 GMT").has_value());
  EXPECT_FALSE(ParseHttpDate("yesterday").has_value());
  EXPECT_FALSE(backends::internal::ParseIsoTimePoint("2024-02-30T00:00:00Z")
                   .has_value());
}

TEST(GzipTest, DeterministicWithZeroMtimeAndRoundTrips) {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += "body { margin: " + std::to_string(i) + "px }\n";
  ASSERT_OK_AND_ASSIGN(auto a, GzipCompress(text));
  ASSERT_OK_AND_ASSIGN(auto b, GzipCompress(text));
  EXPECT_EQ(a, b);
  ASSERT_GE(a.size(), 10u);
  EXPECT_EQ(static_cast<unsigned char>(a[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(a[1]), 0x8b);
  EXPECT_EQ(a.substr(4, 4), std::string(4, '\0'));  // MTIME = 0
  EXPECT_LT(a.size(), text.size() / 4);
  EXPECT_THAT(GzipDecompress(a, "k"), IsOkAndHolds(text));
  // Two concatenated members decode to both texts.
  ASSERT_OK_AND_ASSIGN(auto c, GzipCompress("tail"));
  EXPECT_THAT(GzipDecompress(a + c, "k"), IsOkAndHolds(text + "tail"));
  ASSERT_OK_AND_ASSIGN(auto empty, GzipCompress(""));
  EXPECT_THAT(GzipDecompress(empty, "k"), IsOkAndHolds(std::string()));
  EXPECT_THAT(GzipDecompress(a.substr(0, a.size() - 3), "load \"x.js\""),
              StatusIs(ErrorCode::kDataLoss, HasSubstr("x.js")));
  EXPECT_THAT(GzipDecompress("plain text", "k"),
              StatusIs(ErrorCode::kDataLoss));
}

TEST(ContentTypeTest, GuessesFromTheExtension) {
  EXPECT_EQ(GuessContentType("app.js"), "application/javascript");
  EXPECT_EQ(GuessContentType("a/b/Site.CSS"), "text/css");
  EXPECT_EQ(GuessContentType("data.json"), "application/json");
  EXPECT_EQ(GuessContentType("index.html"), "text/html");
  EXPECT_EQ(GuessContentType("logo.svg"), "image/svg+xml");
  EXPECT_EQ(GuessContentType("README"), "application/octet-stream");
  EXPECT_EQ(GuessContentType(".js"), "application/octet-stream");
  EXPECT_EQ(GuessContentType("dir.js/file"), "application/octet-stream");
  EXPECT_EQ(GuessContentType("x.unknownext"), "application/octet-stream");
  const std::vector<std::string> gzip = {"application/javascript", "text/css"};
  EXPECT_TRUE(ContentTypeIn("text/css; charset=utf-8", gzip));
  EXPECT_TRUE(ContentTypeIn("Application/JavaScript", gzip));
  EXPECT_FALSE(ContentTypeIn("text/html", gzip));
  EXPECT_FALSE(ContentTypeIn("text/css", {}));
}

}  // namespace
}  // namespace backends::s3

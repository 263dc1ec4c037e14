// S3JsonBackend and S3RawBackend on a real S3 server: the headers the
// original wrote (Content-Type, Content-Encoding: gzip, Cache-Control), what
// an anonymous reader sees, and the original's extras.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backends/json.h"
#include "backends/s3.h"
#include "s3_test_env.h"
#include "backends/cache.h"
#include "testutil/status_matchers.h"
#include "testutil/url_round_trip.h"

namespace backends::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

bool LooksGzipped(const std::string& bytes) {
  return bytes.size() >= 18 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// gzip header bytes 4-7: the modification time (RFC 1952).
bool MtimeIsZero(const std::string& gzip) {
  return gzip.size() >= 8 && gzip[4] == 0 && gzip[5] == 0 && gzip[6] == 0 &&
         gzip[7] == 0;
}

TEST(S3UrlTest, EveryUrlReopensTheSameStoreAndLayers) {
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(TestOptions("url")));
  ExpectUrlReopens(*store, store->url(), ValueFormat::kRaw);
  ASSERT_OK_AND_ASSIGN(auto json, S3JsonBackend::Open(TestOptions("url-json")));
  EXPECT_THAT(json.url(), ::testing::HasSubstr("format=json"));
  ExpectUrlReopens(json.store(), json.url(), ValueFormat::kJson);
  // A JSON cache's objects are application/json, as OpenStore makes them.
  S3Options json_objects = TestOptions("url-cache");
  json_objects.content_type = "application/json";
  ASSERT_OK_AND_ASSIGN(store, S3Backend::Open(json_objects));
  ASSERT_OK_AND_ASSIGN(
      auto cache, NewJsonEnvelopeBackend(std::move(store),
                                         {.timeout = std::chrono::seconds(5)}));
  ExpectUrlReopens(*cache, cache->url(), ValueFormat::kJson);
  ASSERT_OK_AND_ASSIGN(store, S3Backend::Open(TestOptions("url-text")));
  ASSERT_OK_AND_ASSIGN(auto text, NewModifiedTimeBackend(std::move(store)));
  ExpectUrlReopens(*text, text->url(), ValueFormat::kText);
}

TEST(S3JsonBackendTest, StoresTheOriginalsFormatAsApplicationJson) {
  ASSERT_OK_AND_ASSIGN(auto store, S3JsonBackend::Open(TestOptions("json")));
  Json value = {{"b", 1}, {"a", {true, nullptr, 2.5}}, {"name", "Zoë"}};
  BACKENDS_ASSERT_OK(store.dump("doc", value));
  ASSERT_OK_AND_ASSIGN(auto object, store.s3().load_object("doc", false));
  ASSERT_TRUE(object.has_value());
  EXPECT_EQ(object->content_type, "application/json");
  EXPECT_EQ(object->content_encoding, "");
  ASSERT_OK_AND_ASSIGN(auto expected, DumpJson(value));
  EXPECT_EQ(object->body, expected);
  EXPECT_THAT(object->body, HasSubstr("\"name\": \"Zo\\u00eb\""));
  EXPECT_THAT(store.load("doc"), IsOkAndHolds(Optional(value)));
  // Stored bytes that are not JSON: kDataLoss, and the object stays.
  BACKENDS_ASSERT_OK(store.s3().dump("broken", "{not json"));
  EXPECT_THAT(store.load("broken"), StatusIs(ErrorCode::kDataLoss));
  EXPECT_THAT(store.contains("broken"), IsOkAndHolds(true));
  BACKENDS_EXPECT_OK(store.clear());
}

TEST(S3RawBackendTest, GzipsJavaScriptAndCssDeterministically) {
  ASSERT_OK_AND_ASSIGN(auto store, S3RawBackend::Open(TestOptions("raw")));
  std::string script;
  for (int i = 0; i < 200; ++i) {
    script += "function f" + std::to_string(i) + "() { return " +
              std::to_string(i) + "; }\n";
  }
  BACKENDS_ASSERT_OK(store.dump("js/app.js", script));
  ASSERT_OK_AND_ASSIGN(auto object, store.s3().load_object("js/app.js", false));
  ASSERT_TRUE(object.has_value());
  EXPECT_EQ(object->content_type, "application/javascript");
  EXPECT_EQ(object->content_encoding, "gzip");
  EXPECT_TRUE(LooksGzipped(object->body));
  EXPECT_TRUE(MtimeIsZero(object->body));
  EXPECT_LT(object->body.size(), script.size() / 2);
  // Decoded transparently; the stored bytes on request.
  EXPECT_THAT(store.load("js/app.js"), IsOkAndHolds(Optional(script)));
  EXPECT_THAT(store.load_stored("js/app.js"),
              IsOkAndHolds(Optional(object->body)));
  // stat reports the value's size, not the compressed size.
  ASSERT_OK_AND_ASSIGN(auto info, store.store().stat("js/app.js"));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, script.size());
  // Same bytes in, same object out.
  BACKENDS_ASSERT_OK(store.dump("js/again.js", script));
  EXPECT_THAT(store.load_stored("js/again.js"),
              IsOkAndHolds(Optional(object->body)));

  BACKENDS_ASSERT_OK(store.dump("Site.CSS", "body { color: red }"));
  ASSERT_OK_AND_ASSIGN(auto css, store.s3().load_object("Site.CSS", false));
  ASSERT_TRUE(css.has_value());
  EXPECT_EQ(css->content_type, "text/css");
  EXPECT_EQ(css->content_encoding, "gzip");
  EXPECT_THAT(store.load("Site.CSS"),
              IsOkAndHolds(Optional(std::string("body { color: red }"))));

  BACKENDS_ASSERT_OK(store.dump("page.html", "<p>hi</p>"));
  ASSERT_OK_AND_ASSIGN(auto html, store.s3().load_object("page.html", false));
  ASSERT_TRUE(html.has_value());
  EXPECT_EQ(html->content_type, "text/html");
  EXPECT_EQ(html->content_encoding, "");
  EXPECT_EQ(html->body, "<p>hi</p>");
  BACKENDS_EXPECT_OK(store.clear());
}

TEST(S3RawBackendTest, GivenTypeCacheAgeAndConfigurableGzipList) {
  S3Options options = TestOptions("raw");
  options.gzip_types = {"text/plain"};
  options.cache_age = std::chrono::seconds(3600);
  ASSERT_OK_AND_ASSIGN(auto store, S3RawBackend::Open(options));
  BACKENDS_ASSERT_OK(store.dump("a.js", "var a;"));
  BACKENDS_ASSERT_OK(store.dump("notes", "plain text",
                                {.content_type = "text/plain; charset=utf-8",
                                 .cache_age = std::chrono::seconds(60)}));
  ASSERT_OK_AND_ASSIGN(auto js, store.s3().load_object("a.js", false));
  ASSERT_TRUE(js.has_value());
  EXPECT_EQ(js->content_encoding, "");  // not in this store's gzip list
  EXPECT_EQ(js->cache_control, "public, max-age=3600");
  ASSERT_OK_AND_ASSIGN(auto notes, store.s3().load_object("notes", false));
  ASSERT_TRUE(notes.has_value());
  EXPECT_EQ(notes->content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(notes->content_encoding, "gzip");
  EXPECT_EQ(notes->cache_control, "public, max-age=60");
  EXPECT_THAT(store.load("notes"),
              IsOkAndHolds(Optional(std::string("plain text"))));
  BACKENDS_EXPECT_OK(store.clear());
}

TEST(S3RawBackendTest, AnonymousReadersGetTheOriginalsExtras) {
  S3Options options = TestOptions("raw");
  options.cache_age = std::chrono::seconds(300);
  ASSERT_OK_AND_ASSIGN(auto store, S3RawBackend::Open(options));
  BACKENDS_ASSERT_OK(store.dump("static/app v1.js", "let x = 1;"));
  const std::string url = store.url("static/app v1.js");
  EXPECT_THAT(url, HasSubstr("/static/app%20v1.js"));
  EXPECT_EQ(CurlGet(url).http_status, 403);
  BACKENDS_ASSERT_OK(store.make_public("static/app v1.js"));
  // curl --compressed decodes what a browser would.
  auto answer = RunCommand("curl -s --compressed -D - " + ShellQuote(url));
  EXPECT_THAT(answer.output, HasSubstr("let x = 1;"));
  EXPECT_THAT(answer.output, HasSubstr("Content-Encoding: gzip"));
  EXPECT_THAT(answer.output, HasSubstr("Cache-Control: public, max-age=300"));
  BACKENDS_ASSERT_OK(store.make_private("static/app v1.js"));
  EXPECT_EQ(CurlGet(url).http_status, 403);
  BACKENDS_EXPECT_OK(store.clear());
}

TEST(S3RawBackendTest, OnlyContentEncodingDecidesDecodingAndBadGzipIsDataLoss) {
  S3Options options = TestOptions("raw");
  ASSERT_OK_AND_ASSIGN(auto store, S3RawBackend::Open(options));
  // A store without a gzip list writes a .js key uncompressed: loading it
  // through the raw store returns it as is (no Content-Encoding).
  options.gzip_types = {};
  ASSERT_OK_AND_ASSIGN(auto plain, S3Backend::Open(options));
  BACKENDS_ASSERT_OK(plain->dump("plain.js", "not gzip at all"));
  EXPECT_THAT(store.load("plain.js"),
              IsOkAndHolds(Optional(std::string("not gzip at all"))));
  // A body labelled gzip that is not (uploaded by curl through a presigned
  // PUT): kDataLoss naming the key; the stored bytes stay readable.
  ASSERT_OK_AND_ASSIGN(auto put,
                       store.presign("trunc.js", std::chrono::minutes(5),
                                     S3PresignMethod::kPut));
  auto sent = RunCommand(
      "f=$(mktemp) && printf '\\037\\213\\010\\000garbage' >\"$f\" && "
      "curl -s -o /dev/null -w '%{http_code}' -H 'Content-Encoding: gzip' "
      "-T \"$f\" " +
      ShellQuote(put) + "; rm -f \"$f\"");
  ASSERT_EQ(sent.output, "200");
  EXPECT_THAT(store.load("trunc.js"),
              StatusIs(ErrorCode::kDataLoss, HasSubstr("trunc.js")));
  EXPECT_THAT(store.load_stored("trunc.js"), IsOk());
  BACKENDS_EXPECT_OK(store.clear());
}

}  // namespace
}  // namespace backends::testing

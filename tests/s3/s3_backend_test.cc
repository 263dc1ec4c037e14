// The S3 store against a real S3 server (radosgw on 127.0.0.1, started by
// the test command): the conformance suite on the byte store, S3JsonBackend
// and S3RawBackend, then what only S3 has: authentication errors, presigned
// URLs, ACLs, gzip and headers, listing past 1000 keys, URLs.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "backends/json.h"
#include "backends/open.h"
#include "backends/s3.h"
#include "conformance/backend_conformance.h"
#include "conformance/view_adapter.h"
#include "s3_test_env.h"
#include "testutil/fake_clock.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

// Keys S3 holds that a filesystem cannot: no path normalisation anywhere.
const std::vector<std::string> kS3Keys = {"a//b",
                                          "./x",
                                          "x/../y",
                                          "../up",
                                          "dir/",
                                          "/lead",
                                          "q?mark",
                                          "hash#tag",
                                          "sp ace+plus",
                                          "%41%2F",
                                          "&=&",
                                          "~tilde",
                                          "\xc3\xa9t\xc3\xa9",
                                          "\xf0\x9f\x98\x80/\xf0\x9f\x8e\x89",
                                          "colon:semi;",
                                          "[brackets]{}",
                                          "*star*",
                                          "back\\slash"};

// Network stores run the concurrency cases with fewer operations.
BackendFactory S3Factory(std::string name) {
  BackendFactory factory;
  factory.name = std::move(name);
  factory.extra_valid_keys = kS3Keys;
  factory.threads = 4;
  factory.operations_per_thread = 40;
  return factory;
}

BackendFactory ByteFactory() {
  BackendFactory factory = S3Factory("S3Bytes");
  factory.make = [](const std::filesystem::path&) -> FactoryResult {
    BACKENDS_ASSIGN_OR_RETURN(auto store,
                              S3Backend::Open(TestOptions("bytes")));
    return std::unique_ptr<Backend>(std::move(store));
  };
  return factory;
}

BackendFactory JsonFactory() {
  BackendFactory factory = S3Factory("S3Json");
  factory.make = [](const std::filesystem::path&) -> FactoryResult {
    BACKENDS_ASSIGN_OR_RETURN(auto view,
                              S3JsonBackend::Open(TestOptions("json")));
    return std::unique_ptr<Backend>(
        std::make_unique<ViewAsBackend<JsonCodec>>(std::move(view)));
  };
  factory.make_value = CanonicalJsonValue;
  factory.binary_values = false;
  return factory;
}

BackendFactory RawFactory() {
  BackendFactory factory = S3Factory("S3Raw");
  factory.make = [](const std::filesystem::path&) -> FactoryResult {
    BACKENDS_ASSIGN_OR_RETURN(auto view,
                              S3RawBackend::Open(TestOptions("raw")));
    return std::unique_ptr<Backend>(
        std::make_unique<ViewAsBackend<RawCodec>>(std::move(view)));
  };
  // .js and .css keys are gzipped on the way in and decoded on the way out:
  // they must round-trip like any other.
  for (const char* key : {"app.js", "dir/site.css", "a//b.js", "x/../y.css"}) {
    factory.extra_valid_keys.push_back(key);
  }
  return factory;
}

INSTANTIATE_TEST_SUITE_P(S3, BackendConformanceTest,
                         ::testing::Values(ByteFactory(), JsonFactory(),
                                           RawFactory()),
                         BackendFactoryName);

class S3BackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, S3Backend::Open(TestOptions()));
  }
  void TearDown() override {
    if (store_) {
      BACKENDS_EXPECT_OK(store_->clear());
    }
  }

  std::unique_ptr<S3Backend> store_;
};

TEST_F(S3BackendTest, WrongSecretIsAnAuthenticationErrorNotMissing) {
  BACKENDS_ASSERT_OK(store_->dump("present", "v"));
  S3Options options = TestOptions();
  options.prefix = store_->options().prefix;
  options.access_key_id = EnvOr("AWS_ACCESS_KEY_ID");
  options.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  ASSERT_OK_AND_ASSIGN(auto wrong, S3Backend::Open(options));
  auto auth = AnyOf(StatusIs(ErrorCode::kUnauthenticated),
                    StatusIs(ErrorCode::kPermissionDenied));
  EXPECT_THAT(wrong->load("present"), auth);
  EXPECT_THAT(wrong->load("missing"), auth);
  EXPECT_THAT(wrong->contains("present"), auth);
  EXPECT_THAT(wrong->stat("present"), auth);
  EXPECT_THAT(wrong->remove("present"), auth);
  EXPECT_THAT(wrong->dump("k", "v"), auth);
  EXPECT_THAT(wrong->keys(), auth);
  // The message carries the status and the S3 code, never the secret.
  auto status = wrong->load("present").status();
  EXPECT_THAT(status.message(), HasSubstr("403"));
  EXPECT_THAT(status.message(), HasSubstr("SignatureDoesNotMatch"));
  EXPECT_THAT(status.message(), HasSubstr("load \"present\""));
  EXPECT_THAT(status.message(), Not(HasSubstr(options.secret_access_key)));
  // A HEAD has no error body: the code is still named.
  EXPECT_THAT(wrong->contains("present").status().message(),
              HasSubstr("SignatureDoesNotMatch"));
  EXPECT_THAT(store_->load("present"),
              IsOkAndHolds(Optional(std::string("v"))));
}

TEST_F(S3BackendTest, UnknownAccessKeyIsUnauthenticated) {
  S3Options options = TestOptions();
  options.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  options.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  ASSERT_OK_AND_ASSIGN(auto wrong, S3Backend::Open(options));
  EXPECT_THAT(wrong->load("k"), StatusIs(ErrorCode::kUnauthenticated,
                                         HasSubstr("InvalidAccessKeyId")));
}

TEST_F(S3BackendTest, MissingBucketIsNotFound) {
  S3Options options = TestOptions();
  options.bucket = "no-such-bucket-" + std::to_string(::getpid());
  EXPECT_THAT(S3Backend::Open(options),
              StatusIs(ErrorCode::kNotFound, HasSubstr("does not exist")));
  options.check_bucket = false;
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  EXPECT_THAT(store->load("k"),
              StatusIs(ErrorCode::kNotFound, HasSubstr("NoSuchBucket")));
  EXPECT_THAT(store->keys(), StatusIs(ErrorCode::kNotFound));
}

TEST_F(S3BackendTest, UnreachableServerIsUnavailable) {
  S3Options options = TestOptions();
  options.endpoint = "http://127.0.0.1:9";  // discard port: nothing listens
  options.check_bucket = false;
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  EXPECT_THAT(store->load("k"),
              StatusIs(ErrorCode::kUnavailable, HasSubstr("load \"k\"")));
}

TEST_F(S3BackendTest, PresignedUrlsWorkWithPlainCurl) {
  BACKENDS_ASSERT_OK(store_->dump("shared file.txt", "hello presigned"));
  ASSERT_OK_AND_ASSIGN(
      auto get, store_->presign("shared file.txt", std::chrono::minutes(5)));
  EXPECT_THAT(get, Not(HasSubstr(EnvOr("AWS_SECRET_ACCESS_KEY"))));
  auto answer = CurlGet(get);
  EXPECT_EQ(answer.http_status, 200) << answer.body;
  EXPECT_EQ(answer.body, "hello presigned");
  // Without the signature the object is private.
  EXPECT_EQ(CurlGet(store_->public_url("shared file.txt")).http_status, 403);

  ASSERT_OK_AND_ASSIGN(auto put,
                       store_->presign("up/loaded", std::chrono::minutes(5),
                                       S3PresignMethod::kPut));
  EXPECT_EQ(CurlPut(put, "sent by curl"), 200);
  EXPECT_THAT(store_->load("up/loaded"),
              IsOkAndHolds(Optional(std::string("sent by curl"))));
  // A presigned GET URL does not allow a PUT.
  EXPECT_EQ(CurlPut(get, "overwrite"), 403);
}

TEST_F(S3BackendTest, PresignedUrlExpires) {
  auto clock = std::make_shared<FakeClock>(std::chrono::system_clock::now() -
                                           std::chrono::hours(1));
  S3Options options = TestOptions();
  options.prefix = store_->options().prefix;
  options.clock = clock;
  ASSERT_OK_AND_ASSIGN(auto store, S3Backend::Open(options));
  BACKENDS_ASSERT_OK(store_->dump("k", "v"));
  // Signed an hour ago for 60 s: expired now.
  ASSERT_OK_AND_ASSIGN(auto stale,
                       store->presign("k", std::chrono::seconds(60)));
  EXPECT_EQ(CurlGet(stale).http_status, 403);
  clock->Set(std::chrono::system_clock::now());
  ASSERT_OK_AND_ASSIGN(auto fresh,
                       store->presign("k", std::chrono::seconds(60)));
  EXPECT_EQ(CurlGet(fresh).http_status, 200);
  EXPECT_THAT(store->presign("k", std::chrono::seconds(0)),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(store->presign("k", std::chrono::hours(24 * 8)),
              StatusIs(ErrorCode::kInvalidArgument));
}

TEST_F(S3BackendTest, AnonymousGetFollowsMakePublicAndMakePrivate) {
  const std::string key = "pub/a b+c&d.txt";
  BACKENDS_ASSERT_OK(store_->dump(key, "public?"));
  const std::string url = store_->public_url(key);
  EXPECT_EQ(CurlGet(url).http_status, 403);
  BACKENDS_ASSERT_OK(store_->make_public(key));
  auto answer = CurlGet(url);
  EXPECT_EQ(answer.http_status, 200);
  EXPECT_EQ(answer.body, "public?");
  // An anonymous store reads it too, and gets 403 (not "missing") after
  // make_private.
  S3Options options = TestOptions();
  options.prefix = store_->options().prefix;
  options.anonymous = true;
  ASSERT_OK_AND_ASSIGN(auto anonymous, S3Backend::Open(options));
  EXPECT_THAT(anonymous->load(key),
              IsOkAndHolds(Optional(std::string("public?"))));
  BACKENDS_ASSERT_OK(store_->make_private(key));
  EXPECT_EQ(CurlGet(url).http_status, 403);
  EXPECT_THAT(anonymous->load(key), StatusIs(ErrorCode::kPermissionDenied,
                                             HasSubstr("AccessDenied")));
  EXPECT_THAT(store_->make_public("no/such/key"),
              StatusIs(ErrorCode::kFailedPrecondition));
}

TEST_F(S3BackendTest, PublicReadAtUpload) {
  BACKENDS_ASSERT_OK(store_->dump("open", "to all", {.public_read = true}));
  EXPECT_EQ(CurlGet(store_->public_url("open")).body, "to all");
  BACKENDS_ASSERT_OK(store_->dump("closed", "to owner"));
  EXPECT_EQ(CurlGet(store_->public_url("closed")).http_status, 403);
}

TEST_F(S3BackendTest, ListsPastOneThousandKeysAndClearsThemAll) {
  constexpr int kKeys = 1234;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = t; i < kKeys; i += 8) {
        char key[32];
        std::snprintf(key, sizeof key, "many/%05d", i);
        if (!store_->dump(key, "x").ok()) ++failures;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  ASSERT_EQ(failures.load(), 0);
  BACKENDS_ASSERT_OK(store_->dump("other", "y"));
  ASSERT_OK_AND_ASSIGN(auto keys, store_->list("many/"));
  ASSERT_EQ(keys.size(), static_cast<std::size_t>(kKeys));
  EXPECT_EQ(keys.front(), "many/00000");
  EXPECT_EQ(keys.back(), "many/01233");
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_THAT(store_->size(),
              IsOkAndHolds(static_cast<std::size_t>(kKeys + 1)));
  BACKENDS_ASSERT_OK(store_->clear());
  EXPECT_THAT(store_->size(), IsOkAndHolds(0u));
}

TEST_F(S3BackendTest, ClearDeletesKeysThatNeedXmlEscaping) {
  std::vector<std::string> keys = kS3Keys;
  for (const char* key : {"amp&and", "quote'\"", "<lt>&gt;", "]]>cdata"}) {
    keys.push_back(key);
  }
  for (const auto& key : keys) BACKENDS_ASSERT_OK(store_->dump(key, "v"));
  ASSERT_OK_AND_ASSIGN(auto listed, store_->keys());
  EXPECT_EQ(listed.size(), keys.size());
  BACKENDS_ASSERT_OK(store_->clear());
  EXPECT_THAT(store_->keys(), IsOkAndHolds(::testing::IsEmpty()));
}

TEST_F(S3BackendTest, PrefixIsStoredAndStripped) {
  S3Options options = TestOptions();
  options.prefix = store_->options().prefix + "inner/";
  ASSERT_OK_AND_ASSIGN(auto inner, S3Backend::Open(options));
  BACKENDS_ASSERT_OK(inner->dump("k", "v"));
  BACKENDS_ASSERT_OK(store_->dump("outer", "w"));
  EXPECT_THAT(inner->keys(), IsOkAndHolds(::testing::ElementsAre("k")));
  EXPECT_THAT(store_->keys(),
              IsOkAndHolds(::testing::ElementsAre("inner/k", "outer")));
  BACKENDS_ASSERT_OK(inner->clear());
  EXPECT_THAT(store_->keys(), IsOkAndHolds(::testing::ElementsAre("outer")));
}

TEST_F(S3BackendTest, StatGivesSizeAndModificationTime) {
  const auto before =
      std::chrono::system_clock::now() - std::chrono::minutes(5);
  BACKENDS_ASSERT_OK(store_->dump("sized", std::string(3000, 'z')));
  ASSERT_OK_AND_ASSIGN(auto info, store_->stat("sized"));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, 3000u);
  ASSERT_TRUE(info->modified.has_value());
  EXPECT_GT(*info->modified, before);
  EXPECT_LT(*info->modified,
            std::chrono::system_clock::now() + std::chrono::minutes(5));
}

TEST_F(S3BackendTest, StatGivesTypeEncodingVersionAndMetadata) {
  // application/javascript is a gzip type: stored compressed, with the
  // value's size in x-amz-meta-uncompressed-size.
  const std::string value(5000, 'j');
  BACKENDS_ASSERT_OK(store_->dump("app.js", value));
  ASSERT_OK_AND_ASSIGN(auto info, store_->stat("app.js"));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, value.size());
  EXPECT_EQ(info->content_type, "application/javascript");
  EXPECT_EQ(info->content_encoding, "gzip");
  EXPECT_THAT(store_->etag("app.js"), IsOkAndHolds(Optional(info->version)));
  EXPECT_THAT(info->metadata, ::testing::Contains(::testing::Pair(
                                  "uncompressed-size", "5000")));
  // The listing gives the stored size: no request per key to read it.
  ASSERT_OK_AND_ASSIGN(auto page, store_->list_entries({}));
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_LT(page.entries[0].info.size, value.size());
  EXPECT_EQ(page.entries[0].info.version, info->version);
}

TEST_F(S3BackendTest, UrlReopensTheStoreWithoutSecrets) {
  BACKENDS_ASSERT_OK(store_->dump("k", "v"));
  const std::string url = store_->url();
  EXPECT_THAT(url, HasSubstr("s3://" + EnvOr("S3_BUCKET") + "/" +
                             store_->options().prefix));
  EXPECT_THAT(url, HasSubstr("region=us-east-1"));
  EXPECT_THAT(url, HasSubstr("endpoint=" + EnvOr("S3_ENDPOINT")));
  EXPECT_THAT(url, Not(HasSubstr(EnvOr("AWS_SECRET_ACCESS_KEY"))));
  EXPECT_THAT(url, Not(HasSubstr(EnvOr("AWS_ACCESS_KEY_ID"))));
  ASSERT_OK_AND_ASSIGN(auto reopened, OpenBackend(url));
  EXPECT_THAT(reopened->load("k"), IsOkAndHolds(Optional(std::string("v"))));
  EXPECT_EQ(reopened->url(), url);
}

TEST_F(S3BackendTest, PublicUrlsArePercentEncoded) {
  const std::string base =
      EnvOr("S3_ENDPOINT") + "/" + EnvOr("S3_BUCKET") + "/";
  EXPECT_EQ(store_->public_url("a b/c+d%e&f"),
            base + store_->options().prefix + "a%20b/c%2Bd%25e%26f");
  EXPECT_EQ(store_->public_url("other-bucket", "x/\xc3\xa9"),
            EnvOr("S3_ENDPOINT") + "/other-bucket/x/%C3%A9");
}

TEST(S3UrlTest, AwsPublicUrlsAreVirtualHostedHttps) {
  // No request is sent: the bucket is not checked.
  ::unsetenv("AWS_ENDPOINT_URL");
  ::unsetenv("AWS_ENDPOINT_URL_S3");
  S3Options options{
      .bucket = "my-bucket",
      .prefix = "p/",
      .region = "eu-west-1",
      .access_key_id = "AKIAIOSFODNN7EXAMPLE",
      .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      .check_bucket = false};
  ASSERT_OK_AND_ASSIGN(auto store, S3RawBackend::Open(options));
  EXPECT_EQ(store.url("a b.js"),
            "https://my-bucket.s3.eu-west-1.amazonaws.com/p/a%20b.js");
  EXPECT_EQ(store.url("other", "k"),
            "https://other.s3.eu-west-1.amazonaws.com/k");
  EXPECT_EQ(store.url(), "s3://my-bucket/p/?region=eu-west-1");
  // Dotted bucket names do not match the TLS certificate: path style.
  options.bucket = "my.dotted.bucket";
  ASSERT_OK_AND_ASSIGN(auto dotted, S3RawBackend::Open(options));
  EXPECT_EQ(dotted.url("k"),
            "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/p/k");
}

TEST(S3UrlTest, FromUrlReadsEveryParameter) {
  ASSERT_OK_AND_ASSIGN(
      Url url, Url::Parse("s3://bkt/some/prefix/?region=eu-central-1&endpoint="
                          "http://127.0.0.1:1&path_style=1&cache_age=60&"
                          "public_read=1&gzip_types=text/css,text/html&"
                          "content_type=text/plain&verify_tls=0"));
  ASSERT_OK_AND_ASSIGN(auto options, S3Options::FromUrl(url));
  EXPECT_EQ(options.bucket, "bkt");
  EXPECT_EQ(options.prefix, "some/prefix/");
  EXPECT_EQ(options.region, "eu-central-1");
  EXPECT_EQ(options.endpoint, "http://127.0.0.1:1");
  EXPECT_EQ(options.addressing, S3Addressing::kPathStyle);
  EXPECT_EQ(options.cache_age, std::chrono::seconds(60));
  EXPECT_TRUE(options.public_read);
  EXPECT_FALSE(options.verify_tls);
  EXPECT_EQ(options.content_type, "text/plain");
  EXPECT_THAT(options.gzip_types,
              ::testing::ElementsAre("text/css", "text/html"));
  ASSERT_OK_AND_ASSIGN(Url bad, Url::Parse("s3://bkt/?secret_access_key=x"));
  EXPECT_THAT(S3Options::FromUrl(bad), StatusIs(ErrorCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(Url nobucket, Url::Parse("s3:///prefix"));
  EXPECT_THAT(S3Options::FromUrl(nobucket),
              StatusIs(ErrorCode::kInvalidArgument));
}

}  // namespace
}  // namespace backends::testing

// OpenStore: the layer parameters on every scheme, and every url() of the
// local stores, caches and views reopening exactly its store.

#include "backends/open.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backends/cache.h"
#include "backends/file.h"
#include "backends/memory.h"
#include "backends/view.h"
#if BACKENDS_WITH_SQLITE
#include "backends/sqlite.h"
#include "backends/sqlite_cache.h"
#endif
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "testutil/url_round_trip.h"

namespace backends::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string FileUrl(const std::filesystem::path& path) {
  return "file://" + PercentEncode(path.string(), "/");
}

TEST(StoreUrlTest, LayerParametersAreReadAndRemoved) {
  ASSERT_OK_AND_ASSIGN(StoreUrl url,
                       StoreUrl::Parse("file:///d?durable=1&cache=json&timeout=60"));
  EXPECT_EQ(url.store_url, "file:///d?durable=1");
  EXPECT_EQ(url.cache, CacheKind::kJson);
  EXPECT_EQ(url.format, ValueFormat::kJson);
  EXPECT_EQ(url.timeout, std::chrono::seconds(60));
  EXPECT_TRUE(url.timeout_given);
  ASSERT_OK_AND_ASSIGN(url, StoreUrl::Parse("memory://?format=text"));
  EXPECT_EQ(url.store_url, "memory://");
  EXPECT_EQ(url.format, ValueFormat::kText);
  EXPECT_EQ(url.cache, CacheKind::kNone);
  ASSERT_OK_AND_ASSIGN(url, StoreUrl::Parse("s3://b/p?format=json&region=x"));
  EXPECT_EQ(url.store_url, "s3://b/p?region=x&content_type=application%2Fjson");
}

TEST(StoreUrlTest, BadLayerParametersAreRefused) {
  EXPECT_THAT(StoreUrl::Parse("memory://?format=xml").status(),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("xml")));
  EXPECT_THAT(StoreUrl::Parse("memory://?cache=bytes").status(),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("bytes")));
  EXPECT_THAT(StoreUrl::Parse("memory://?timeout=5").status(),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("needs cache")));
  EXPECT_THAT(StoreUrl::Parse("memory://?cache=json&timeout=-1").status(),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("-1")));
  EXPECT_THAT(StoreUrl::Parse("memory://?cache=text&format=raw").status(),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("format=raw")));
}

TEST(OpenStoreTest, UnknownParameterIsNamedOnEveryScheme) {
  ScopedTempDir dir;
  std::vector<std::string> urls = {"memory://?colour=red&cache=json",
                                   FileUrl(dir.path()) + "?format=json&colour=red"};
#if BACKENDS_WITH_S3
  urls.push_back("s3://bucket/p?colour=red&format=json");
#endif
#if BACKENDS_WITH_SQLITE
  urls.push_back("sqlite://" + (dir.path() / "x.db").string() + "?colour=red");
#endif
#if BACKENDS_WITH_REDIS
  urls.push_back("redis://127.0.0.1:1?colour=red&cache=text");
#endif
  for (const std::string& url : urls) {
    auto opened = OpenStore(url);
    EXPECT_THAT(opened.status(), StatusIs(ErrorCode::kInvalidArgument,
                                          HasSubstr("colour")))
        << url;
  }
}

TEST(OpenStoreTest, OpenBackendTakesTheLayerParameters) {
  ScopedTempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store,
                       OpenBackend(FileUrl(dir.path()) + "?format=json"));
  EXPECT_NE(dynamic_cast<FileBackend*>(store.get()), nullptr);
  ASSERT_OK_AND_ASSIGN(store, OpenBackend(FileUrl(dir.path()) + "?cache=json"));
  EXPECT_NE(dynamic_cast<JsonEnvelopeBackend*>(store.get()), nullptr);
  BACKENDS_ASSERT_OK(store->dump("k", "{\"a\": 1}"));
  // The envelope is what the folder holds.
  ASSERT_OK_AND_ASSIGN(auto folder, FileBackend::Open(dir.path()));
  ASSERT_OK_AND_ASSIGN(auto raw, folder->load("k"));
  EXPECT_THAT(*raw, HasSubstr("\"expiration\""));
}

TEST(OpenStoreTest, MemoryUrlsReopenTheirLayers) {
  VolatileBackend memory;
  ExpectUrlReopens(memory, memory.url(), ValueFormat::kRaw, false);
  JsonBackend json(std::make_unique<VolatileBackend>());
  EXPECT_EQ(json.url(), "memory://?format=json");
  ExpectUrlReopens(json.store(), json.url(), ValueFormat::kJson, false);
  ASSERT_OK_AND_ASSIGN(auto json_cache,
                       JsonCache::InMemory({.timeout = std::chrono::seconds(7)}));
  EXPECT_EQ(json_cache.url(), "memory://?cache=json&timeout=7");
  ExpectUrlReopens(json_cache.store(), json_cache.url(), ValueFormat::kJson,
                   false);
  ASSERT_OK_AND_ASSIGN(auto text_cache, TextCache::InMemory());
  EXPECT_EQ(text_cache.url(), "memory://?cache=text&timeout=300");
  ExpectUrlReopens(text_cache.store(), text_cache.url(), ValueFormat::kText,
                   false);
}

TEST(OpenStoreTest, FileUrlsReopenTheSameFolderAndLayers) {
  ScopedTempDir dir;
  const auto root = dir.path() / "a folder?#%";
  ASSERT_OK_AND_ASSIGN(auto file, FileBackend::Open(root, {.durable = true}));
  ExpectUrlReopens(*file, file->url(), ValueFormat::kRaw);
  TextBackend text(std::move(file));
  ExpectUrlReopens(text.store(), text.url(), ValueFormat::kText);
  ASSERT_OK_AND_ASSIGN(auto json, FileBackend::Open(root));
  JsonBackend json_view(std::move(json));
  ExpectUrlReopens(json_view.store(), json_view.url(), ValueFormat::kJson);

  ASSERT_OK_AND_ASSIGN(
      auto json_cache,
      JsonCache::Open(dir.path() / "jc", {.timeout = std::chrono::seconds(60)}));
  EXPECT_THAT(json_cache.url(), HasSubstr("cache=json&timeout=60"));
  ExpectUrlReopens(json_cache.store(), json_cache.url(), ValueFormat::kJson);
  ASSERT_OK_AND_ASSIGN(auto forever,
                       JsonCache::Open(dir.path() / "jc",
                                       {.timeout = kNeverExpires}));
  ExpectUrlReopens(forever.store(), forever.url(), ValueFormat::kJson);
  ASSERT_OK_AND_ASSIGN(auto text_cache, TextCache::Open(dir.path() / "tc"));
  ExpectUrlReopens(text_cache.store(), text_cache.url(), ValueFormat::kText);
}

TEST(OpenStoreTest, CacheUrlsCarryLimitsDecodedBytesAndJsonFormat) {
  ScopedTempDir dir;
  ASSERT_OK_AND_ASSIGN(
      auto json_cache,
      JsonCache::Open(dir.path() / "jc",
                      {.timeout = std::chrono::seconds(60),
                       .limits = {.max_entries = 10, .max_bytes = 4096},
                       .format = {.indent = 2, .ensure_ascii = false},
                       .decoded_bytes = 0}));
  EXPECT_THAT(json_cache.url(),
              HasSubstr("cache=json&timeout=60&max_entries=10&max_bytes=4096"
                        "&decoded_bytes=0&indent=2&ensure_ascii=0"));
  ExpectUrlReopens(json_cache.store(), json_cache.url(), ValueFormat::kJson);
  ASSERT_OK_AND_ASSIGN(
      auto text_cache,
      TextCache::Open(dir.path() / "tc", {.limits = {.max_bytes = 100}}));
  EXPECT_THAT(text_cache.url(), HasSubstr("cache=text&timeout=300&max_bytes=100"));
  ExpectUrlReopens(text_cache.store(), text_cache.url(), ValueFormat::kText);
  ASSERT_OK_AND_ASSIGN(auto compact,
                       JsonCache::InMemory({.format = {.indent = -4}}));
  EXPECT_EQ(compact.url(), "memory://?cache=json&timeout=300&indent=-1");
  ExpectUrlReopens(compact.store(), compact.url(), ValueFormat::kJson, false);

  // The reopened layer keeps to its limits, and writes in its format.
  ASSERT_OK_AND_ASSIGN(OpenedStore bounded,
                       OpenStore("memory://?cache=text&max_entries=2"));
  for (const char* key : {"a", "b", "c"}) {
    BACKENDS_ASSERT_OK(bounded.backend->dump(key, "v"));
  }
  EXPECT_THAT(bounded.backend->size(), IsOkAndHolds(2u));
  const std::string folder =
      "file://" + PercentEncode((dir.path() / "indented").string(), "/");
  ASSERT_OK_AND_ASSIGN(OpenedStore indented,
                       OpenStore(folder + "?cache=json&indent=-1"));
  BACKENDS_ASSERT_OK(indented.backend->dump("k", "{\"a\": [1, 2]}"));
  ASSERT_OK_AND_ASSIGN(auto files, FileBackend::Open(dir.path() / "indented"));
  ASSERT_OK_AND_ASSIGN(auto raw, files->load("k"));
  EXPECT_THAT(*raw, HasSubstr("{\"a\":[1,2]}"));
}

TEST(OpenStoreTest, JsonViewUrlsCarryTheirFormat) {
  ScopedTempDir dir;
  ASSERT_OK_AND_ASSIGN(auto file, FileBackend::Open(dir.path()));
  JsonBackend view(std::move(file), JsonCodec{{.indent = 0}});
  EXPECT_THAT(view.url(), HasSubstr("?format=json&indent=0"));
  ExpectUrlReopens(view.store(), view.url(), ValueFormat::kJson);
  ASSERT_OK_AND_ASSIGN(OpenedStore opened, OpenStore(view.url()));
  EXPECT_EQ(opened.json_format.indent, 0);
  EXPECT_TRUE(opened.json_format.ensure_ascii);
  // A JSON cache's URL says the format once, for the cache and the view.
  ASSERT_OK_AND_ASSIGN(OpenedStore cache,
                       OpenStore("memory://?cache=json&ensure_ascii=0"));
  JsonBackend over(std::move(cache.backend), JsonCodec{cache.json_format});
  EXPECT_EQ(over.url(),
            "memory://?cache=json&timeout=300&ensure_ascii=0&format=json");
}

TEST(OpenStoreTest, LayerSettingsNeedTheirLayer) {
  const std::pair<const char*, const char*> cases[] = {
      {"memory://?max_entries=3", "max_entries= needs cache=json or cache=text"},
      {"memory://?decoded_bytes=0", "decoded_bytes= needs cache="},
      {"memory://?cache=text&decoded_bytes=0", "decoded_bytes= needs cache=json"},
      {"memory://?indent=2", "indent= needs JSON values"},
      {"memory://?format=text&ensure_ascii=0", "ensure_ascii= needs JSON"},
      {"memory://?format=json&indent=x", "indent \"x\" is not a number"},
      {"memory://?format=json&indent=1000", "up to 64"},
      {"memory://?format=json&ensure_ascii=no", "is not 0 or 1"},
      {"memory://?cache=json&max_bytes=-1", "max_bytes \"-1\""},
      {"redis://127.0.0.1:1?cache=json&max_entries=3", "maxmemory"},
  };
  for (const auto& [url, message] : cases) {
    SCOPED_TRACE(url);
    auto opened = OpenStore(url);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(opened.status().message(), HasSubstr(message));
  }
}

#if BACKENDS_WITH_SQLITE
TEST(OpenStoreTest, SqliteUrlsReopenTheSameTableAndLayers) {
  ScopedTempDir dir;
  const auto path = dir.path() / "my db.sqlite";
  ASSERT_OK_AND_ASSIGN(auto table,
                       NewSqliteBackend(path, {.table = "other", .durable = true}));
  ExpectUrlReopens(*table, table->url(), ValueFormat::kRaw);
  ASSERT_OK_AND_ASSIGN(
      auto json_cache,
      OpenSqliteJsonCache(path, {}, {.timeout = std::chrono::seconds(9)}));
  ExpectUrlReopens(json_cache.store(), json_cache.url(), ValueFormat::kJson);
  ASSERT_OK_AND_ASSIGN(auto text_cache,
                       OpenSqliteTextCache(path, {.table = "texts"}));
  ExpectUrlReopens(text_cache.store(), text_cache.url(), ValueFormat::kText);
  ASSERT_OK_AND_ASSIGN(
      auto bounded,
      OpenSqliteJsonCache(path, {.table = "bounded"},
                          {.limits = {.max_entries = 5},
                           .format = {.ensure_ascii = false},
                           .decoded_bytes = 1024}));
  EXPECT_THAT(bounded.url(), HasSubstr("&max_entries=5&decoded_bytes=1024"
                                       "&ensure_ascii=0"));
  ExpectUrlReopens(bounded.store(), bounded.url(), ValueFormat::kJson);
}
#endif

TEST(OpenStoreTest, ReadThroughUrlsReopenTheLayerWithItsFront) {
  ScopedTempDir dir;
  ASSERT_OK_AND_ASSIGN(auto back, FileBackend::Open(dir.path() / "back"));
  ASSERT_OK_AND_ASSIGN(auto front, JsonCache::Open(dir.path() / "front & ?"));
  const std::string front_url = front.url();
  ASSERT_OK_AND_ASSIGN(
      auto layer,
      NewReadThroughBackend(std::move(front), std::move(back),
                            {.max_age = std::chrono::seconds(600),
                             .limits = {.max_entries = 100, .max_bytes = 4096},
                             .serve_stale = true}));
  EXPECT_THAT(layer->url(), HasSubstr("&max_age=600&serve_stale=1"
                                      "&front_max_entries=100"
                                      "&front_max_bytes=4096"));
  ExpectUrlReopens(*layer, layer->url(), ValueFormat::kRaw);
  ASSERT_OK_AND_ASSIGN(OpenedStore again, OpenStore(layer->url()));
  auto* reopened = dynamic_cast<ReadThroughBackend*>(again.backend.get());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->front().url(), front_url);
  // What one layer put in front, the other serves from there.
  BACKENDS_ASSERT_OK(layer->dump("k", "{\"a\": 1}"));
  ASSERT_OK_AND_ASSIGN(auto copy, reopened->front().load("k"));
  EXPECT_TRUE(copy.has_value());

  // Plain defaults print nothing but the front.
  ASSERT_OK_AND_ASSIGN(auto plain,
                       NewReadThroughBackend(std::make_unique<VolatileBackend>(),
                                             std::make_unique<VolatileBackend>()));
  EXPECT_EQ(plain->url(), "memory://?front=memory%3A%2F%2F");
  ExpectUrlReopens(*plain, plain->url(), ValueFormat::kRaw, false);
}

TEST(OpenStoreTest, ReadThroughSettingsNeedAFront) {
  for (const char* url : {"memory://?max_age=5", "memory://?serve_stale=1",
                          "memory://?front_max_entries=3",
                          "memory://?front_max_bytes=9"}) {
    SCOPED_TRACE(url);
    auto opened = OpenStore(url);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(opened.status().message(), HasSubstr("needs front="));
  }
  EXPECT_FALSE(OpenStore("memory://?front=memory://&max_age=-1").ok());
  EXPECT_FALSE(OpenStore("memory://?front=memory://&serve_stale=yes").ok());
  EXPECT_FALSE(OpenStore("memory://?front=nosuch://x").ok());
}

TEST(RedactUrlTest, PasswordsNeverShow) {
  EXPECT_EQ(RedactUrl("redis://u:s3cret@h:1/2?x=1"), "redis://u:***@h:1/2?x=1");
  EXPECT_EQ(RedactUrl("redis://:s3cret@h"), "redis://:***@h");
  EXPECT_EQ(RedactUrl("redis://u@h"), "redis://u@h");
  EXPECT_EQ(RedactUrl("rediss://u:s3cret@h:1?cacert=/ca.pem"),
            "rediss://u:***@h:1?cacert=/ca.pem");
  EXPECT_EQ(RedactUrl("file:///a:b@c"), "file:///a:b@c");
  EXPECT_EQ(RedactUrl("memory://?x=1&front=redis%3A%2F%2Fu%3As3cret%40h&y=2"),
            "memory://?x=1&front=redis%3A%2F%2Fu%3A%2A%2A%2A%40h&y=2");
  for (std::string url : {"redis://:s3cret@h/%zz", "redis://:s3cret@h?x=%",
                          "redis://:s3cret@h?format=xml",
                          "redis://:s3cret@h?cache=json&timeout=x",
                          "redis://:s3cret@127.0.0.1:1?bogus=1",
                          "rediss://:s3cret@127.0.0.1:1?cert=/c.pem",
                          "rediss://:s3cret@127.0.0.1:1?cacert=/no/such.pem",
                          "rediz://:s3cret@h",
                          // A front's password, in the layer's URL.
                          "memory://?front=redis%3A%2F%2F%3As3cret%40h%2F%25zz",
                          "memory://?front=redis%3A%2F%2F%3As3cret%40h&x=%zz",
                          "memory://?x=%zz&front=redis://:s3cret@h",
                          "memory://?front=redis://:s3cret@h%zz"}) {
    auto opened = OpenStore(url);
    ASSERT_FALSE(opened.ok()) << url;
    EXPECT_THAT(opened.status().message(), Not(HasSubstr("s3cret"))) << url;
  }
}

}  // namespace
}  // namespace backends::testing

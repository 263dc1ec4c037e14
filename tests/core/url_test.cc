#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backends/file.h"
#include "backends/open.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(UrlTest, ParsesSchemeAuthorityPathAndQuery) {
  ASSERT_OK_AND_ASSIGN(
      Url url, Url::Parse("S3://bucket/pre%20fix/?region=eu-west-1&endpoint="
                          "http%3A%2F%2F127.0.0.1%3A7480&path_style=1&flag"));
  EXPECT_EQ(url.scheme, "s3");
  EXPECT_EQ(url.authority, "bucket");
  EXPECT_EQ(url.path, "/pre fix/");
  EXPECT_THAT(url.query,
              ElementsAre(Pair("region", "eu-west-1"),
                          Pair("endpoint", "http://127.0.0.1:7480"),
                          Pair("path_style", "1"), Pair("flag", "")));
  EXPECT_EQ(url.Param("region"), "eu-west-1");
  EXPECT_EQ(url.Param("missing"), std::nullopt);
}

TEST(UrlTest, FileForms) {
  ASSERT_OK_AND_ASSIGN(Url abs, Url::Parse("file:///var/lib/x"));
  EXPECT_EQ(abs.authority, "");
  EXPECT_EQ(abs.path, "/var/lib/x");
  ASSERT_OK_AND_ASSIGN(Url rel, Url::Parse("file://rel/dir"));
  EXPECT_EQ(rel.authority, "rel");
  EXPECT_EQ(rel.path, "/dir");
}

TEST(UrlTest, RejectsMalformed) {
  EXPECT_THAT(Url::Parse("no-scheme"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(Url::Parse("://x"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(Url::Parse("file:///a%2"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(Url::Parse("file:///a%zz"), StatusIs(ErrorCode::kInvalidArgument));
}

TEST(UrlTest, PercentEncodeKeepsUnreservedAndChosenBytes) {
  EXPECT_EQ(PercentEncode("a b/c~d.e-f_g+h%\xe4\xb8\xad", "/"),
            "a%20b/c~d.e-f_g%2Bh%25%E4%B8%AD");
  EXPECT_EQ(PercentEncode("a/b"), "a%2Fb");
}

TEST(OpenBackendTest, OpensMemoryAndFileStores) {
  ScopedTempDir dir;
  ASSERT_OK_AND_ASSIGN(auto memory, OpenBackend("memory://"));
  EXPECT_EQ(memory->url(), "memory://");
  std::string url = "file://" + PercentEncode(dir.path().string(), "/") +
                    "/with%20space";
  ASSERT_OK_AND_ASSIGN(auto file, OpenBackend(url));
  BACKENDS_ASSERT_OK(file->dump("k", "v"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "with space" / "k"));
  EXPECT_EQ(file->url(), url);
  ASSERT_OK_AND_ASSIGN(auto durable, OpenBackend(url + "?durable=1"));
  EXPECT_EQ(durable->url(), url + "?durable=1");
}

TEST(OpenBackendTest, RelativeFileUrlIsUnderTheWorkingFolder) {
  ScopedTempDir dir;
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto store = OpenBackend("file://rel/dir");
  std::filesystem::current_path(cwd);
  ASSERT_THAT(store, IsOk());
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "rel" / "dir"));
}

TEST(OpenBackendTest, RejectsUnknownSchemesAndParameters) {
  EXPECT_THAT(OpenBackend("ftp://x"),
              StatusIs(ErrorCode::kInvalidArgument, ::testing::HasSubstr("ftp")));
  EXPECT_THAT(OpenBackend("memory://?bogus=1"),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(OpenBackend("file:///tmp/x?bogus=1"),
              StatusIs(ErrorCode::kInvalidArgument));
}

}  // namespace
}  // namespace backends::testing

// The `backends` tool on the real S3 server the test command starts
// (radosgw on 127.0.0.1; S3_ENDPOINT, S3_BUCKET and the AWS_* variables come
// from scripts/s3-server.sh). Every test works under a fresh key prefix.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "backends/open.h"
#include "cli_runner.h"
#include "s3/s3_test_env.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

std::string AllBytes() {
  std::string bytes;
  for (int round = 0; round < 3; ++round) {
    for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
  }
  return bytes;
}

int CountLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

class CliS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!MissingS3Env().empty()) GTEST_SKIP() << "no S3 server (see above)";
  }
  std::string Url(std::string_view extra = "") const {
    return "s3://" + EnvOr("S3_BUCKET") + "/" + prefix_ +
           "?endpoint=" + EnvOr("S3_ENDPOINT") + std::string(extra);
  }
  // The public URL of `key` as radosgw serves it (path style).
  std::string PublicUrl(std::string_view encoded_key) const {
    return EnvOr("S3_ENDPOINT") + "/" + EnvOr("S3_BUCKET") + "/" + prefix_ +
           std::string(encoded_key);
  }
  CliResult Run(std::vector<std::string> args, std::string input = "",
                std::vector<std::string> env = {}) {
    return RunCli({.args = std::move(args),
                   .input = std::move(input),
                   .cwd = dir_.path(),
                   .env = std::move(env)});
  }

  ScopedTempDir dir_;
  std::string prefix_ = FreshPrefix("cli");
};

TEST_F(CliS3Test, PutGetLsRmWithBinaryValuesAndUnicodeKeys) {
  const std::string bytes = AllBytes();
  const std::string key = "données/été 🎉";
  CliResult put = Run({"put", Url(), key}, bytes);
  ASSERT_EQ(put.exit_code, 0) << put.err;
  ASSERT_EQ(Run({"put", Url(), "plain", "text"}).exit_code, 0);

  CliResult get = Run({"get", Url(), key});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, bytes);

  CliResult ls = Run({"ls", Url()});
  EXPECT_EQ(ls.out, "données/été 🎉\nplain\n");
  CliResult lng = Run({"ls", "-l", Url(), "plain"});
  EXPECT_THAT(
      lng.out,
      MatchesRegex(" +4  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z  plain\n"));

  EXPECT_EQ(Run({"rm", Url(), key, "plain"}).exit_code, 0);
  CliResult again = Run({"rm", Url(), key});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("no such key"));
  CliResult missing = Run({"get", Url(), key});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.out, IsEmpty());
  EXPECT_EQ(Run({"ls", Url()}).out, "");
}

TEST_F(CliS3Test, GetToAFileAndJsonFormat) {
  ASSERT_EQ(
      Run({"put", Url("&format=json"), "cfg", R"({"b":1,"a":"é"})"}).exit_code,
      0);
  const std::string expected = "{\n    \"a\": \"\\u00e9\",\n    \"b\": 1\n}";
  EXPECT_EQ(Run({"get", Url(), "cfg"}).out, expected);
  CliResult out = Run({"get", Url(), "cfg", "-o", "cfg.json"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  std::ifstream in(dir_.path() / "cfg.json", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), expected);
  CliResult bad = Run({"put", Url("&format=json"), "cfg", "{nope"});
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_EQ(Run({"get", Url(), "cfg"}).out, expected);
}

TEST_F(CliS3Test, CpBetweenAFolderAndS3BothWaysWithUpdate) {
  const std::string folder = "file://" + (dir_.path() / "src").string();
  for (int i = 0; i < 25; ++i) {
    ASSERT_EQ(Run({"put", folder, "k/" + std::to_string(i)},
                  AllBytes() + std::to_string(i))
                  .exit_code,
              0);
  }
  CliResult up = Run({"cp", folder, Url(), "--jobs", "4"});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(up.err, "cp: 25 copied, 0 unchanged, 0 skipped, 0 failed\n");
  CliResult again = Run({"cp", "--update", folder, Url(), "--jobs", "4"});
  EXPECT_EQ(again.err, "cp: 0 copied, 25 unchanged, 0 skipped, 0 failed\n");

  const std::string back = "file://" + (dir_.path() / "back").string();
  CliResult down = Run({"cp", Url(), back, "--prefix", "k/1"});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(Run({"ls", back}).out,
            "k/1\nk/10\nk/11\nk/12\nk/13\nk/14\nk/15\nk/16\nk/17\nk/18\n"
            "k/19\n");
  EXPECT_EQ(Run({"get", back, "k/13"}).out, AllBytes() + "13");
}

// The Content-Type of object `key` under the test's prefix, by a HEAD from
// Debian's awscli.
std::string ContentTypeOf(const std::string& object_key) {
  CommandResult head = RunCommand(
      "/usr/bin/aws --endpoint-url " + ShellQuote(EnvOr("S3_ENDPOINT")) +
      " s3api head-object --output text --query ContentType --bucket " +
      ShellQuote(EnvOr("S3_BUCKET")) + " --key " + ShellQuote(object_key) +
      " 2>&1");
  EXPECT_EQ(head.status, 0) << head.output;
  return head.output;
}

TEST_F(CliS3Test, CpNamesAKeyAFolderCannotHoldAndCopiesTheRest) {
  ASSERT_EQ(Run({"put", Url(), "a", "1"}).exit_code, 0);
  ASSERT_EQ(Run({"put", Url(), "trailing/", "2"}).exit_code, 0);
  ASSERT_EQ(Run({"put", Url(), "z", "3"}).exit_code, 0);
  CliResult cp = Run({"cp", Url(), "folder", "--jobs", "1"});
  EXPECT_EQ(cp.exit_code, 3);
  EXPECT_THAT(cp.err, HasSubstr("failed: dump \"trailing/\""));
  EXPECT_THAT(cp.err,
              HasSubstr("cp: 2 copied, 0 unchanged, 0 skipped, 1 failed\n"));
  EXPECT_EQ(CountLines(cp.err), 2) << cp.err;
  EXPECT_EQ(Run({"get", "folder", "z"}).out, "3");
}

TEST_F(CliS3Test, JsonFormatStoresApplicationJsonWhateverTheKey) {
  const std::string json = Url("&format=json");
  CliResult put = Run({"put", json, "page.html", R"({"a":1})"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  ASSERT_EQ(Run({"put", json, "from-stdin.txt"}, "[1, 2]").exit_code, 0);
  const std::string folder = "file://" + (dir_.path() / "docs").string();
  ASSERT_EQ(Run({"put", folder, "app.js"}, R"({"js": false})").exit_code, 0);
  CliResult cp = Run({"cp", folder, json});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  // A JSON cache's entries are JSON too.
  ASSERT_EQ(Run({"put", Url("&cache=json"), "cached.css", "1"}).exit_code, 0);
  for (const char* key :
       {"page.html", "from-stdin.txt", "app.js", "cached.css"}) {
    EXPECT_EQ(ContentTypeOf(prefix_ + key), "application/json\n") << key;
  }
  // Without format=json the extension decides.
  ASSERT_EQ(Run({"put", Url(), "raw.html", "<p>"}).exit_code, 0);
  EXPECT_EQ(ContentTypeOf(prefix_ + "raw.html"), "text/html\n");
}

TEST_F(CliS3Test, TheUrlsPathIsAFolder) {
  const std::string site = "file://" + (dir_.path() / "site").string();
  ASSERT_EQ(Run({"put", site, "index.html", "<p>"}).exit_code, 0);
  ASSERT_EQ(Run({"put", site, "css/main.css", "a{}"}).exit_code, 0);
  const std::string bare = "s3://" + EnvOr("S3_BUCKET") + "/" + prefix_ +
                           "site?endpoint=" + EnvOr("S3_ENDPOINT");
  CliResult cp = Run({"cp", site, bare});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_EQ(Run({"ls", bare}).out, "css/main.css\nindex.html\n");
  EXPECT_EQ(Run({"ls", Url()}).out, "site/css/main.css\nsite/index.html\n");
  EXPECT_EQ(Run({"get", Url(), "site/index.html"}).out, "<p>");
  EXPECT_EQ(ContentTypeOf(prefix_ + "site/index.html"), "text/html\n");
  EXPECT_EQ(Run({"url", bare, "index.html"}).out,
            PublicUrl("site/index.html") + "\n");
}

TEST_F(CliS3Test, UrlMakePublicAndMakePrivate) {
  ASSERT_EQ(Run({"put", Url(), "pub/é x", "hello"}).exit_code, 0);
  CliResult url = Run({"url", Url(), "pub/é x"});
  EXPECT_EQ(url.exit_code, 0) << url.err;
  EXPECT_EQ(url.out, PublicUrl("pub/%C3%A9%20x") + "\n");
  const std::string link = url.out.substr(0, url.out.size() - 1);
  EXPECT_EQ(CurlGet(link).http_status, 403);  // Private by default.

  EXPECT_EQ(Run({"make-public", Url(), "pub/é x"}).exit_code, 0);
  CurlAnswer open = CurlGet(link);
  EXPECT_EQ(open.http_status, 200);
  EXPECT_EQ(open.body, "hello");

  EXPECT_EQ(Run({"make-private", Url(), "pub/é x"}).exit_code, 0);
  EXPECT_EQ(CurlGet(link).http_status, 403);

  CliResult missing = Run({"make-public", Url(), "absent"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_THAT(missing.err, HasSubstr("\"absent\""));
}

TEST_F(CliS3Test, PresignedUrlsWorkWithPlainCurl) {
  ASSERT_EQ(Run({"put", Url(), "doc", "secret doc"}).exit_code, 0);
  CliResult get = Run({"presign", Url(), "doc", "--expires", "300"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_THAT(get.out, AllOf(StartsWith(PublicUrl("doc") + "?"),
                             HasSubstr("X-Amz-Expires=300")));
  CurlAnswer answer = CurlGet(get.out.substr(0, get.out.size() - 1));
  EXPECT_EQ(answer.http_status, 200);
  EXPECT_EQ(answer.body, "secret doc");

  CliResult put = Run({"presign", "--put", Url(), "upload"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(CurlPut(put.out.substr(0, put.out.size() - 1), "via curl"), 200);
  EXPECT_EQ(Run({"get", Url(), "upload"}).out, "via curl");

  EXPECT_EQ(Run({"presign", Url(), "doc", "--expires", "0"}).exit_code, 2);
  EXPECT_EQ(Run({"presign", Url(), "doc", "--expires", "604801"}).exit_code, 2);
}

TEST_F(CliS3Test, InvalidKeysExit3AndNameTheKey) {
  for (const std::string& key :
       {std::string(1100, 'k'), std::string("a\tb"), std::string("\xff")}) {
    CliResult r = Run({"put", Url(), key, "v"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(CountLines(r.err), 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr("invalid key"));
  }
}

TEST_F(CliS3Test, WrongCredentialsExit3WithoutShowingTheSecret) {
  const std::string wrong = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  CliResult r =
      Run({"put", Url(), "k", "v"}, "", {"AWS_SECRET_ACCESS_KEY=" + wrong});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, AllOf(Not(HasSubstr(wrong)),
                           Not(HasSubstr(EnvOr("AWS_SECRET_ACCESS_KEY")))));
  EXPECT_EQ(Run({"get", Url(), "k"}).exit_code, 1);  // Nothing was written.
}

TEST_F(CliS3Test, MissingBucketExits3) {
  CliResult r = Run({"ls", "s3://no-such-bucket-" + prefix_.substr(0, 8) +
                               "?endpoint=" + EnvOr("S3_ENDPOINT")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
}

}  // namespace
}  // namespace backends::testing

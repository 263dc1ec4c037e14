// Interoperability with a real S3 client on the same server: Debian's
// awscli 2 (/usr/bin/aws) reads what we write, with the headers the
// original wrote, and we read what it writes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <span>

#include "backends/json.h"
#include "backends/open.h"
#include "backends/s3.h"
#include "s3/gzip.h"
#include "s3_test_env.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

using ::testing::Contains;
using ::testing::Optional;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

constexpr const char* kAws = "/usr/bin/aws";

class S3InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kAws))
        << kAws << " is missing: scripts/install-deps.sh test installs awscli";
    options_ = TestOptions("interop");
  }
  void TearDown() override {
    if (auto store = S3Backend::Open(options_); store.ok()) {
      BACKENDS_EXPECT_OK((*store)->clear());
    }
  }

  // Runs `aws s3api VERB ARGS` against the test server; returns stdout.
  std::string Aws(const std::string& args, int* status = nullptr) {
    auto result = RunCommand(std::string(kAws) + " --endpoint-url " +
                             ShellQuote(EnvOr("S3_ENDPOINT")) +
                             " --output json s3api " + args + " 2>&1");
    if (status != nullptr) *status = result.status;
    return result.output;
  }
  std::string Bucket() const { return ShellQuote(options_.bucket); }
  std::string Key(const std::string& key) const {
    return ShellQuote(options_.prefix + key);
  }

  S3Options options_;
  ScopedTempDir temp_;
};

TEST_F(S3InteropTest, AwsCliReadsWhatWeWriteWithTheOriginalsHeaders) {
  S3Options raw_options = options_;
  raw_options.cache_age = std::chrono::seconds(86400);
  ASSERT_OK_AND_ASSIGN(auto raw, S3RawBackend::Open(raw_options));
  const std::string script = "console.log('h\xc3\xa9llo');\n";
  BACKENDS_ASSERT_OK(raw.dump("static/app.js", script));
  ASSERT_OK_AND_ASSIGN(auto json, S3JsonBackend::Open(options_));
  const Json value = {{"k", "v"}, {"n", 1}};
  BACKENDS_ASSERT_OK(json.dump("data/doc", value));

  int status = 0;
  const std::string out = (temp_.path() / "app.js.gz").string();
  auto head = ParseJson(Aws("get-object --bucket " + Bucket() + " --key " +
                                Key("static/app.js") + " " + ShellQuote(out),
                            &status));
  ASSERT_EQ(status, 0);
  ASSERT_THAT(head, IsOk());
  EXPECT_EQ((*head)["ContentType"], "application/javascript");
  EXPECT_EQ((*head)["ContentEncoding"], "gzip");
  EXPECT_EQ((*head)["CacheControl"], "public, max-age=86400");
  std::ifstream file(out, std::ios::binary);
  std::string stored((std::istreambuf_iterator<char>(file)), {});
  EXPECT_THAT(s3::GzipDecompress(stored, "app.js"), IsOkAndHolds(script));

  const std::string doc_out = (temp_.path() / "doc.json").string();
  auto doc_head = ParseJson(Aws("get-object --bucket " + Bucket() + " --key " +
                                    Key("data/doc") + " " + ShellQuote(doc_out),
                                &status));
  ASSERT_EQ(status, 0);
  ASSERT_THAT(doc_head, IsOk());
  EXPECT_EQ((*doc_head)["ContentType"], "application/json");
  std::ifstream doc_file(doc_out, std::ios::binary);
  std::string doc((std::istreambuf_iterator<char>(doc_file)), {});
  EXPECT_EQ(doc, "{\n    \"k\": \"v\",\n    \"n\": 1\n}");

  // aws lists our awkward keys as we wrote them.
  BACKENDS_ASSERT_OK(raw.dump("odd/a//b ü+%&=?#", "x"));
  auto listed = ParseJson(
      Aws("list-objects-v2 --bucket " + Bucket() + " --prefix " + Key("odd/"),
          &status));
  ASSERT_EQ(status, 0);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ((*listed)["Contents"].size(), 1u);
  EXPECT_EQ((*listed)["Contents"][0]["Key"],
            options_.prefix + "odd/a//b \xc3\xbc+%&=?#");
}

TEST_F(S3InteropTest, AJsonStoresObjectsAreApplicationJsonWhateverTheKey) {
  ASSERT_OK_AND_ASSIGN(auto json, S3JsonBackend::Open(options_));
  BACKENDS_ASSERT_OK(json.dump("page.html", Json{{"a", 1}}));
  BACKENDS_ASSERT_OK(json.dump("no-extension", Json::array({1, 2})));
  // The streaming paths of the same store, a stylesheet's name included
  // (a JSON object is not gzipped as CSS would be).
  PipeLikeSource stream("{\"s\": 1}");
  BACKENDS_ASSERT_OK(json.s3().dump_stream("site.css", stream));
  const std::string file = (temp_.path() / "v.json").string();
  std::ofstream(file, std::ios::binary) << "[true]";
  BACKENDS_ASSERT_OK(json.s3().dump_file("app.js", file));
  // Reopened from its URL, the store is still a JSON store.
  ASSERT_OK_AND_ASSIGN(auto reopened, OpenBackend(json.url()));
  BACKENDS_ASSERT_OK(reopened->dump("notes.txt", "{}"));

  for (const char* key :
       {"page.html", "no-extension", "site.css", "app.js", "notes.txt"}) {
    int status = 0;
    auto head = ParseJson(Aws(
        "head-object --bucket " + Bucket() + " --key " + Key(key), &status));
    ASSERT_EQ(status, 0) << key;
    ASSERT_THAT(head, IsOk());
    EXPECT_EQ((*head)["ContentType"], "application/json") << key;
    EXPECT_FALSE(head->contains("ContentEncoding")) << key;
  }
  EXPECT_THAT(json.load("site.css"), IsOkAndHolds(Optional(Json{{"s", 1}})));
  // A raw store on the same folder still types by extension.
  ASSERT_OK_AND_ASSIGN(auto raw, S3RawBackend::Open(options_));
  BACKENDS_ASSERT_OK(raw.dump("page.html", "<p>"));
  int status = 0;
  auto head = ParseJson(
      Aws("head-object --bucket " + Bucket() + " --key " + Key("page.html"),
          &status));
  ASSERT_EQ(status, 0);
  ASSERT_THAT(head, IsOk());
  EXPECT_EQ((*head)["ContentType"], "text/html");
}

TEST_F(S3InteropTest, WeReadWhatAwsCliWrites) {
  const std::string body_path = (temp_.path() / "body").string();
  {
    std::ofstream body(body_path, std::ios::binary);
    body << "written by aws \xe2\x9c\x93";
  }
  const std::string key = "from aws/x+y %z ü.txt";
  int status = 0;
  Aws("put-object --bucket " + Bucket() + " --key " + Key(key) + " --body " +
          ShellQuote(body_path) + " --content-type text/plain",
      &status);
  ASSERT_EQ(status, 0);
  // A gzipped stylesheet, as a deploy script would upload it.
  ASSERT_OK_AND_ASSIGN(auto gz, s3::GzipCompress("a { b: c }"));
  const std::string gz_path = (temp_.path() / "site.css.gz").string();
  {
    std::ofstream out(gz_path, std::ios::binary);
    out << gz;
  }
  Aws("put-object --bucket " + Bucket() + " --key " + Key("site.css") +
          " --body " + ShellQuote(gz_path) +
          " --content-type text/css --content-encoding gzip",
      &status);
  ASSERT_EQ(status, 0);

  ASSERT_OK_AND_ASSIGN(auto raw, S3RawBackend::Open(options_));
  EXPECT_THAT(
      raw.load(key),
      IsOkAndHolds(Optional(std::string("written by aws \xe2\x9c\x93"))));
  EXPECT_THAT(raw.load("site.css"),
              IsOkAndHolds(Optional(std::string("a { b: c }"))));
  EXPECT_THAT(raw.keys(), IsOkAndHolds(Contains(key)));
  EXPECT_THAT(raw.remove(key), IsOkAndHolds(true));
  Aws("head-object --bucket " + Bucket() + " --key " + Key(key), &status);
  EXPECT_NE(status, 0) << "aws still sees the removed key";
}

}  // namespace
}  // namespace backends::testing

// The `backends` tool's uploads follow the S3 content rules whatever the
// input: `put` with the value as an argument, with -f FILE, from stdin, and
// `cp` of a website folder store the gzip types gzipped (Content-Encoding
// gzip, the uncompressed size recorded), the others as given, each with its
// type; a format=json store's objects are application/json. Objects are
// read back by the tool, by awscli + gunzip, and by curl --compressed.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "backends/open.h"
#include "backends/s3.h"
#include "cli_runner.h"
#include "s3/s3_test_env.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

// Script text that compresses (as real JavaScript does).
std::string Script(int lines) {
  std::string out;
  for (int i = 0; i < lines; ++i) {
    out += "export function f" + std::to_string(i) + "(x) { return x * " +
           std::to_string(i % 97) + "; }\n";
  }
  return out;
}

class CliS3GzipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!MissingS3Env().empty()) GTEST_SKIP() << "no S3 server (see above)";
  }
  std::string Url(std::string_view extra = "") const {
    return "s3://" + EnvOr("S3_BUCKET") + "/" + prefix_ +
           "?endpoint=" + EnvOr("S3_ENDPOINT") + "&public_read=1" +
           std::string(extra);
  }
  CliResult Run(std::vector<std::string> args, std::string input = "") {
    return RunCli({.args = std::move(args),
                   .input = std::move(input),
                   .cwd = dir_.path()});
  }
  std::string WriteFile(const std::string& name, const std::string& data) {
    const auto path = dir_.path() / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << data;
    return path.string();
  }
  // The object `key` has `type` and is gzipped or not as `gzipped` says
  // (a HEAD through the library; with `aws`, also awscli + gunzip on the
  // stored bytes, a second or more each), and the tool's `get` gives
  // `value` back.
  void ExpectStored(const std::string& key, const std::string& value,
                    const std::string& type, bool gzipped, bool aws = false) {
    SCOPED_TRACE(key);
    auto store = OpenBackend(Url());
    ASSERT_TRUE(store.ok()) << store.status();
    auto* s3 = dynamic_cast<S3Backend*>(store->get());
    ASSERT_NE(s3, nullptr);
    auto stored = s3->load_object(key, false);
    ASSERT_TRUE(stored.ok() && stored->has_value()) << stored.status();
    EXPECT_EQ((*stored)->content_type, type);
    EXPECT_EQ((*stored)->content_encoding, gzipped ? "gzip" : "");
    auto info = s3->stat(key);
    ASSERT_TRUE(info.ok() && info->has_value());
    EXPECT_EQ((*info)->size, value.size());
    if (aws) ExpectAwsSeesContentRules(prefix_ + key, value, type, gzipped);
    CliResult get = Run({"get", Url(), key});
    EXPECT_EQ(get.exit_code, 0) << get.err;
    EXPECT_TRUE(get.out == value) << "backends get differs";
  }
  std::string PublicUrl(const std::string& key) const {
    return EnvOr("S3_ENDPOINT") + "/" + EnvOr("S3_BUCKET") + "/" + prefix_ +
           key;
  }

  ScopedTempDir dir_;
  std::string prefix_ = FreshPrefix("cligz");
};

TEST_F(CliS3GzipTest, PutGzipsTheGzipTypesFromAnArgumentAFileAndStdin) {
  const std::string small = "console.log('é');\n";
  const std::string big = Script(20000);  // ~1 MiB: more than one chunk
  const std::string css = "p { margin: 0 }\n";
  const std::string html = "<!doctype html><title>t</title>\n";
  ASSERT_EQ(Run({"put", Url(), "arg.js", small}).exit_code, 0);
  CliResult file = Run({"put", Url(), "file.js", "-f", WriteFile("b.js", big)});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  CliResult in = Run({"put", Url(), "stdin.css", "-"}, css);
  ASSERT_EQ(in.exit_code, 0) << in.err;
  ASSERT_EQ(Run({"put", Url(), "page.html", "-f", WriteFile("p.html", html)})
                .exit_code,
            0);
  ExpectStored("arg.js", small, "application/javascript", true);
  ExpectStored("file.js", big, "application/javascript", true, true);
  ExpectStored("stdin.css", css, "text/css", true);
  ExpectStored("page.html", html, "text/html", false, true);
  EXPECT_TRUE(CurlCompressed(PublicUrl("file.js")) == big);
}

TEST_F(CliS3GzipTest, CpOfAWebsiteFolderFollowsTheContentRules) {
  std::string png = "\x89PNG\r\n\x1a\n";
  for (int i = 0; i < 256; ++i) png += static_cast<char>(i);
  struct File {
    std::string key, data, type;
    bool gzipped;
  };
  const std::vector<File> files = {
      {"index.html", "<!doctype html><link href=css/site.css>\n", "text/html",
       false},
      {"css/site.css", "body { font: 16px serif }\n", "text/css", true},
      {"js/app.js", Script(3000), "application/javascript", true},
      {"data/items.json", R"({"items": [1, 2, 3]})", "application/json", false},
      {"img/logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>",
       "image/svg+xml", false},
      {"img/logo.png", png, "image/png", false},
  };
  for (const auto& f : files) WriteFile("site/" + f.key, f.data);
  CliResult cp =
      Run({"cp", "file://" + (dir_.path() / "site").string(), Url()});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  for (const auto& f : files) {
    ExpectStored(f.key, f.data, f.type, f.gzipped,
                 f.key == "js/app.js" || f.key == "img/logo.png");
  }
  EXPECT_TRUE(CurlCompressed(PublicUrl("js/app.js")) == files[2].data);
  // The sizes a later `cp --update` compares are the uncompressed ones.
  CliResult again = Run(
      {"cp", "--update", "file://" + (dir_.path() / "site").string(), Url()});
  EXPECT_EQ(again.err, "cp: 0 copied, 6 unchanged, 0 skipped, 0 failed\n");
}

TEST_F(CliS3GzipTest, JsonStoreIsApplicationJsonFromAFileToo) {
  const std::string json = Url("&format=json");
  CliResult put =
      Run({"put", json, "conf.js", "-f", WriteFile("c.json", "[1, 2]")});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  // Stored in the original's JSON format (indent 4), so only the headers
  // are compared here.
  AwsObject aws = AwsGetObject(prefix_ + "conf.js");
  ASSERT_TRUE(aws.ok) << aws.error;
  EXPECT_EQ(aws.content_type, "application/json");
  EXPECT_EQ(aws.content_encoding, "");
  EXPECT_EQ(Run({"get", json, "conf.js"}).out, "[\n    1,\n    2\n]");
}

}  // namespace
}  // namespace backends::testing

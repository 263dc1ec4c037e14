// The S3 housekeeping verbs on the real server: `mb` (CreateBucket) and
// `uploads ls|abort` (unfinished multipart uploads under the URL's prefix),
// checked with awscli; and TryServerSideCopy, cp's way between S3 stores.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "backends/s3.h"
#include "cli_runner.h"
#include "cli_store.h"
#include "s3/s3_test_env.h"
#include "s3_verbs.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

class CliS3AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!MissingS3Env().empty()) GTEST_SKIP() << "no S3 server (see above)";
  }
  void TearDown() override {
    // Uploads a failed test left open.
    Run({"uploads", "abort", Url()});
  }
  std::string Url(std::string_view bucket = "",
                  std::string_view extra = "") const {
    return "s3://" +
           (bucket.empty() ? EnvOr("S3_BUCKET") : std::string(bucket)) + "/" +
           prefix_ + "?endpoint=" + EnvOr("S3_ENDPOINT") + std::string(extra);
  }
  CliResult Run(std::vector<std::string> args) {
    return RunCli({.args = std::move(args), .cwd = dir_.path()});
  }

  ScopedTempDir dir_;
  std::string prefix_ = FreshPrefix("cli-admin");
};

TEST_F(CliS3AdminTest, MbCreatesTheBucket) {
  std::string bucket = FreshPrefix("cli-mb");
  bucket.pop_back();  // no "/"
  CliResult made =
      Run({"mb", "s3://" + bucket + "?endpoint=" + EnvOr("S3_ENDPOINT")});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_EQ(AwsS3Api("head-bucket --bucket " + ShellQuote(bucket)).status, 0);
  CliResult put = Run({"put", Url(bucket), "k", "v"});
  EXPECT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(Run({"rm", Url(bucket), "k"}).exit_code, 0);
  EXPECT_EQ(AwsS3Api("delete-bucket --bucket " + ShellQuote(bucket)).status, 0);
}

TEST_F(CliS3AdminTest, MbOutsideUsEast1SendsTheRegion) {
  CliResult made =
      Run({"mb", "s3://cli-mb-eu-" + std::to_string(::getpid()) +
                     "?region=eu-west-1&endpoint=" + EnvOr("S3_ENDPOINT")});
  EXPECT_EQ(made.exit_code, 3);
  // radosgw's zone group is us-east-1: it refuses the constraint sent.
  EXPECT_THAT(made.err, HasSubstr("InvalidLocationConstraint"));
}

TEST_F(CliS3AdminTest, MbAndUploadsNeedS3AndSayWhatTheyDo) {
  CliResult help = Run({"mb", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("LocationConstraint"));
  help = Run({"uploads", "abort", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--older-than"));
  CliResult folder = Run({"uploads", "ls", "file://./data"});
  EXPECT_EQ(folder.exit_code, 3);
  EXPECT_THAT(folder.err, HasSubstr("only s3://"));
  CliResult bad_age = Run({"uploads", "abort", Url(), "--older-than", "soon"});
  EXPECT_EQ(bad_age.exit_code, 2);
  EXPECT_THAT(bad_age.err, HasSubstr("--older-than"));
}

TEST_F(CliS3AdminTest, UploadsLsAndAbortUnderThePrefix) {
  const std::string full = prefix_;
  ASSERT_FALSE(AwsBeginUpload(full + "a").empty());
  ASSERT_FALSE(AwsBeginUpload(full + "sub/b c").empty());

  CliResult listed = Run({"uploads", "ls", Url()});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out,
              MatchesRegex("[0-9-]+T[0-9:]+Z\ta\t[^\t\n]+\n"
                           "[0-9-]+T[0-9:]+Z\tsub/b c\t[^\t\n]+\n"));
  listed = Run({"uploads", "ls", Url(), "sub/"});
  EXPECT_THAT(listed.out, MatchesRegex("[^\t]+\tsub/b c\t[^\t\n]+\n"));

  // Both began just now: none is a day old.
  CliResult kept = Run({"uploads", "abort", Url(), "--older-than", "1d"});
  EXPECT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_THAT(kept.err, HasSubstr("0 aborted, 2 kept"));
  EXPECT_EQ(AwsUploadKeys(full), full + "a\n" + full + "sub/b c\n");

  CliResult aborted = Run({"uploads", "abort", Url(), "sub/"});
  EXPECT_EQ(aborted.exit_code, 0) << aborted.err;
  EXPECT_THAT(aborted.err, HasSubstr("1 aborted"));
  EXPECT_EQ(AwsUploadKeys(full), full + "a\n");
  aborted = Run({"uploads", "abort", Url(), "--older-than", "0"});
  EXPECT_EQ(aborted.exit_code, 0) << aborted.err;
  EXPECT_EQ(AwsUploadKeys(full), "");
  EXPECT_EQ(Run({"uploads", "ls", Url()}).out, "");
}

// Between S3 stores on one endpoint that hold values as stored, the copy
// happens in the server; any other pair is left to the byte copy.
TEST_F(CliS3AdminTest, TryServerSideCopyCopiesBetweenS3StoresAsStored) {
  using cli::OpenMode;
  using cli::Store;
  using cli::StoreSpec;
  auto open = [&](const std::string& url) {
    auto spec = StoreSpec::Parse(url);
    EXPECT_TRUE(spec.ok()) << spec.status();
    auto store = Store::Open(*spec, OpenMode::kCreate);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(store).value();
  };
  const std::string other = FreshPrefix("cli-copy-dst");
  auto source = open(Url());
  auto destination = open("s3://" + EnvOr("S3_BUCKET") + "/" + other +
                          "?endpoint=" + EnvOr("S3_ENDPOINT"));
  BACKENDS_ASSERT_OK(source->backend().dump("site/app.css", "a { b: c }"));
  EXPECT_THAT(cli::TryServerSideCopy(*source, *destination, "site/app.css"),
              IsOkAndHolds(std::optional<bool>(true)));
  EXPECT_THAT(destination->backend().load("site/app.css"),
              IsOkAndHolds(std::optional<std::string>("a { b: c }")));
  // Still gzip, as stored (a byte copy would have re-encoded it).
  ExpectAwsSeesContentRules(other + "site/app.css", "a { b: c }", "text/css",
                            true);
  EXPECT_THAT(cli::TryServerSideCopy(*source, *destination, "absent"),
              IsOkAndHolds(std::optional<bool>(false)));

  auto folder = open(dir_.path().string());
  auto json = open(Url("", "&format=json"));
  for (const Store* from : {folder.get(), json.get()}) {
    EXPECT_THAT(cli::TryServerSideCopy(*from, *destination, "site/app.css"),
                IsOkAndHolds(std::optional<bool>()));
  }
  BACKENDS_EXPECT_OK(source->backend().clear());
  BACKENDS_EXPECT_OK(destination->backend().clear());
}

}  // namespace
}  // namespace backends::testing

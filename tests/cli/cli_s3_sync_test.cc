// ls -l / --delimiter, stat, cp --update, sync and rm --recursive on the
// real S3 server the test command starts (radosgw on 127.0.0.1). Requests
// go through a FaultProxy (tests/s3/fault_proxy.h) with no fault
// scheduled, which counts them by method: an unchanged key must cost no
// GET and no PUT.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "s3/fault_proxy.h"
#include "s3/s3_test_env.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

const char kTime[] = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z";

class CliS3SyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!MissingS3Env().empty()) GTEST_SKIP() << "no S3 server (see above)";
    proxy_ = FaultProxy::ForEndpoint(EnvOr("S3_ENDPOINT"));
  }
  // The test's prefix on the server, through the counting proxy.
  std::string Url(std::string_view folder = "") const {
    return "s3://" + EnvOr("S3_BUCKET") + "/" + prefix_ + std::string(folder) +
           "?endpoint=" + proxy_->endpoint();
  }
  CliResult Run(std::vector<std::string> args) {
    return RunCli(dir_.path(), std::move(args));
  }
  // The object keys under the test's prefix, by Debian's awscli.
  std::string ServerKeys() const {
    CommandResult ls = RunCommand(
        "/usr/bin/aws --endpoint-url " + ShellQuote(EnvOr("S3_ENDPOINT")) +
        " s3api list-objects-v2 --output text --query 'Contents[].Key'"
        " --bucket " +
        ShellQuote(EnvOr("S3_BUCKET")) + " --prefix " + ShellQuote(prefix_) +
        " 2>&1");
    EXPECT_EQ(ls.status, 0) << ls.output;
    std::string keys;
    std::size_t start = 0;
    const std::string& text = ls.output;
    while (start < text.size()) {
      std::size_t end = text.find_first_of("\t\n", start);
      if (end == std::string::npos) end = text.size();
      std::string key = text.substr(start, end - start);
      if (key.starts_with(prefix_)) keys += key.substr(prefix_.size()) + "\n";
      start = end + 1;
    }
    return keys;
  }

  ScopedTempDir dir_;
  std::string prefix_ = FreshPrefix("clisync");
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(CliS3SyncTest, LsLongOneLevelAndStat) {
  for (const char* key : {"a/1", "a/b/2", "top"}) {
    ASSERT_EQ(Run({"put", Url(), key, std::string("v-") + key}).exit_code, 0);
  }
  const std::string time = kTime;
  CliResult lng = Run({"ls", "-l", Url()});
  EXPECT_EQ(lng.exit_code, 0) << lng.err;
  EXPECT_THAT(lng.out, MatchesRegex(" +5  " + time + "  a/1\n +7  " + time +
                                    "  a/b/2\n +5  " + time + "  top\n"));
  EXPECT_EQ(Run({"ls", Url()}).out, "a/1\na/b/2\ntop\n");
  EXPECT_EQ(Run({"ls", "--delimiter", "/", Url()}).out, "a/\ntop\n");
  EXPECT_EQ(Run({"ls", "-d", "/", Url(), "a/"}).out, "a/1\na/b/\n");
  EXPECT_EQ(Run({"ls", Url(), "--exclude", "a/*"}).out, "top\n");

  CliResult stat = Run({"stat", Url(), "top"});
  EXPECT_EQ(stat.exit_code, 0) << stat.err;
  // Lines for the ETag, type and metadata follow where the store fills them.
  EXPECT_THAT(stat.out,
              MatchesRegex("key: top\nsize: 5\nmodified: " + time + "\n.*"));
  CliResult missing = Run({"stat", Url(), "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.out, IsEmpty());
  EXPECT_EQ(missing.err, "backends: stat \"nope\": no such key\n");
}

// 200 keys: a value read or written per key would be 200 requests against
// the few listing pages asserted below.
TEST_F(CliS3SyncTest, CpUpdateOfUnchangedKeysMovesNoValue) {
  constexpr int kKeys = 200;
  for (int i = 0; i < kKeys; ++i) {
    WriteFile(dir_.path() / "src" / "k" / std::to_string(i),
              "value " + std::to_string(i));
  }
  CliResult up = Run({"cp", "src", Url(), "--jobs", "8"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(proxy_->requests("PUT"), kKeys);  // The proxy sees each PUT.

  const int puts = proxy_->requests("PUT");
  const int gets = proxy_->requests("GET");
  CliResult again = Run({"cp", "--update", "src", Url(), "--jobs", "8"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err, "cp: 0 copied, 200 unchanged, 0 skipped, 0 failed\n");
  EXPECT_EQ(proxy_->requests("PUT"), puts);
  // Listing pages are GETs on the bucket (a few); reading the values
  // would be 200.
  EXPECT_LT(proxy_->requests("GET") - gets, 10);

  // S3 to a folder, then again: the second run reads no object.
  CliResult down = Run({"cp", Url(), "back", "--jobs", "8"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  const int gets_before = proxy_->requests("GET");
  CliResult update = Run({"sync", Url(), "back", "--jobs", "8"});
  EXPECT_EQ(update.exit_code, 0) << update.err;
  EXPECT_EQ(update.err,
            "sync: 0 copied, 200 unchanged, 0 skipped, 0 failed\n");
  EXPECT_LT(proxy_->requests("GET") - gets_before, 10);

  // A changed source key is copied, and only it.
  WriteFile(dir_.path() / "src" / "k" / "7", "a longer value 7");
  const int puts_before = proxy_->requests("PUT");
  CliResult one = Run({"sync", "src", Url()});
  EXPECT_EQ(one.err, "sync: 1 copied, 199 unchanged, 0 skipped, 0 failed\n");
  EXPECT_EQ(proxy_->requests("PUT") - puts_before, 1);
  EXPECT_EQ(Run({"get", Url(), "k/7"}).out, "a longer value 7");
}

TEST_F(CliS3SyncTest, S3ToS3UpdateCopiesOnlyWhatDiffers) {
  // The source keys arrive in one cp (a put each would start the tool 20
  // times).
  for (int i = 0; i < 20; ++i) {
    WriteFile(dir_.path() / "a" / ("k" + std::to_string(i)), "same");
  }
  ASSERT_EQ(Run({"cp", "a", Url("a/")}).exit_code, 0);
  ASSERT_EQ(Run({"cp", Url("a/"), Url("b/")}).exit_code, 0);
  const int gets = proxy_->requests("GET");
  const int puts = proxy_->requests("PUT");
  CliResult again = Run({"sync", Url("a/"), Url("b/")});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err, "sync: 0 copied, 20 unchanged, 0 skipped, 0 failed\n");
  EXPECT_EQ(proxy_->requests("PUT"), puts);
  EXPECT_LT(proxy_->requests("GET") - gets, 10);  // Listings, no values.

  ASSERT_EQ(Run({"put", Url("a/"), "k3", "longer now"}).exit_code, 0);
  CliResult one = Run({"sync", Url("a/"), Url("b/")});
  EXPECT_EQ(one.err, "sync: 1 copied, 19 unchanged, 0 skipped, 0 failed\n");
  EXPECT_EQ(Run({"get", Url("b/"), "k3"}).out, "longer now");
}

TEST_F(CliS3SyncTest, SyncDeleteDryRunThenExactly) {
  for (const char* key : {"a", "b/1", "c.keep"}) {
    WriteFile(dir_.path() / "src" / key, key);
  }
  ASSERT_EQ(Run({"sync", "src", Url()}).exit_code, 0);
  for (const char* key : {"a0", "b/0", "b/2", "z", "x.keep"}) {
    ASSERT_EQ(Run({"put", Url(), key, "extra"}).exit_code, 0);
  }
  const std::string before = ServerKeys();
  ASSERT_EQ(before, "a\na0\nb/0\nb/1\nb/2\nc.keep\nx.keep\nz\n");
  const int writes = proxy_->requests("PUT") + proxy_->requests("DELETE") +
                     proxy_->requests("POST");
  CliResult plan = Run(
      {"sync", "--delete", "--dry-run", "src", Url(), "--exclude", "*.keep"});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_EQ(plan.out, "delete a0\ndelete b/0\ndelete b/2\ndelete z\n");
  EXPECT_THAT(plan.err, HasSubstr("dry run, nothing changed: 0 to copy, 2 "
                                  "unchanged, 4 to delete"));
  EXPECT_EQ(proxy_->requests("PUT") + proxy_->requests("DELETE") +
                proxy_->requests("POST"),
            writes);
  EXPECT_EQ(ServerKeys(), before);

  CliResult sync =
      Run({"sync", "--delete", "src", Url(), "--exclude", "*.keep"});
  EXPECT_EQ(sync.exit_code, 0) << sync.err;
  EXPECT_EQ(sync.err,
            "sync: 0 copied, 2 unchanged, 4 deleted, 0 skipped, 0 failed\n");
  EXPECT_EQ(ServerKeys(), "a\nb/1\nc.keep\nx.keep\n");
}

TEST_F(CliS3SyncTest, RmRecursiveRemovesUnderThePrefixOnly) {
  for (const char* key : {"tmp/1", "tmp/2/x", "tmp/keep", "tmpfile", "z"}) {
    ASSERT_EQ(Run({"put", Url(), key, "x"}).exit_code, 0);
  }
  CliResult rm = Run({"rm", "-r", Url(), "tmp/", "--exclude", "*/keep"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(rm.err, "rm: removed 2 keys\n");
  EXPECT_EQ(ServerKeys(), "tmp/keep\ntmpfile\nz\n");
}

}  // namespace
}  // namespace backends::testing

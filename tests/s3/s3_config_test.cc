// Resolution of S3Options: region, endpoint, addressing and CA bundle from
// the options, the (injected) environment and the shared config file.

#include "s3/s3_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "s3/ini.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::s3 {
namespace {

using ::backends::testing::ScopedTempDir;
using ::backends::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using Env = std::map<std::string, std::string>;

class S3ConfigTest : public ::testing::Test {
 protected:
  Result<ResolvedS3Config> Resolve(const S3Options& options, Env env = {}) {
    env.emplace("HOME", dir_.path().string());
    return ResolveS3Config(options, MapEnvironment(std::move(env)));
  }
  S3Options Bucket(std::string bucket = "my-bucket") {
    S3Options options;
    options.bucket = std::move(bucket);
    return options;
  }
  std::string Write(const std::string& name, const std::string& text) {
    const auto path = dir_.path() / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }
  ScopedTempDir dir_;
};

TEST_F(S3ConfigTest, RegionPrecedence) {
  Write(".aws/config",
        "[default]\nregion = ap-south-1\n[profile p]\nregion = sa-east-1\n");
  S3Options options = Bucket();
  options.region = "eu-north-1";
  Env env = {{"AWS_REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "eu-west-2"}};
  ASSERT_OK_AND_ASSIGN(auto config, Resolve(options, env));
  EXPECT_EQ(config.region, "eu-north-1");
  EXPECT_EQ(config.region_source, "options");
  options.region.clear();
  ASSERT_OK_AND_ASSIGN(config, Resolve(options, env));
  EXPECT_EQ(config.region, "eu-west-1");
  env.erase("AWS_REGION");
  ASSERT_OK_AND_ASSIGN(config, Resolve(options, env));
  EXPECT_EQ(config.region, "eu-west-2");
  env.erase("AWS_DEFAULT_REGION");
  ASSERT_OK_AND_ASSIGN(config, Resolve(options, env));
  EXPECT_EQ(config.region, "ap-south-1");
  EXPECT_THAT(config.region_source, HasSubstr("profile default"));
  options.profile = "p";
  ASSERT_OK_AND_ASSIGN(config, Resolve(options, env));
  EXPECT_EQ(config.region, "sa-east-1");
  std::filesystem::remove(dir_.path() / ".aws/config");
  options.profile.clear();
  ASSERT_OK_AND_ASSIGN(config, Resolve(options, env));
  EXPECT_EQ(config.region, "us-east-1");
  EXPECT_EQ(config.region_source, "default");
  // AWS_REGION set but empty counts as unset.
  ASSERT_OK_AND_ASSIGN(config, Resolve(options, {{"AWS_REGION", ""}}));
  EXPECT_EQ(config.region, "us-east-1");
  EXPECT_THAT(Resolve(options, {{"AWS_REGION", "evil.com/x"}}).status(),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("AWS_REGION")));
}

TEST_F(S3ConfigTest, DefaultEndpointIsAwsForTheRegion) {
  S3Options options = Bucket();
  options.region = "eu-west-3";
  ASSERT_OK_AND_ASSIGN(auto config, Resolve(options));
  EXPECT_EQ(config.endpoint, "https://s3.eu-west-3.amazonaws.com");
  EXPECT_EQ(config.authority, "s3.eu-west-3.amazonaws.com");
  EXPECT_TRUE(config.endpoint_is_default);
  EXPECT_TRUE(config.aws_host);
  EXPECT_FALSE(config.path_style);  // virtual-hosted on AWS
  options.region = "cn-north-1";
  ASSERT_OK_AND_ASSIGN(config, Resolve(options));
  EXPECT_EQ(config.authority, "s3.cn-north-1.amazonaws.com.cn");
}

TEST_F(S3ConfigTest, RegionThatIsNotARegionNameNeedsAnEndpoint) {
  S3Options options = Bucket();
  for (const char* typo : {"us-est-1", "eu-west", "useast1", "us-east-1-2",
                           "usa-east-1", "us-foo-east-1", "us-east-x"}) {
    options.region = typo;
    EXPECT_THAT(Resolve(options),
                StatusIs(ErrorCode::kInvalidArgument,
                         HasSubstr("not an AWS region name")))
        << typo;
  }
  for (const char* name : {"us-gov-west-1", "ap-southeast-2", "il-central-1",
                           "us-isob-east-1", "eu-central-2"}) {
    options.region = name;
    EXPECT_THAT(Resolve(options), ::backends::testing::IsOk()) << name;
  }
  // With an endpoint, the service decides what its regions are called.
  options.endpoint = "http://127.0.0.1:9000";
  options.region = "garage";
  ASSERT_OK_AND_ASSIGN(auto config, Resolve(options));
  EXPECT_EQ(config.region, "garage");
}

TEST_F(S3ConfigTest, EndpointPrecedence) {
  Write(".aws/config",
        "[default]\nendpoint_url = http://profile:1\n"
        "s3 =\n  endpoint_url = http://profile-s3:2\n");
  S3Options options = Bucket();
  options.endpoint = "http://explicit:9000/";
  Env env = {{"AWS_ENDPOINT_URL_S3", "http://s3-env:7480"},
             {"AWS_ENDPOINT_URL", "https://global-env"}};
  ASSERT_OK_AND_ASSIGN(auto config, Resolve(options, env));
  EXPECT_EQ(config.endpoint, "http://explicit:9000");
  EXPECT_EQ(config.scheme, "http");
  EXPECT_FALSE(config.endpoint_is_default);
  options.endpoint.clear();
  ASSERT_OK_AND_ASSIGN(config, Resolve(options, env));
  EXPECT_EQ(config.authority, "s3-env:7480");
  env.erase("AWS_ENDPOINT_URL_S3");
  ASSERT_OK_AND_ASSIGN(config, Resolve(options, env));
  EXPECT_EQ(config.endpoint, "https://global-env");
  env.erase("AWS_ENDPOINT_URL");
  ASSERT_OK_AND_ASSIGN(config, Resolve(options, env));
  EXPECT_EQ(config.endpoint, "http://profile-s3:2");
  env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
  env["AWS_ENDPOINT_URL"] = "http://ignored";
  ASSERT_OK_AND_ASSIGN(config, Resolve(options, env));
  EXPECT_TRUE(config.endpoint_is_default);
}

TEST_F(S3ConfigTest, BadEndpoints) {
  S3Options options = Bucket();
  for (const char* bad : {"ftp://host", "host:9000", "http://host/path",
                          "http://host?x=1", "http://"}) {
    options.endpoint = bad;
    EXPECT_THAT(Resolve(options).status(),
                StatusIs(ErrorCode::kInvalidArgument))
        << bad;
  }
  options.endpoint = "http://user:hunter2@host";
  const Status status = Resolve(options).status();
  EXPECT_THAT(status,
              StatusIs(ErrorCode::kInvalidArgument, Not(HasSubstr("hunter2"))));
  EXPECT_THAT(Resolve(Bucket(""), {}).status(),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(Resolve(Bucket("a/b"), {}).status(),
              StatusIs(ErrorCode::kInvalidArgument));
  options = Bucket();
  options.connect_timeout = std::chrono::milliseconds(-1);
  EXPECT_THAT(Resolve(options).status(), StatusIs(ErrorCode::kInvalidArgument));
}

TEST_F(S3ConfigTest, Addressing) {
  const auto style = [&](S3Options options) {
    auto config = Resolve(options);
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() && config->path_style ? "path" : "virtual";
  };
  S3Options options = Bucket();
  EXPECT_STREQ(style(options), "virtual");  // AWS
  options.bucket = "dotted.bucket.name";
  EXPECT_STREQ(style(options), "path");  // TLS would not match
  options.bucket = "Upper_Case";
  EXPECT_STREQ(style(options), "path");  // not a DNS name
  options = Bucket();
  options.endpoint = "http://minio.internal:9000";
  EXPECT_STREQ(style(options), "path");  // custom endpoint
  options.endpoint = "http://127.0.0.1:7480";
  EXPECT_STREQ(style(options), "path");
  options.endpoint = "https://s3.eu-west-1.amazonaws.com";
  EXPECT_STREQ(style(options), "virtual");  // an AWS host given explicitly
  options.addressing = S3Addressing::kPathStyle;
  EXPECT_STREQ(style(options), "path");
  options.addressing = S3Addressing::kVirtualHosted;
  options.endpoint = "http://minio.internal:9000";
  EXPECT_STREQ(style(options), "virtual");
  options.endpoint = "http://127.0.0.1:7480";
  EXPECT_THAT(Resolve(options).status(), StatusIs(ErrorCode::kInvalidArgument));
  options.endpoint = "http://[::1]:7480";
  EXPECT_THAT(Resolve(options).status(), StatusIs(ErrorCode::kInvalidArgument));
  // The profile's s3 addressing_style applies to kAuto only.
  Write(".aws/config", "[default]\ns3 =\n  addressing_style = path\n");
  options = Bucket();
  EXPECT_STREQ(style(options), "path");
  options.addressing = S3Addressing::kVirtualHosted;
  EXPECT_STREQ(style(options), "virtual");
}

TEST_F(S3ConfigTest, CaBundleOnlyForHttps) {
  const std::string bundle = Write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  S3Options options = Bucket();
  options.endpoint = "https://s3.example.com";
  ASSERT_OK_AND_ASSIGN(auto config,
                       Resolve(options, {{"AWS_CA_BUNDLE", bundle}}));
  EXPECT_EQ(config.ca_bundle, bundle);
  options.endpoint = "http://127.0.0.1:7480";
  ASSERT_OK_AND_ASSIGN(config, Resolve(options, {{"AWS_CA_BUNDLE", bundle}}));
  EXPECT_EQ(config.ca_bundle, "");
  // Plain http still works with an unreadable bundle set.
  ASSERT_OK_AND_ASSIGN(config,
                       Resolve(options, {{"AWS_CA_BUNDLE", "/nonexistent"}}));
  options.endpoint = "https://s3.example.com";
  EXPECT_THAT(
      Resolve(options, {{"AWS_CA_BUNDLE", "/nonexistent.pem"}}).status(),
      StatusIs(ErrorCode::kInvalidArgument, HasSubstr("AWS_CA_BUNDLE")));
  options.ca_bundle = bundle;  // options win over the environment
  ASSERT_OK_AND_ASSIGN(config,
                       Resolve(options, {{"AWS_CA_BUNDLE", "/nonexistent"}}));
  EXPECT_EQ(config.ca_bundle, bundle);
}

TEST(Ini, ParsesTheAwsFlavour) {
  const IniFile file = ParseIni(
      "# comment\n; other\n[default]\nRegion = eu-west-1 \n"
      "s3 =\n  addressing_style = path\n\tendpoint_url=http://x\n"
      "output=json\n[profile dev]\nkey=a=b\nnot a pair\n");
  ASSERT_EQ(file.size(), 2u);
  const IniSection& d = file.at("default");
  EXPECT_EQ(d.at("region"), "eu-west-1");
  EXPECT_EQ(d.at("s3.addressing_style"), "path");
  EXPECT_EQ(d.at("s3.endpoint_url"), "http://x");
  EXPECT_EQ(d.at("output"), "json");
  EXPECT_EQ(file.at("profile dev").at("key"), "a=b");
}

TEST(S3ConfigHelpers, IpAndDnsNames) {
  EXPECT_TRUE(IsIpAuthority("127.0.0.1:7480"));
  EXPECT_TRUE(IsIpAuthority("[::1]:80"));
  EXPECT_FALSE(IsIpAuthority("s3.amazonaws.com"));
  EXPECT_FALSE(IsIpAuthority("1.2.3"));
  EXPECT_TRUE(IsDnsCompatibleBucket("my-bucket.1"));
  EXPECT_FALSE(IsDnsCompatibleBucket("ab"));
  EXPECT_FALSE(IsDnsCompatibleBucket("My-Bucket"));
  EXPECT_FALSE(IsDnsCompatibleBucket("a..b"));
  EXPECT_FALSE(IsDnsCompatibleBucket("-ab"));
}

}  // namespace
}  // namespace backends::s3

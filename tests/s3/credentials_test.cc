// The credentials chain: each source, its precedence, refresh with an
// injected clock, and no secret in any message. The HTTP sources talk to
// LocalHttpServer on 127.0.0.1 only; the instance-metadata source is always
// disabled or pointed at a local server.

#include "s3/credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "credentials_test_server.h"
#include "iso8601.h"
#include "testutil/fake_clock.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::s3 {
namespace {

using ::backends::testing::FakeClock;
using ::backends::testing::LocalHttpServer;
using ::backends::testing::ScopedTempDir;
using ::backends::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using Env = std::map<std::string, std::string>;
using Reply = LocalHttpServer::Response;

constexpr char kSecret[] = "SECRETwJalrXUtnFEMIK7MDENG";
constexpr char kToken[] = "TOKENFwoGZXIvYXdzEJr";
constexpr char kIdentity[] = "IDENTITYeyJhbGciOiJSUzI1NiIs";

std::string IsoTime(std::chrono::system_clock::time_point t) {
  const std::time_t time = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&time, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string CredentialsJson(const std::string& id,
                            std::chrono::system_clock::time_point expiration) {
  return R"({"Code":"Success","AccessKeyId":")" + id +
         R"(","SecretAccessKey":")" + kSecret + R"(","Token":")" + kToken +
         R"(","Expiration":")" + IsoTime(expiration) + "\"}";
}

std::string StsXml(const std::string& id,
                   std::chrono::system_clock::time_point expiration) {
  return "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/"
         "doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials>"
         "<AccessKeyId>" +
         id + "</AccessKeyId><SecretAccessKey>" + kSecret +
         "</SecretAccessKey><SessionToken>" + kToken +
         "</SessionToken><Expiration>" + IsoTime(expiration) +
         "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
         "</AssumeRoleWithWebIdentityResponse>";
}

// An IMDSv2 server that insists on the token dance.
LocalHttpServer::Handler Imds(std::function<std::string()> body) {
  return [body](const LocalHttpServer::Request& r) -> Reply {
    if (r.method == "PUT" && r.path == "/latest/api/token") {
      if (r.header("x-aws-ec2-metadata-token-ttl-seconds").empty()) {
        return {400, ""};
      }
      return {200, "imds-session-token"};
    }
    if (r.header("x-aws-ec2-metadata-token") != "imds-session-token") {
      return {401, ""};
    }
    if (r.path == "/latest/meta-data/iam/security-credentials/") {
      return {200, "my-role\n"};
    }
    if (r.path == "/latest/meta-data/iam/security-credentials/my-role") {
      return {200, body()};
    }
    return {404, ""};
  };
}

class CredentialsTest : public ::testing::Test {
 protected:
  CredentialsOptions Options(Env env) {
    env.emplace("HOME", dir_.path().string());
    env.emplace("AWS_EC2_METADATA_DISABLED", "true");
    CredentialsOptions options;
    options.environment = MapEnvironment(std::move(env));
    options.clock = clock_;
    options.container_host = container_.url();
    return options;
  }

  std::string Write(const std::string& name, const std::string& text) {
    const auto path = dir_.path() / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  Result<Credentials> Resolve(const CredentialsOptions& options,
                              std::string* source = nullptr) {
    BACKENDS_ASSIGN_OR_RETURN(auto provider, MakeCredentialsProvider(options));
    if (source != nullptr) *source = provider->source();
    return provider->GetCredentials();
  }

  ScopedTempDir dir_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  LocalHttpServer container_{[](const LocalHttpServer::Request&) {
    return Reply{500, "no handler"};
  }};
};

TEST_F(CredentialsTest, Explicit) {
  CredentialsOptions options = Options(
      {{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", kSecret}});
  options.access_key_id = "EXPLICIT";
  options.secret_access_key = kSecret;
  options.session_token = kToken;
  std::string source;
  ASSERT_OK_AND_ASSIGN(Credentials c, Resolve(options, &source));
  EXPECT_EQ(c.access_key_id, "EXPLICIT");
  EXPECT_EQ(c.session_token, kToken);
  EXPECT_EQ(source, "explicit options");
  options.secret_access_key.clear();
  EXPECT_THAT(Resolve(options).status(), StatusIs(ErrorCode::kInvalidArgument));
}

TEST_F(CredentialsTest, Environment) {
  std::string source;
  ASSERT_OK_AND_ASSIGN(Credentials c,
                       Resolve(Options({{"AWS_ACCESS_KEY_ID", "ENVKEY"},
                                        {"AWS_SECRET_ACCESS_KEY", kSecret},
                                        {"AWS_SESSION_TOKEN", kToken}}),
                               &source));
  EXPECT_EQ(c.access_key_id, "ENVKEY");
  EXPECT_EQ(c.secret_access_key, kSecret);
  EXPECT_EQ(c.session_token, kToken);
  EXPECT_EQ(source, "environment");
  const Status half =
      Resolve(Options({{"AWS_ACCESS_KEY_ID", "ENVKEY"}})).status();
  EXPECT_THAT(half, StatusIs(ErrorCode::kInvalidArgument,
                             HasSubstr("AWS_SECRET_ACCESS_KEY")));
}

TEST_F(CredentialsTest, SharedFilesDefaultLocationsAndProfiles) {
  Write(".aws/credentials",
        "# comment\n[default]\naws_access_key_id = DEFAULTKEY\n"
        "aws_secret_access_key = " +
            std::string(kSecret) +
            "\n\n[dev]\naws_access_key_id=DEVKEY\naws_secret_access_key=" +
            kSecret + "\naws_session_token=" + kToken + "\n");
  Write(".aws/config",
        "[default]\nregion = eu-west-1\n[profile cfg]\n"
        "aws_access_key_id = CFGKEY\naws_secret_access_key = " +
            std::string(kSecret) +
            "\n[profile dev]\naws_access_key_id = SHADOWED\n"
            "aws_secret_access_key = x\n");
  std::string source;
  ASSERT_OK_AND_ASSIGN(Credentials c, Resolve(Options({}), &source));
  EXPECT_EQ(c.access_key_id, "DEFAULTKEY");
  EXPECT_EQ(source, "shared files (profile default)");
  // AWS_PROFILE; the credentials file wins over the config file.
  ASSERT_OK_AND_ASSIGN(c, Resolve(Options({{"AWS_PROFILE", "dev"}}), &source));
  EXPECT_EQ(c.access_key_id, "DEVKEY");
  EXPECT_EQ(c.session_token, kToken);
  EXPECT_EQ(source, "shared files (profile dev)");
  // [profile x] in the config file; options.profile beats AWS_PROFILE.
  CredentialsOptions options = Options({{"AWS_PROFILE", "dev"}});
  options.profile = "cfg";
  ASSERT_OK_AND_ASSIGN(c, Resolve(options));
  EXPECT_EQ(c.access_key_id, "CFGKEY");
  // A named profile that does not exist is a configuration error.
  EXPECT_THAT(Resolve(Options({{"AWS_PROFILE", "nope"}})).status(),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("nope")));
}

TEST_F(CredentialsTest, SharedFilesFromEnvironmentPaths) {
  const std::string credentials =
      Write("elsewhere/creds",
            "[p]\naws_access_key_id = A\naws_secret_access_key = " +
                std::string(kSecret) + "\n");
  const std::string config = Write("elsewhere/conf",
                                   "[profile q]\naws_access_key_id = B\n"
                                   "aws_secret_access_key = " +
                                       std::string(kSecret) + "\n");
  Env env = {{"AWS_SHARED_CREDENTIALS_FILE", credentials},
             {"AWS_CONFIG_FILE", config}};
  env["AWS_PROFILE"] = "p";
  ASSERT_OK_AND_ASSIGN(Credentials c, Resolve(Options(env)));
  EXPECT_EQ(c.access_key_id, "A");
  env["AWS_PROFILE"] = "q";
  ASSERT_OK_AND_ASSIGN(c, Resolve(Options(env)));
  EXPECT_EQ(c.access_key_id, "B");
  Write("elsewhere/half", "[default]\naws_access_key_id = A\n");
  EXPECT_THAT(Resolve(Options({{"AWS_SHARED_CREDENTIALS_FILE",
                                (dir_.path() / "elsewhere/half").string()}}))
                  .status(),
              StatusIs(ErrorCode::kInvalidArgument));
}

TEST_F(CredentialsTest, WebIdentityCallsStsWithTheToken) {
  const auto expiration = clock_->now() + std::chrono::hours(1);
  LocalHttpServer sts([&](const LocalHttpServer::Request&) {
    return Reply{200, StsXml("STSKEY", expiration)};
  });
  const std::string token_file = Write("token", std::string(kIdentity) + "\n");
  std::string source;
  ASSERT_OK_AND_ASSIGN(
      Credentials c,
      Resolve(Options({{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                       {"AWS_ROLE_ARN", "arn:aws:iam::123:role/r"},
                       {"AWS_ROLE_SESSION_NAME", "my-session"},
                       {"AWS_ENDPOINT_URL_STS", sts.url()}}),
              &source));
  EXPECT_EQ(source, "web identity");
  EXPECT_EQ(c.access_key_id, "STSKEY");
  EXPECT_EQ(c.secret_access_key, kSecret);
  EXPECT_EQ(c.session_token, kToken);
  EXPECT_EQ(c.expiration, expiration);
  const auto requests = sts.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_THAT(requests[0].body,
              AllOf(HasSubstr("Action=AssumeRoleWithWebIdentity"),
                    HasSubstr("Version=2011-06-15"),
                    HasSubstr("RoleArn=arn%3Aaws%3Aiam%3A%3A123%3Arole%2Fr"),
                    HasSubstr("RoleSessionName=my-session"),
                    HasSubstr(std::string("WebIdentityToken=") + kIdentity)));
}

TEST_F(CredentialsTest, WebIdentityErrorsNameTheCauseNotTheToken) {
  LocalHttpServer sts([&](const LocalHttpServer::Request&) {
    return Reply{400,
                 "<ErrorResponse><Error><Code>InvalidIdentityToken</Code>"
                 "<Message>bad token " +
                     std::string(kIdentity) +
                     "</Message></Error></ErrorResponse>"};
  });
  const std::string token_file = Write("token", kIdentity);
  Env env = {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
             {"AWS_ROLE_ARN", "arn:aws:iam::123:role/r"},
             {"AWS_ENDPOINT_URL", sts.url()}};
  const Status status = Resolve(Options(env)).status();
  EXPECT_THAT(status, StatusIs(ErrorCode::kUnauthenticated,
                               AllOf(HasSubstr("InvalidIdentityToken"),
                                     HasSubstr("web identity"),
                                     Not(HasSubstr(kIdentity)))));
  env["AWS_WEB_IDENTITY_TOKEN_FILE"] = (dir_.path() / "missing").string();
  EXPECT_THAT(Resolve(Options(env)).status(),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("missing")));
  env.erase("AWS_ROLE_ARN");
  EXPECT_THAT(Resolve(Options(env)).status(),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("AWS_ROLE_ARN")));
}

TEST_F(CredentialsTest, WebIdentityFromProfile) {
  LocalHttpServer sts([&](const LocalHttpServer::Request&) {
    return Reply{200,
                 StsXml("PROFILESTS", clock_->now() + std::chrono::hours(1))};
  });
  const std::string token_file = Write("token", kIdentity);
  Write(".aws/config",
        "[profile wi]\nrole_arn = arn:aws:iam::1:role/x\n"
        "web_identity_token_file = " +
            token_file + "\n");
  ASSERT_OK_AND_ASSIGN(Credentials c,
                       Resolve(Options({{"AWS_PROFILE", "wi"},
                                        {"AWS_ENDPOINT_URL_STS", sts.url()}})));
  EXPECT_EQ(c.access_key_id, "PROFILESTS");
}

TEST_F(CredentialsTest, ContainerRelativeUriWithTokenFromFile) {
  container_.set_handler([&](const LocalHttpServer::Request& r) {
    if (r.path != "/v2/credentials/abc") return Reply{404, ""};
    if (r.header("authorization") != "from-file") return Reply{401, ""};
    return Reply{200, CredentialsJson("CONTAINERKEY",
                                      clock_->now() + std::chrono::hours(6))};
  });
  const std::string token_file = Write("ctoken", "from-file\n");
  std::string source;
  ASSERT_OK_AND_ASSIGN(
      Credentials c,
      Resolve(Options({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                        "/v2/credentials/abc"},
                       {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file},
                       {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-env"}}),
              &source));
  EXPECT_EQ(source, "container credentials");
  EXPECT_EQ(c.access_key_id, "CONTAINERKEY");
  EXPECT_EQ(c.session_token, kToken);
  ASSERT_TRUE(c.expiration.has_value());
}

TEST_F(CredentialsTest, ContainerFullUri) {
  LocalHttpServer server([&](const LocalHttpServer::Request& r) {
    if (r.header("authorization") != "env-token") return Reply{403, ""};
    return Reply{
        200, CredentialsJson("FULLKEY", clock_->now() + std::chrono::hours(6))};
  });
  Env env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/creds"},
             {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token"}};
  ASSERT_OK_AND_ASSIGN(Credentials c, Resolve(Options(env)));
  EXPECT_EQ(c.access_key_id, "FULLKEY");
  EXPECT_EQ(server.requests().at(0).path, "/creds");
  // A wrong token is an authentication failure of that source.
  env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "wrong-token";
  EXPECT_THAT(Resolve(Options(env)).status(),
              StatusIs(ErrorCode::kUnauthenticated,
                       AllOf(HasSubstr("container credentials"),
                             HasSubstr("403"), Not(HasSubstr("wrong-token")))));
  // Plain http is allowed only to loopback / link-local hosts.
  env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://example.com/creds";
  EXPECT_THAT(Resolve(Options(env)).status(),
              StatusIs(ErrorCode::kInvalidArgument));
}

TEST_F(CredentialsTest, InstanceMetadataV2) {
  LocalHttpServer imds(Imds([&] {
    return CredentialsJson("IMDSKEY", clock_->now() + std::chrono::hours(6));
  }));
  CredentialsOptions options =
      Options({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url() + "/"},
               {"AWS_EC2_METADATA_DISABLED", "false"}});
  std::string source;
  ASSERT_OK_AND_ASSIGN(Credentials c, Resolve(options, &source));
  EXPECT_EQ(source, "EC2 instance metadata");
  EXPECT_EQ(c.access_key_id, "IMDSKEY");
  const auto requests = imds.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].header("x-aws-ec2-metadata-token-ttl-seconds"),
            "21600");
  EXPECT_EQ(requests[2].path,
            "/latest/meta-data/iam/security-credentials/my-role");
}

TEST_F(CredentialsTest, FailedSourceErrorListsTheSourcesTriedBefore) {
  LocalHttpServer imds([](const LocalHttpServer::Request&) {
    return Reply{403, ""};
  });
  auto status =
      Resolve(Options({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url() + "/"},
                       {"AWS_EC2_METADATA_DISABLED", "false"}}))
          .status();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("explicit options"), HasSubstr("environment"),
                    HasSubstr("shared files"), HasSubstr("web identity"),
                    HasSubstr("container credentials"),
                    HasSubstr("then EC2 instance metadata"), HasSubstr("403")))
      << status;
}

TEST_F(CredentialsTest, InstanceMetadataDisabledOrAbsent) {
  LocalHttpServer imds(Imds([&] {
    return CredentialsJson("IMDSKEY", clock_->now() + std::chrono::hours(6));
  }));
  // Disabled: the server is never asked.
  const Status disabled =
      Resolve(Options({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()},
                       {"AWS_EC2_METADATA_DISABLED", "TRUE"}}))
          .status();
  EXPECT_THAT(disabled, StatusIs(ErrorCode::kUnauthenticated,
                                 HasSubstr("AWS_EC2_METADATA_DISABLED")));
  EXPECT_TRUE(imds.requests().empty());
  // Nothing listening: not configured, so the chain reports no credentials.
  const std::string unused = LocalHttpServer::UnusedUrl();
  EXPECT_THAT(Resolve(Options({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", unused},
                               {"AWS_EC2_METADATA_DISABLED", "false"}}))
                  .status(),
              StatusIs(ErrorCode::kUnauthenticated,
                       HasSubstr("no answer from " + unused)));
  // An instance without a role.
  LocalHttpServer no_role([](const LocalHttpServer::Request& r) {
    return r.method == "PUT" ? Reply{200, "t"} : Reply{404, ""};
  });
  EXPECT_THAT(
      Resolve(Options({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", no_role.url()},
                       {"AWS_EC2_METADATA_DISABLED", "false"}}))
          .status(),
      StatusIs(ErrorCode::kUnauthenticated, HasSubstr("no IAM role")));
}

TEST_F(CredentialsTest, PrecedenceFollowsTheChain) {
  LocalHttpServer sts([&](const LocalHttpServer::Request&) {
    return Reply{200, StsXml("STS", clock_->now() + std::chrono::hours(1))};
  });
  LocalHttpServer imds(Imds([&] {
    return CredentialsJson("IMDS", clock_->now() + std::chrono::hours(1));
  }));
  container_.set_handler([&](const LocalHttpServer::Request&) {
    return Reply{200, CredentialsJson("CONTAINER",
                                      clock_->now() + std::chrono::hours(1))};
  });
  Write(".aws/credentials",
        "[default]\naws_access_key_id = FILES\n"
        "aws_secret_access_key = s\n");
  Env env = {{"AWS_ACCESS_KEY_ID", "ENV"},
             {"AWS_SECRET_ACCESS_KEY", "s"},
             {"AWS_WEB_IDENTITY_TOKEN_FILE", Write("token", kIdentity)},
             {"AWS_ROLE_ARN", "arn:aws:iam::1:role/x"},
             {"AWS_ENDPOINT_URL_STS", sts.url()},
             {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c"},
             {"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()},
             {"AWS_EC2_METADATA_DISABLED", "false"}};
  CredentialsOptions explicit_options = Options(env);
  explicit_options.access_key_id = "EXPLICIT";
  explicit_options.secret_access_key = "s";
  std::vector<std::string> order;
  ASSERT_OK_AND_ASSIGN(Credentials c, Resolve(explicit_options));
  order.push_back(c.access_key_id);
  const std::vector<std::vector<std::string>> remove = {
      {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
      {"HOME"},
      {"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"},
      {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"}};
  ASSERT_OK_AND_ASSIGN(c, Resolve(Options(env)));
  order.push_back(c.access_key_id);
  for (const auto& names : remove) {
    for (const auto& name : names) env.erase(name);
    if (names[0] == "HOME") env["HOME"] = (dir_.path() / "empty-home").string();
    ASSERT_OK_AND_ASSIGN(c, Resolve(Options(env)));
    order.push_back(c.access_key_id);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"EXPLICIT", "ENV", "FILES", "STS",
                                             "CONTAINER", "IMDS"}));
}

TEST_F(CredentialsTest, NothingFoundListsEverySourceTried) {
  const Status status = Resolve(Options({})).status();
  EXPECT_THAT(
      status,
      StatusIs(ErrorCode::kUnauthenticated,
               AllOf(HasSubstr("explicit options"), HasSubstr("environment"),
                     HasSubstr("shared files"), HasSubstr("web identity"),
                     HasSubstr("container credentials"),
                     HasSubstr("EC2 instance metadata"))));
}

TEST_F(CredentialsTest, AnonymousConsultsNoSource) {
  CredentialsOptions options = Options({{"AWS_ACCESS_KEY_ID", "half-set"}});
  options.anonymous = true;
  std::string source;
  ASSERT_OK_AND_ASSIGN(Credentials c, Resolve(options, &source));
  EXPECT_TRUE(c.anonymous());
  EXPECT_EQ(source, "anonymous");
}

TEST_F(CredentialsTest, RefreshesBeforeExpiryWithInjectedClock) {
  std::atomic<int> served{0};
  std::atomic<bool> failing{false};
  const auto start = clock_->now();
  const auto inner = Imds([&] {
    const int n = ++served;
    return CredentialsJson("KEY" + std::to_string(n),
                           start + std::chrono::hours(n));
  });
  LocalHttpServer imds([&](const LocalHttpServer::Request& r) {
    return failing ? Reply{500, ""} : inner(r);
  });
  CredentialsOptions options =
      Options({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()},
               {"AWS_EC2_METADATA_DISABLED", "false"}});
  ASSERT_OK_AND_ASSIGN(auto provider, MakeCredentialsProvider(options));
  ASSERT_OK_AND_ASSIGN(Credentials c, provider->GetCredentials());
  EXPECT_EQ(c.access_key_id, "KEY1");  // expires at start + 1 h
  clock_->Advance(std::chrono::minutes(54));
  ASSERT_OK_AND_ASSIGN(c, provider->GetCredentials());
  EXPECT_EQ(c.access_key_id, "KEY1");  // 6 min left: no fetch
  EXPECT_EQ(served.load(), 1);
  clock_->Advance(std::chrono::minutes(2));  // 4 min left: refresh
  ASSERT_OK_AND_ASSIGN(c, provider->GetCredentials());
  EXPECT_EQ(c.access_key_id, "KEY2");  // expires at start + 2 h
  EXPECT_EQ(served.load(), 2);

  // Many threads at once inside the margin: one fetch.
  clock_->Set(start + std::chrono::minutes(116));
  std::vector<std::thread> threads;
  std::atomic<int> key3{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto got = provider->GetCredentials();
      if (got.ok() && got->access_key_id == "KEY3") ++key3;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(key3.load(), 8);
  EXPECT_EQ(served.load(), 3);  // KEY3 expires at start + 3 h

  // Refresh fails: the old credentials serve while valid; retries are
  // spaced by retry_after_failure; after expiry, a clear error.
  failing = true;
  const std::size_t before = imds.requests().size();
  clock_->Set(start + std::chrono::minutes(176));
  ASSERT_OK_AND_ASSIGN(c, provider->GetCredentials());
  EXPECT_EQ(c.access_key_id, "KEY3");
  ASSERT_OK_AND_ASSIGN(c, provider->GetCredentials());  // within 10 s: no retry
  EXPECT_EQ(imds.requests().size(), before + 1);
  clock_->Set(start + std::chrono::minutes(181));
  const Status expired = provider->GetCredentials().status();
  EXPECT_THAT(expired, StatusIs(ErrorCode::kUnauthenticated,
                                AllOf(HasSubstr("EC2 instance metadata"),
                                      HasSubstr("expired"))));
  EXPECT_THAT(expired.message(),
              AllOf(Not(HasSubstr(kSecret)), Not(HasSubstr(kToken))));
  failing = false;
  clock_->Advance(std::chrono::seconds(11));
  ASSERT_OK_AND_ASSIGN(c, provider->GetCredentials());
  EXPECT_EQ(c.access_key_id, "KEY4");
}

TEST_F(CredentialsTest, LongTermCredentialsAreNeverRefetched) {
  ASSERT_OK_AND_ASSIGN(
      auto provider,
      MakeCredentialsProvider(Options(
          {{"AWS_ACCESS_KEY_ID", "K"}, {"AWS_SECRET_ACCESS_KEY", kSecret}})));
  clock_->Advance(std::chrono::hours(24 * 365));
  ASSERT_OK_AND_ASSIGN(Credentials c, provider->GetCredentials());
  EXPECT_EQ(c.access_key_id, "K");
  EXPECT_FALSE(c.expiration.has_value());
}

// Every failure path: the message names the source, never a secret.
TEST_F(CredentialsTest, NoSecretInAnyMessage) {
  LocalHttpServer echo([](const LocalHttpServer::Request& r) {
    return Reply{403,
                 "<ErrorResponse><Error><Code>AccessDenied</Code><Message>" +
                     r.body + " " + r.header("authorization") +
                     "</Message></Error></ErrorResponse>"};
  });
  const std::string token_file = Write("token", kIdentity);
  std::vector<Status> statuses;
  CredentialsOptions explicit_half = Options({});
  explicit_half.secret_access_key = kSecret;
  statuses.push_back(Resolve(explicit_half).status());
  statuses.push_back(
      Resolve(Options({{"AWS_SECRET_ACCESS_KEY", kSecret}})).status());
  Write(".aws/credentials",
        "[default]\naws_secret_access_key = " + std::string(kSecret) + "\n");
  statuses.push_back(Resolve(Options({})).status());
  std::filesystem::remove(dir_.path() / ".aws/credentials");
  statuses.push_back(
      Resolve(Options({{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                       {"AWS_ROLE_ARN", "arn:aws:iam::1:role/x"},
                       {"AWS_ENDPOINT_URL_STS", echo.url()}}))
          .status());
  statuses.push_back(
      Resolve(Options({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", echo.url()},
                       {"AWS_CONTAINER_AUTHORIZATION_TOKEN", kToken}}))
          .status());
  for (const Status& status : statuses) {
    ASSERT_FALSE(status.ok());
    EXPECT_THAT(status.message(),
                AllOf(Not(HasSubstr(kSecret)), Not(HasSubstr(kToken)),
                      Not(HasSubstr(kIdentity))))
        << status;
  }
}

TEST(ParseIsoTimePoint, CredentialExpiryFormats) {
  const auto base = std::chrono::system_clock::from_time_t(1893456000);  // 2030
  EXPECT_EQ(backends::internal::ParseIsoTimePoint("2030-01-01T00:00:00Z"),
            base);
  EXPECT_EQ(backends::internal::ParseIsoTimePoint("2030-01-01T00:00:00.123Z"),
            base + std::chrono::milliseconds(123));
  EXPECT_EQ(backends::internal::ParseIsoTimePoint("2030-01-01T02:00:00+02:00"),
            base);
  EXPECT_FALSE(backends::internal::ParseIsoTimePoint("tomorrow").has_value());
  EXPECT_FALSE(backends::internal::ParseIsoTimePoint("2030-01-01T00:00:00+2")
                   .has_value());
}

}  // namespace
}  // namespace backends::s3

// The AWS credentials chain. See credentials.h for the order; the HTTP
// sources live in credentials_remote.cc.
//
// https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html
//
// The chain stops at the first configured source: falling through to other
// credentials after a configured source failed would sign with an identity
// the user did not choose.

#include "s3/credentials.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <iomanip>
#include <mutex>
#include <sstream>
#include <utility>

#include "s3/credentials_remote.h"

namespace backends::s3 {
namespace {

using SysClock = std::chrono::system_clock;
using internal::AssumeRoleWithWebIdentity;
using internal::FetchContainer;
using internal::FetchInstanceMetadata;
using internal::HostOf;
using internal::IsLocalHost;
using internal::MetadataEndpoint;

// --- the refreshing provider -----------------------------------------------

class RefreshingProvider final : public CredentialsProvider {
 public:
  RefreshingProvider(std::string source,
                     std::function<Result<Credentials>()> fetch,
                     Credentials initial, const CredentialsOptions& options)
      : source_(std::move(source)),
        fetch_(std::move(fetch)),
        clock_(options.clock ? options.clock : DefaultClock()),
        margin_(options.refresh_margin),
        retry_after_(options.retry_after_failure),
        current_(std::move(initial)) {}

  Result<Credentials> GetCredentials() override {
    std::scoped_lock lock(mutex_);
    if (!current_.expiration) return current_;
    const SysClock::time_point now = clock_->now();
    if (now + margin_ < *current_.expiration) return current_;
    if (last_failure_ && now < *last_failure_ + retry_after_) {
      if (now < *current_.expiration) return current_;
      return Expired(failure_);
    }
    Result<Credentials> fresh = fetch_();
    if (fresh.ok()) {
      current_ = *std::move(fresh);
      last_failure_.reset();
      return current_;
    }
    last_failure_ = now;
    failure_ = fresh.status();
    if (now < *current_.expiration) return current_;
    return Expired(failure_);
  }

  std::string source() const override { return source_; }

 private:
  Status Expired(const Status& cause) const {
    return UnauthenticatedError(
        "credentials from " + source_ +
        " expired and could not be renewed: " + cause.ToString());
  }

  const std::string source_;
  const std::function<Result<Credentials>()> fetch_;
  const std::shared_ptr<Clock> clock_;
  const std::chrono::seconds margin_;
  const std::chrono::seconds retry_after_;
  std::mutex mutex_;
  Credentials current_;  // guarded by mutex_
  std::optional<SysClock::time_point> last_failure_;
  Status failure_;
};

using Fetch = std::function<Result<Credentials>()>;

SourceResult Found(Result<Credentials> result) {
  if (!result.ok()) return std::move(result).status();
  return std::optional<Credentials>(*std::move(result));
}

}  // namespace

std::shared_ptr<CredentialsProvider> MakeRefreshingProvider(
    std::string source, std::function<Result<Credentials>()> fetch,
    Credentials initial, const CredentialsOptions& options) {
  return std::make_shared<RefreshingProvider>(
      std::move(source), std::move(fetch), std::move(initial), options);
}

SourceResult FromExplicit(const CredentialsOptions& options,
                          std::string& why_not) {
  const bool id = !options.access_key_id.empty();
  const bool secret = !options.secret_access_key.empty();
  if (id != secret) {
    return InvalidArgumentError(
        "explicit credentials: access_key_id and secret_access_key must be "
        "given together");
  }
  if (!id) {
    why_not = "none given";
    return std::nullopt;
  }
  return Credentials{.access_key_id = options.access_key_id,
                     .secret_access_key = options.secret_access_key,
                     .session_token = options.session_token};
}

SourceResult FromEnvironment(const CredentialsOptions& options,
                             std::string& why_not) {
  const Environment& env = options.environment;
  auto id = EnvValue(env, "AWS_ACCESS_KEY_ID");
  auto secret = EnvValue(env, "AWS_SECRET_ACCESS_KEY");
  if (!id && !secret) {
    why_not = "AWS_ACCESS_KEY_ID not set";
    return std::nullopt;
  }
  if (!id || !secret) {
    return InvalidArgumentError(
        std::string("environment: ") +
        (id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
            : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"));
  }
  return Credentials{
      .access_key_id = *id,
      .secret_access_key = *secret,
      .session_token = EnvValue(env, "AWS_SESSION_TOKEN").value_or("")};
}

SourceResult FromSharedFiles(const CredentialsOptions& options,
                             std::string& why_not) {
  BACKENDS_ASSIGN_OR_RETURN(
      SharedProfile profile,
      LoadSharedProfile(options.profile, options.environment));
  const std::string where =
      profile.credentials_path + ", " + profile.config_path;
  const std::string name = "shared files (profile " + profile.name + ")";
  if (!profile.found()) {
    if (profile.named_explicitly) {
      return InvalidArgumentError(name + ": no such profile in " + where);
    }
    why_not = "profile " + profile.name + " not in " + where;
    return std::nullopt;
  }
  auto id = profile.Get("aws_access_key_id");
  auto secret = profile.Get("aws_secret_access_key");
  if (id && secret) {
    return Credentials{
        .access_key_id = *id,
        .secret_access_key = *secret,
        .session_token = profile.Get("aws_session_token").value_or("")};
  }
  if (id || secret) {
    return InvalidArgumentError(
        name +
        ": aws_access_key_id and aws_secret_access_key must be given "
        "together");
  }
  auto role = profile.Get("role_arn");
  auto token_file = profile.Get("web_identity_token_file");
  if (role && token_file) {
    return Found(AssumeRoleWithWebIdentity(
        options, ExpandHome(*token_file, options.environment), *role,
        profile.Get("role_session_name").value_or("")));
  }
  why_not = "profile " + profile.name + " has no aws_access_key_id";
  if (role)
    why_not += " (role_arn without web_identity_token_file is not supported)";
  return std::nullopt;
}

SourceResult FromWebIdentity(const CredentialsOptions& options,
                             std::string& why_not) {
  const Environment& env = options.environment;
  auto token_file = EnvValue(env, "AWS_WEB_IDENTITY_TOKEN_FILE");
  auto role = EnvValue(env, "AWS_ROLE_ARN");
  if (!token_file && !role) {
    why_not = "AWS_WEB_IDENTITY_TOKEN_FILE not set";
    return std::nullopt;
  }
  if (!token_file || !role) {
    return InvalidArgumentError(
        "web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN must be "
        "set together");
  }
  return Found(AssumeRoleWithWebIdentity(
      options, *token_file, *role,
      EnvValue(env, "AWS_ROLE_SESSION_NAME").value_or("")));
}

SourceResult FromContainer(const CredentialsOptions& options,
                           std::string& why_not) {
  const Environment& env = options.environment;
  std::string url;
  if (auto relative = EnvValue(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = options.container_host;
    if (!relative->starts_with("/")) url += "/";
    url += *relative;
  } else if (auto full = EnvValue(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    url = *full;
    const bool https = url.starts_with("https://");
    if (!https && !(url.starts_with("http://") && IsLocalHost(HostOf(url)))) {
      return InvalidArgumentError(
          "container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI must be "
          "https or a loopback/link-local http URL, got " +
          url.substr(0, url.find('?')));
    }
  } else {
    why_not = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set";
    return std::nullopt;
  }
  return Found(FetchContainer(options, url));
}

SourceResult FromInstanceMetadata(const CredentialsOptions& options,
                                  std::string& why_not) {
  const Environment& env = options.environment;
  std::string disabled =
      EnvValue(env, "AWS_EC2_METADATA_DISABLED").value_or("");
  std::transform(disabled.begin(), disabled.end(), disabled.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (disabled == "true") {
    why_not = "AWS_EC2_METADATA_DISABLED=true";
    return std::nullopt;
  }
  bool reachable = false;
  Result<Credentials> result = FetchInstanceMetadata(options, reachable);
  if (!reachable) {
    why_not = "no answer from " + MetadataEndpoint(env);
    return std::nullopt;
  }
  if (!result.ok()) return result.status();
  return *std::move(result);
}

Result<std::shared_ptr<CredentialsProvider>> MakeCredentialsProvider(
    const CredentialsOptions& given) {
  CredentialsOptions options = given;
  if (!options.clock) options.clock = DefaultClock();
  if (!options.environment) options.environment = ProcessEnvironment();
  if (options.anonymous) {
    return MakeRefreshingProvider("anonymous", nullptr, Credentials{}, options);
  }
  using SourceFn = SourceResult (*)(const CredentialsOptions&, std::string&);
  const std::pair<const char*, SourceFn> chain[] = {
      {"explicit options", &FromExplicit},
      {"environment", &FromEnvironment},
      {"shared files", &FromSharedFiles},
      {"web identity", &FromWebIdentity},
      {"container credentials", &FromContainer},
      {"EC2 instance metadata", &FromInstanceMetadata},
  };
  std::string tried;
  for (const auto& [name, source] : chain) {
    std::string why_not;
    Result<std::optional<Credentials>> answer = source(options, why_not);
    if (!answer.ok()) {
      // Say which sources came up empty before this one failed.
      if (tried.empty()) return answer.status();
      return answer.status().WithContext("S3 credentials (tried " + tried +
                                         "; then " + name + ")");
    }
    std::optional<Credentials> found = *std::move(answer);
    if (found) {
      std::string label = name;
      if (source == &FromSharedFiles) {
        label += " (profile " +
                 (options.profile.empty()
                      ? EnvValue(options.environment, "AWS_PROFILE")
                            .value_or("default")
                      : options.profile) +
                 ")";
      }
      Fetch refetch = [options, source = source]() -> Result<Credentials> {
        std::string ignored;
        BACKENDS_ASSIGN_OR_RETURN(std::optional<Credentials> again,
                                  source(options, ignored));
        if (!again) {
          return UnauthenticatedError("the source no longer has credentials (" +
                                      ignored + ")");
        }
        return *std::move(again);
      };
      return MakeRefreshingProvider(std::move(label), std::move(refetch),
                                    *std::move(found), options);
    }
    if (!tried.empty()) tried += "; ";
    tried += std::string(name) + ": " + why_not;
  }
  return UnauthenticatedError(
      "no S3 credentials found; tried " + tried +
      ". Give credentials, or ask for anonymous access (public buckets)");
}

}  // namespace backends::s3

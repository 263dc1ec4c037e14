// The HTTP credential sources.
//
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
//
// A private, minimal libcurl client: one easy handle per request (these run
// once per credential lifetime, not per S3 request). Link-local and loopback
// hosts bypass any proxy. Error messages carry the source, the URL (which
// holds no secret) and the cause; server-provided text is scrubbed of the
// secrets this code knows before it is quoted.

#include "s3/credentials_remote.h"

#include <curl/curl.h>

#include <cctype>
#include <ctime>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <sstream>
#include <utility>
#include <vector>

#include "iso8601.h"

namespace backends::s3 {
namespace {

using internal::HostOf;
using internal::IsLocalHost;
using SysClock = std::chrono::system_clock;

// --- a tiny HTTP client -----------------------------------------------------

struct HttpReply {
  long status = 0;
  std::string body;
};

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

std::size_t AppendBody(char* data, std::size_t size, std::size_t count,
                       void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() > (1u << 20)) return 0;  // credentials are small
  body->append(data, size * count);
  return size * count;
}

Result<HttpReply> HttpCall(std::string_view source, const std::string& method,
                           const std::string& url,
                           const std::vector<std::string>& headers,
                           const std::string& body,
                           std::chrono::milliseconds timeout,
                           const std::string& ca_bundle = "") {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) {
    return InternalError(std::string(source) + ": curl_global_init failed");
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl)
    return InternalError(std::string(source) + ": curl_easy_init failed");
  std::unique_ptr<curl_slist, SlistDeleter> list;
  for (const std::string& header : headers) {
    curl_slist* next = curl_slist_append(list.get(), header.c_str());
    if (next == nullptr)
      return InternalError(std::string(source) + ": out of memory");
    list.release();
    list.reset(next);
  }
  HttpReply reply;
  char error[CURL_ERROR_SIZE] = {0};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply.body);
  if (IsLocalHost(HostOf(url))) curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  if (!ca_bundle.empty() && url.starts_with("https:")) {
    curl_easy_setopt(h, CURLOPT_CAINFO, ca_bundle.c_str());
  }
  if (method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  const CURLcode code = curl_easy_perform(h);
  if (code != CURLE_OK) {
    std::string message =
        std::string(source) + ": " + method + " " + url +
        " failed: " + (error[0] != '\0' ? error : curl_easy_strerror(code));
    if (code == CURLE_OPERATION_TIMEDOUT) {
      return DeadlineExceededError(std::move(message));
    }
    return UnavailableError(std::move(message));
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

// --- helpers ----------------------------------------------------------------

// Removes every known secret from text that came from a server.
std::string Scrub(std::string text,
                  std::initializer_list<std::string_view> secrets) {
  for (std::string_view secret : secrets) {
    if (secret.size() < 4) continue;
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at)) {
      text.replace(at, secret.size(), "<redacted>");
    }
  }
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text;
}

Result<std::string> ReadTokenFile(std::string_view source,
                                  std::string_view variable,
                                  const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgumentError(std::string(source) + ": cannot read " +
                                std::string(variable) + " file " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' ||
                            token.back() == ' ')) {
    token.pop_back();
  }
  if (token.empty()) {
    return InvalidArgumentError(std::string(source) + ": " +
                                std::string(variable) + " file " + path +
                                " is empty");
  }
  return token;
}

std::string Trimmed(std::string text) {
  while (!text.empty() &&
         std::isspace(static_cast<unsigned char>(text.back()))) {
    text.pop_back();
  }
  return text;
}

// Credentials from the JSON the container and IMDS endpoints answer.
Result<Credentials> ParseCredentialsJson(std::string_view source,
                                         const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  const auto text = [&](const char* key) -> std::string {
    if (!json.is_object() || !json.contains(key) || !json[key].is_string()) {
      return {};
    }
    return json[key].get<std::string>();
  };
  Credentials out;
  out.access_key_id = text("AccessKeyId");
  out.secret_access_key = text("SecretAccessKey");
  out.session_token = text("Token");
  if (out.access_key_id.empty() || out.secret_access_key.empty()) {
    return UnauthenticatedError(
        std::string(source) +
        ": the answer has no AccessKeyId/SecretAccessKey (code \"" +
        Scrub(text("Code"), {}) + "\")");
  }
  if (const std::string expiration = text("Expiration"); !expiration.empty()) {
    out.expiration = backends::internal::ParseIsoTimePoint(expiration);
    if (!out.expiration) {
      return UnavailableError(std::string(source) +
                              ": cannot parse Expiration \"" + expiration +
                              "\"");
    }
  }
  return out;
}

std::string StsEndpoint(const Environment& env) {
  if (!EnvValue(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").has_value() ||
      *EnvValue(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") != "true") {
    if (auto url = EnvValue(env, "AWS_ENDPOINT_URL_STS")) return *url;
    if (auto url = EnvValue(env, "AWS_ENDPOINT_URL")) return *url;
  }
  auto region = EnvValue(env, "AWS_REGION");
  if (!region) region = EnvValue(env, "AWS_DEFAULT_REGION");
  if (!region) return "https://sts.amazonaws.com";
  return "https://sts." + *region + ".amazonaws.com" +
         (region->starts_with("cn-") ? ".cn" : "");
}

}  // namespace

namespace internal {

bool IsLocalHost(std::string_view host) {
  return host == "localhost" || host.starts_with("127.") || host == "[::1]" ||
         host.starts_with("169.254.") || host.starts_with("[fd00:ec2::");
}

// "http://host:port/path" -> "host" ("[v6]" kept bracketed).
std::string HostOf(std::string_view url) {
  std::size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  std::string_view rest = url.substr(start);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.starts_with("["))
    return std::string(rest.substr(0, rest.find(']') + 1));
  return std::string(rest.substr(0, rest.find(':')));
}

// STS AssumeRoleWithWebIdentity (an unsigned request).
Result<Credentials> AssumeRoleWithWebIdentity(const CredentialsOptions& options,
                                              const std::string& token_file,
                                              const std::string& role_arn,
                                              std::string session_name) {
  constexpr std::string_view kSource = "web identity";
  BACKENDS_ASSIGN_OR_RETURN(
      std::string token,
      ReadTokenFile(kSource, "AWS_WEB_IDENTITY_TOKEN_FILE", token_file));
  if (session_name.empty()) {
    session_name =
        "backends-" + std::to_string(SysClock::to_time_t(options.clock->now()));
  }
  std::string url = StsEndpoint(options.environment);
  while (url.ends_with("/")) url.pop_back();
  url += "/";
  const std::string body =
      "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" +
      UriEncode(role_arn, false) +
      "&RoleSessionName=" + UriEncode(session_name, false) +
      "&WebIdentityToken=" + UriEncode(token, false);
  BACKENDS_ASSIGN_OR_RETURN(
      HttpReply reply,
      HttpCall(kSource, "POST", url,
               {"Content-Type: application/x-www-form-urlencoded",
                "Accept: application/xml"},
               body, options.sts_timeout,
               EnvValue(options.environment, "AWS_CA_BUNDLE").value_or("")));
  pugi::xml_document doc;
  const bool parsed = doc.load_buffer(reply.body.data(), reply.body.size());
  if (reply.status != 200) {
    const pugi::xml_node error =
        doc.first_element_by_path("ErrorResponse/Error");
    std::string message = std::string(kSource) +
                          ": STS AssumeRoleWithWebIdentity for " + role_arn +
                          " returned " + std::to_string(reply.status);
    if (error) {
      message += " " + Scrub(error.child_value("Code"), {token}) + ": " +
                 Scrub(error.child_value("Message"), {token});
    }
    if (reply.status >= 500) return UnavailableError(std::move(message));
    return UnauthenticatedError(std::move(message));
  }
  const pugi::xml_node creds = doc.first_element_by_path(
      "AssumeRoleWithWebIdentityResponse/AssumeRoleWithWebIdentityResult/"
      "Credentials");
  Credentials out;
  out.access_key_id = creds.child_value("AccessKeyId");
  out.secret_access_key = creds.child_value("SecretAccessKey");
  out.session_token = creds.child_value("SessionToken");
  out.expiration =
      backends::internal::ParseIsoTimePoint(creds.child_value("Expiration"));
  if (!parsed || out.access_key_id.empty() || out.secret_access_key.empty() ||
      !out.expiration) {
    return UnavailableError(std::string(kSource) +
                            ": STS answered 200 without usable Credentials "
                            "(AccessKeyId, SecretAccessKey, Expiration)");
  }
  return out;
}

Result<Credentials> FetchContainer(const CredentialsOptions& options,
                                   const std::string& url) {
  constexpr std::string_view kSource = "container credentials";
  const Environment& env = options.environment;
  std::vector<std::string> headers = {"Accept: application/json"};
  std::string token;
  if (auto file = EnvValue(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    BACKENDS_ASSIGN_OR_RETURN(
        token, ReadTokenFile(kSource, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                             *file));
  } else if (auto value = EnvValue(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    token = *value;
  }
  if (token.find_first_of("\r\n") != std::string::npos) {
    return InvalidArgumentError(std::string(kSource) +
                                ": the authorization token has a line break");
  }
  if (!token.empty()) headers.push_back("Authorization: " + token);
  BACKENDS_ASSIGN_OR_RETURN(
      HttpReply reply,
      HttpCall(kSource, "GET", url, headers, "", options.metadata_timeout));
  if (reply.status != 200) {
    std::string message = std::string(kSource) + ": GET " + url + " returned " +
                          std::to_string(reply.status);
    if (reply.status >= 500) return UnavailableError(std::move(message));
    return UnauthenticatedError(std::move(message));
  }
  return ParseCredentialsJson(kSource, reply.body);
}

std::string MetadataEndpoint(const Environment& env) {
  std::string url;
  if (auto value = EnvValue(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
    url = *value;
  } else if (EnvValue(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")
                 .value_or("") == "IPv6") {
    url = "http://[fd00:ec2::254]";
  } else {
    url = "http://169.254.169.254";
  }
  while (url.ends_with("/")) url.pop_back();
  return url;
}

// IMDSv2. `reachable` tells whether the service answered at all.
Result<Credentials> FetchInstanceMetadata(const CredentialsOptions& options,
                                          bool& reachable) {
  constexpr std::string_view kSource = "EC2 instance metadata";
  const std::string base = MetadataEndpoint(options.environment);
  reachable = false;
  BACKENDS_ASSIGN_OR_RETURN(
      HttpReply token, HttpCall(kSource, "PUT", base + "/latest/api/token",
                                {"X-aws-ec2-metadata-token-ttl-seconds: 21600"},
                                "", options.metadata_timeout));
  reachable = true;
  if (token.status != 200 || token.body.empty()) {
    return UnavailableError(std::string(kSource) + ": PUT " + base +
                            "/latest/api/token returned " +
                            std::to_string(token.status));
  }
  const std::string header = "X-aws-ec2-metadata-token: " + Trimmed(token.body);
  const std::string roles_url =
      base + "/latest/meta-data/iam/security-credentials/";
  BACKENDS_ASSIGN_OR_RETURN(HttpReply roles,
                            HttpCall(kSource, "GET", roles_url, {header}, "",
                                     options.metadata_timeout));
  if (roles.status == 404) {
    return UnauthenticatedError(std::string(kSource) +
                                ": the instance has no IAM role");
  }
  std::string role = Trimmed(roles.body.substr(0, roles.body.find('\n')));
  if (roles.status != 200 || role.empty()) {
    return UnavailableError(std::string(kSource) + ": GET " + roles_url +
                            " returned " + std::to_string(roles.status));
  }
  BACKENDS_ASSIGN_OR_RETURN(
      HttpReply creds,
      HttpCall(kSource, "GET", roles_url + UriEncode(role, false), {header}, "",
               options.metadata_timeout));
  if (creds.status != 200) {
    return UnavailableError(std::string(kSource) +
                            ": GET credentials of role " + role + " returned " +
                            std::to_string(creds.status));
  }
  return ParseCredentialsJson(kSource, creds.body);
}

}  // namespace internal

}  // namespace backends::s3

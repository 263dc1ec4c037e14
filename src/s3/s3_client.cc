// Request building and signing for S3.
//
// URLs: path style is SCHEME://AUTHORITY/BUCKET/KEY, virtual-hosted is
// SCHEME://BUCKET.AUTHORITY/KEY. The key is URI-encoded once with the same
// function the signer uses for the canonical URI (every byte but
// A-Z a-z 0-9 - _ . ~ and '/'), and the transport sends the path as is, so
// the bytes signed are the bytes sent. Every signed request carries
// x-amz-content-sha256 with the payload's real hash (S3 checks it, which
// also guards plain-http bodies).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
//
// Secrets: error answers are scrubbed of the request's signature, session
// token and secret key before anything quotes them (a server may echo the
// request), so no Status built from an answer can carry them.
//
// Region correction: S3 answers a request signed for the wrong region with
// 301 PermanentRedirect or 400 AuthorizationHeaderMalformed and names the
// bucket's region in x-amz-bucket-region (or <Region>); the client switches
// to it and retries once.

#include "s3/s3_client.h"

#include <openssl/evp.h>

#include <cstdint>
#include <random>
#include <thread>

#include "s3/retry.h"
#include "s3/s3_config.h"
#include "s3/s3_errors.h"

namespace backends::s3 {
namespace {

// Replaces every occurrence of `secret` in `text` with "[redacted]".
void Redact(std::string& text, std::string_view secret) {
  if (secret.size() < 8) return;  // nothing real is that short
  for (auto at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at)) {
    text.replace(at, secret.size(), "[redacted]");
  }
}

std::string EncodeQuery(
    const std::vector<std::pair<std::string, std::string>>& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty()) out += '&';
    out += UriEncode(name, false);
    out += '=';
    out += UriEncode(value, false);
  }
  return out;
}

}  // namespace

std::string ContentMd5(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr);
  std::string out(4 * ((length + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest,
                          static_cast<int>(length));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string SinglePartEtag(std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(body.data(), body.size(), digest, &length, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out + "\"";
}

std::string NewWriteId() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int word = 0; word < 2; ++word) {
    std::uint64_t bits = random();
    for (int i = 0; i < 16; ++i, bits >>= 4) out += kHex[bits & 15];
  }
  return out;
}

S3Client::S3Client(S3Endpoint endpoint, CredentialsSource credentials,
                   std::unique_ptr<HttpTransport> transport,
                   std::shared_ptr<Clock> clock, S3RetryOptions retry,
                   std::uint64_t min_transfer_rate)
    : credentials_(std::move(credentials)),
      transport_(std::move(transport)),
      clock_(std::move(clock)),
      retry_(std::move(retry)),
      min_transfer_rate_(min_transfer_rate),
      endpoint_(std::move(endpoint)) {}

S3Endpoint S3Client::endpoint() const {
  std::scoped_lock lock(mutex_);
  return endpoint_;
}

S3Client::Target S3Client::TargetFor(const S3Endpoint& endpoint,
                                     std::string_view bucket,
                                     std::string_view key) const {
  Target target;
  if (endpoint.path_style) {
    target.authority = endpoint.authority;
    target.path = "/" + std::string(bucket);
    if (!key.empty()) target.path += "/" + std::string(key);
  } else {
    target.authority = std::string(bucket) + "." + endpoint.authority;
    target.path = "/" + std::string(key);
  }
  return target;
}

std::string S3Client::ObjectUrl(std::string_view bucket,
                                std::string_view key) const {
  S3Endpoint now = endpoint();
  Target target = TargetFor(now, bucket, key);
  return now.scheme + "://" + target.authority + UriEncode(target.path, true);
}

Result<S3Client::Signed> S3Client::Sign(const S3Endpoint& endpoint,
                                        const Request& request,
                                        const std::string& payload_sha256,
                                        std::string_view context) {
  Target target = TargetFor(
      endpoint, request.bucket.empty() ? endpoint.bucket : request.bucket,
      request.key);
  Signed out;
  out.used = endpoint;
  HttpRequest& http = out.http;
  http.method = request.method;
  http.url =
      endpoint.scheme + "://" + target.authority + UriEncode(target.path, true);
  if (!request.query.empty()) http.url += "?" + EncodeQuery(request.query);
  http.body = request.body;
  http.expected_bytes = request.expected_bytes;
  http.headers = request.headers;

  BACKENDS_ASSIGN_OR_RETURN(out.credentials, credentials_());
  if (!out.credentials.anonymous()) {
    SigningRequest signing;
    signing.method = request.method;
    signing.host = target.authority;
    signing.path = target.path;
    signing.query = request.query;
    signing.headers = request.headers;  // the signer adds Host itself
    signing.payload_sha256 = payload_sha256;
    SigningScope scope{
        .region = endpoint.region, .service = "s3", .time = clock_->now()};
    auto signed_request = SignHeaders(signing, out.credentials, scope);
    if (!signed_request.ok()) {
      return signed_request.status().WithContext(context);
    }
    out.signature = signed_request->signature;
    for (auto& header : signed_request->headers) {
      http.headers.push_back(std::move(header));
    }
  }
  return out;
}

void S3Client::Scrub(const Signed& sent, HttpResponse& response) {
  if (response.status < 300) return;
  // An error answer may echo what it received (AWS returns the signature
  // and canonical request; a broken server may put them in <Message>), and
  // error messages quote it: scrub the secrets first.
  for (std::string_view secret :
       {std::string_view(sent.signature),
        std::string_view(sent.credentials.session_token),
        std::string_view(sent.credentials.secret_access_key)}) {
    Redact(response.body, secret);
    for (auto& header : response.headers) Redact(header.second, secret);
  }
}

Result<HttpResponse> S3Client::SendOnce(const S3Endpoint& endpoint,
                                        const Request& request,
                                        const std::string& payload_sha256,
                                        std::string_view context) {
  BACKENDS_ASSIGN_OR_RETURN(Signed sent,
                            Sign(endpoint, request, payload_sha256, context));
  BACKENDS_ASSIGN_OR_RETURN(HttpResponse response,
                            transport_->Send(sent.http, context));
  Scrub(sent, response);
  return response;
}

bool S3Client::CorrectRegion(const S3Endpoint& used,
                             const HttpResponse& response) {
  if (response.status != 301 && response.status != 307 &&
      response.status != 400) {
    return false;
  }
  std::string region;
  if (const std::string* header = response.header("x-amz-bucket-region")) {
    region = *header;
  } else {
    region = ParseS3Error(response.status, response.body).bucket_region;
  }
  if (region.empty() || region == used.region) return false;
  std::scoped_lock lock(mutex_);
  if (endpoint_.region == used.region) {
    endpoint_.region = region;
    if (endpoint_.aws) endpoint_.authority = AwsS3Authority(region);
  }
  return true;
}

S3Client::Call::Call(S3Client& client, const Request& request,
                     std::string_view context)
    : client_(client),
      request_(request),
      context_(context),
      payload_sha256_(Sha256Hex(request.body)),
      repeatable_(request.repeatable.value_or(
          IsRepeatable(request.method, request.query))),
      timer_(client.retry_, client.min_transfer_rate_) {}

Result<const HttpRequest*> S3Client::Call::Sign() {
  BACKENDS_ASSIGN_OR_RETURN(sent_, client_.Sign(client_.endpoint(), request_,
                                                payload_sha256_, context_));
  return &sent_.http;
}

std::optional<Result<HttpResponse>> S3Client::Call::Judge(
    Result<HttpResponse> response) {
  backoff_.reset();
  if (response.ok()) {
    Scrub(sent_, *response);
    if (!region_corrected_ && client_.CorrectRegion(sent_.used, *response)) {
      region_corrected_ = true;  // not a failure: resend at once
      return std::nullopt;
    }
  }
  const bool retryable =
      response.ok() ? IsRetryableAnswer(response->status, response->body)
                    : IsRetryableFailure(response.status());
  if (!repeatable_ || !retryable) return response;
  backoff_ = timer_.NextBackoff(request_.body.size() + request_.expected_bytes);
  if (backoff_) return std::nullopt;
  // Out of attempts or time: the last cause, and how hard we tried.
  if (!response.ok()) {
    return Status(response.status().code(),
                  response.status().message() + timer_.Summary());
  }
  const std::string* code_header = response->header("x-amz-error-code");
  auto error_info =
      ParseS3Error(response->status, response->body,
                   code_header == nullptr ? std::string_view() : *code_header);
  Status error = S3Error(context_, request_.method, error_info);
  return UnavailableError(error.message() + timer_.Summary());
}

void S3Client::Call::SleepBackoff() const {
  if (!backoff_) return;
  const S3RetryOptions& retry = client_.retry_;
  if (retry.sleep) {
    retry.sleep(*backoff_);  // called for every retry, even a zero wait
  } else {
    std::this_thread::sleep_for(*backoff_);
  }
}

Result<HttpResponse> S3Client::Send(const Request& request,
                                    std::string_view context) {
  Call call(*this, request, context);
  while (true) {
    BACKENDS_ASSIGN_OR_RETURN(const HttpRequest* http, call.Sign());
    auto outcome = call.Judge(transport_->Send(*http, context));
    if (outcome) return std::move(*outcome);
    call.SleepBackoff();
  }
}

Result<std::string> S3Client::Presign(std::string_view method,
                                      std::string_view key,
                                      std::chrono::seconds expiry,
                                      std::string_view context) {
  BACKENDS_ASSIGN_OR_RETURN(Credentials credentials, credentials_());
  S3Endpoint now = endpoint();
  Target target = TargetFor(now, now.bucket, key);
  if (credentials.anonymous()) {
    return UnauthenticatedError(std::string(context) +
                                ": presigning needs credentials (the store "
                                "is anonymous)");
  }
  SigningRequest signing;
  signing.method = std::string(method);
  signing.host = target.authority;
  signing.path = target.path;
  signing.payload_sha256 = "UNSIGNED-PAYLOAD";
  SigningScope scope{
      .region = now.region, .service = "s3", .time = clock_->now()};
  auto signed_request =
      ::backends::s3::Presign(signing, credentials, scope, expiry);
  if (!signed_request.ok()) {
    return signed_request.status().WithContext(context);
  }
  return now.scheme + "://" + target.authority + UriEncode(target.path, true) +
         "?" + signed_request->query;
}

}  // namespace backends::s3

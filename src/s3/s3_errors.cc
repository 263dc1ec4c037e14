// Error mapping for the S3 client: curl codes, HTTP statuses and S3 <Error>
// documents to Status codes (STYLE.md §6). S3's error codes:
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html

#include "s3/s3_errors.h"

#include <curl/curl.h>

#include <pugixml.hpp>

namespace backends::s3 {
namespace {

bool IsOneOf(std::string_view code,
             std::initializer_list<std::string_view> codes) {
  for (auto c : codes) {
    if (code == c) return true;
  }
  return false;
}

// "403 AccessDenied: text" or "403" when the server said nothing more.
std::string Describe(const S3ErrorInfo& info) {
  std::string out = std::to_string(info.http_status);
  if (!info.code.empty()) out += " " + info.code;
  if (!info.message.empty()) out += ": " + info.message;
  if (!info.request_id.empty()) out += " (request id " + info.request_id + ")";
  return out;
}

}  // namespace

S3ErrorInfo ParseS3Error(long http_status, std::string_view body,
                         std::string_view error_code_header) {
  S3ErrorInfo info;
  info.http_status = http_status;
  info.code = std::string(error_code_header);
  if (body.empty()) return info;
  pugi::xml_document doc;
  auto parsed = doc.load_buffer(body.data(), body.size());
  if (!parsed) return info;
  pugi::xml_node error = doc.child("Error");
  if (!error) return info;
  if (auto code = error.child("Code")) info.code = code.text().get();
  info.message = error.child("Message").text().get();
  info.request_id = error.child("RequestId").text().get();
  if (info.code == "NoSuchBucket" && info.message.empty()) {
    info.message = error.child("BucketName").text().get();
    if (!info.message.empty()) {
      info.message = "bucket \"" + info.message + "\" does not exist";
    }
  }
  if (auto region = error.child("Region"))
    info.bucket_region = region.text().get();
  return info;
}

Status S3Error(std::string_view context, std::string_view method,
               const S3ErrorInfo& info) {
  std::string text = std::string(context) + ": s3 " + std::string(method) +
                     " returned " + Describe(info);
  const std::string& code = info.code;
  const long status = info.http_status;
  if (code == "NoSuchBucket") {
    if (info.message.find("does not exist") == std::string::npos) {
      text += " (the bucket does not exist)";
    }
    return NotFoundError(std::move(text));
  }
  if (IsOneOf(code,
              {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
               "InvalidToken", "TokenRefreshRequired",
               "AuthorizationHeaderMalformed", "MissingSecurityHeader"}) ||
      status == 401) {
    if (!info.bucket_region.empty()) {
      text += " (the bucket is in region " + info.bucket_region + ")";
    }
    return UnauthenticatedError(std::move(text));
  }
  if (code == "AccessControlListNotSupported") {
    return FailedPreconditionError(
        std::move(text) +
        " (the bucket has ACLs disabled (Object Ownership: bucket owner "
        "enforced): use presign() for time-limited public links, or a bucket "
        "policy)");
  }
  if (IsOneOf(code, {"SlowDown", "RequestTimeout", "InternalError",
                     "ServiceUnavailable", "RequestTimeTooSkewed"}) ||
      status >= 500 || status == 429) {
    if (code == "RequestTimeTooSkewed") {
      return UnauthenticatedError(std::move(text) +
                                  " (the local clock is wrong)");
    }
    return UnavailableError(std::move(text));
  }
  if (status == 403) return PermissionDeniedError(std::move(text));
  if (status == 301 || status == 307 || code == "PermanentRedirect" ||
      code == "AuthorizationQueryParametersError" ||
      code == "IllegalLocationConstraintException") {
    if (!info.bucket_region.empty()) {
      text += " (the bucket is in region " + info.bucket_region +
              "; set the region option)";
    }
    return FailedPreconditionError(std::move(text));
  }
  if (status == 412 || status == 409 || code == "PreconditionFailed") {
    return FailedPreconditionError(std::move(text));
  }
  if (status == 404) return NotFoundError(std::move(text));
  if (status >= 400 && status < 500) {
    return InvalidArgumentError(std::move(text));
  }
  return InternalError(std::move(text) + " (unexpected answer)");
}

Status CurlError(std::string_view context, std::string_view method,
                 int curl_code, std::string_view detail) {
  const auto code = static_cast<CURLcode>(curl_code);
  std::string text = std::string(context) + ": s3 " + std::string(method) +
                     " failed: " + curl_easy_strerror(code);
  if (!detail.empty()) text += " (" + std::string(detail) + ")";
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceededError(std::move(text));
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_AGAIN:
      return UnavailableError(std::move(text));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgumentError(std::move(text));
    default:
      return InternalError(std::move(text));
  }
}

}  // namespace backends::s3

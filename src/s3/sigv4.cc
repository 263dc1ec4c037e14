// AWS Signature Version 4 for S3.
//
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
//
// The canonical request is
//   METHOD \n CANONICAL_URI \n CANONICAL_QUERY \n CANONICAL_HEADERS \n
//   SIGNED_HEADERS \n PAYLOAD_HASH
// where
//   - CANONICAL_URI is the path URI-encoded once (S3: every byte but
//     A-Z a-z 0-9 - _ . ~ and '/'), never normalised for S3: the bytes
//     signed are the bytes the transport sends;
//   - CANONICAL_QUERY is every name=value pair, each side encoded (here '/'
//     is encoded too), sorted by encoded name then value;
//   - CANONICAL_HEADERS is one "name:value\n" per distinct lower-cased
//     name, sorted, repeated names joined with ',' in order of appearance,
//     values trimmed with inner whitespace runs (folded lines included)
//     collapsed to one space.
// The string to sign is "AWS4-HMAC-SHA256\nDATE\nSCOPE\nhex(SHA256(CR))",
// and the signature HMAC(signing key, string to sign) where the signing key
// is HMAC chained over "AWS4"+secret, date, region, service, "aws4_request".
//
// The signing key changes once a day, so it is cached per thread (no lock on
// the hot path), keyed by everything it depends on.

#include "s3/sigv4.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <memory>

namespace backends::s3 {
namespace {

using Digest = std::array<unsigned char, 32>;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::chrono::seconds kMaxPresignExpiry{7 * 24 * 3600};

// OpenSSL 3: fetch the algorithms once (implicit fetches per call are slow).
const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

EVP_MAC* HmacMac() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

Digest Sha256(std::string_view data) {
  Digest out{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &length, Sha256Md(),
             nullptr);
  return out;
}

Digest Hmac(std::string_view key, std::string_view data) {
  thread_local std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(
      EVP_MAC_CTX_new(HmacMac()));
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  Digest out{};
  std::size_t length = 0;
  EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()),
               key.size(), params);
  EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                 data.size());
  EVP_MAC_final(ctx.get(), out.data(), &length, out.size());
  return out;
}

std::string_view AsView(const Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

std::string Hex(const Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(digest.size() * 2, '\0');
  for (std::size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kDigits[digest[i] >> 4];
    out[2 * i + 1] = kDigits[digest[i] & 0xf];
  }
  return out;
}

// The derived key for (date, region, service, secret), cached per thread.
Digest SigningKey(std::string_view date, std::string_view region,
                  std::string_view service, std::string_view secret) {
  struct Entry {
    std::string id;
    Digest key;
  };
  thread_local std::array<Entry, 4> cache;
  thread_local std::size_t next = 0;
  std::string id;
  id.reserve(date.size() + region.size() + service.size() + secret.size() + 3);
  id.append(date).append(1, '\n').append(region).append(1, '\n');
  id.append(service).append(1, '\n').append(secret);
  for (const Entry& entry : cache) {
    if (entry.id == id) return entry.key;
  }
  std::string seed = "AWS4";
  seed.append(secret);
  Digest key = Hmac(seed, date);
  key = Hmac(AsView(key), region);
  key = Hmac(AsView(key), service);
  key = Hmac(AsView(key), "aws4_request");
  cache[next] = Entry{std::move(id), key};
  next = (next + 1) % cache.size();
  return key;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trims and collapses every whitespace run to one space.
std::string CanonicalValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// RFC 3986 remove_dot_segments plus collapsing empty segments (what the
// generic AWS services sign). Never used for S3.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  bool trailing_slash = false;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    const bool last = end == path.size();
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      trailing_slash = last;
    } else if (segment == ".") {
      trailing_slash = last;
    } else if (segment.empty()) {
      trailing_slash = last && !segments.empty();
    } else {
      segments.push_back(segment);
      trailing_slash = false;
    }
    start = end + 1;
  }
  std::string out;
  for (std::string_view segment : segments) out.append("/").append(segment);
  if (out.empty() || trailing_slash) out += '/';
  return out;
}

std::string CanonicalUri(const SigningRequest& request) {
  std::string path = request.path.empty() ? "/" : request.path;
  if (request.normalize_path) path = NormalizePath(path);
  return request.path_is_encoded ? path : UriEncode(path, true);
}

// Encoded name/value pairs of the request's own query.
HeaderList EncodedQuery(const SigningRequest& request) {
  HeaderList out;
  out.reserve(request.query.size() + 7);
  for (const auto& [name, value] : request.query) {
    if (request.path_is_encoded) {
      out.emplace_back(name, value);
    } else {
      out.emplace_back(UriEncode(name, false), UriEncode(value, false));
    }
  }
  return out;
}

std::string JoinQuery(const HeaderList& pairs) {
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out += '&';
    out.append(name).append(1, '=').append(value);
  }
  return out;
}

struct CanonicalHeaders {
  std::string block;         // "name:value\n" lines
  std::string signed_names;  // "host;x-amz-date"
};

// `extra` are lower-case names the signer adds (never already present).
Result<CanonicalHeaders> BuildHeaders(const SigningRequest& request,
                                      const HeaderList& extra) {
  HeaderList lowered;
  lowered.reserve(request.headers.size() + extra.size() + 1);
  bool has_host = false;
  for (const auto& [name, value] : request.headers) {
    lowered.emplace_back(Lower(name), CanonicalValue(value));
    if (lowered.back().first == "host") has_host = true;
  }
  if (!has_host) {
    if (request.host.empty()) {
      return InvalidArgumentError("sigv4: the request has no host");
    }
    lowered.emplace_back("host", CanonicalValue(request.host));
  }
  for (const auto& header : extra) lowered.push_back(header);
  std::stable_sort(
      lowered.begin(), lowered.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (std::size_t i = 0; i < lowered.size(); ++i) {
    const std::string& name = lowered[i].first;
    if (i > 0 && lowered[i - 1].first == name) {
      out.block.append(1, ',').append(lowered[i].second);
      continue;
    }
    if (i > 0) {
      out.block += '\n';
      out.signed_names += ';';
    }
    out.block.append(name).append(1, ':').append(lowered[i].second);
    out.signed_names += name;
  }
  out.block += '\n';
  return out;
}

bool HasHeader(const SigningRequest& request, std::string_view lower_name) {
  return std::any_of(
      request.headers.begin(), request.headers.end(),
      [&](const auto& h) { return Lower(h.first) == lower_name; });
}

bool ValidScopePart(std::string_view part) {
  return !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

Status CheckInputs(const Credentials& credentials, const SigningScope& scope) {
  if (credentials.anonymous() || credentials.secret_access_key.empty()) {
    return InvalidArgumentError(
        "sigv4: cannot sign without an access key id and secret");
  }
  if (!ValidScopePart(scope.region)) {
    return InvalidArgumentError("sigv4: bad region \"" + scope.region + "\"");
  }
  if (!ValidScopePart(scope.service)) {
    return InvalidArgumentError("sigv4: bad service \"" + scope.service + "\"");
  }
  return Status::OK();
}

struct Stamp {
  std::string date_time;  // 20150830T123600Z
  std::string date;       // 20150830
};

Stamp MakeStamp(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(
      std::chrono::floor<std::chrono::seconds>(time));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[20];
  std::strftime(buffer, sizeof(buffer), "%Y%m%dT%H%M%SZ", &tm);
  Stamp stamp;
  stamp.date_time = buffer;
  stamp.date = stamp.date_time.substr(0, 8);
  return stamp;
}

// Fills canonical_request, string_to_sign and signature of `out`.
void Finish(const SigningRequest& request, const Credentials& credentials,
            const SigningScope& scope, const Stamp& stamp,
            const std::string& canonical_query, const CanonicalHeaders& headers,
            std::string_view payload_hash, Signed& out) {
  std::string& cr = out.canonical_request;
  cr.reserve(256 + canonical_query.size() + headers.block.size());
  cr.append(request.method).append(1, '\n');
  cr.append(CanonicalUri(request)).append(1, '\n');
  cr.append(canonical_query).append(1, '\n');
  cr.append(headers.block).append(1, '\n');
  cr.append(headers.signed_names).append(1, '\n');
  cr.append(payload_hash);

  const std::string scope_text =
      stamp.date + "/" + scope.region + "/" + scope.service + "/aws4_request";
  std::string& sts = out.string_to_sign;
  sts.append(kAlgorithm).append(1, '\n');
  sts.append(stamp.date_time).append(1, '\n');
  sts.append(scope_text).append(1, '\n');
  sts.append(Hex(Sha256(cr)));

  const Digest key = SigningKey(stamp.date, scope.region, scope.service,
                                credentials.secret_access_key);
  out.signature = Hex(Hmac(AsView(key), sts));
}

}  // namespace

std::string Sha256Hex(std::string_view data) { return Hex(Sha256(data)); }

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
        (byte >= '0' && byte <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~' || (c == '/' && keep_slash)) {
      out += c;
    } else {
      out += '%';
      out += kDigits[byte >> 4];
      out += kDigits[byte & 0xf];
    }
  }
  return out;
}

Result<Signed> SignHeaders(const SigningRequest& request,
                           const Credentials& credentials,
                           const SigningScope& scope,
                           bool add_content_sha256_header) {
  BACKENDS_RETURN_IF_ERROR(CheckInputs(credentials, scope));
  if (request.payload_sha256.empty()) {
    return InvalidArgumentError("sigv4: payload_sha256 is empty");
  }
  const Stamp stamp = MakeStamp(scope.time);
  const bool has_token = !credentials.session_token.empty();
  const bool add_sha =
      add_content_sha256_header && !HasHeader(request, "x-amz-content-sha256");

  HeaderList extra;
  extra.emplace_back("x-amz-date", stamp.date_time);
  if (has_token && request.sign_session_token) {
    extra.emplace_back("x-amz-security-token", credentials.session_token);
  }
  if (add_sha)
    extra.emplace_back("x-amz-content-sha256", request.payload_sha256);
  BACKENDS_ASSIGN_OR_RETURN(CanonicalHeaders headers,
                            BuildHeaders(request, extra));

  HeaderList query = EncodedQuery(request);
  std::sort(query.begin(), query.end());

  Signed out;
  Finish(request, credentials, scope, stamp, JoinQuery(query), headers,
         request.payload_sha256, out);
  if (has_token) {
    out.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  out.headers.emplace_back("X-Amz-Date", stamp.date_time);
  if (add_sha) {
    out.headers.emplace_back("x-amz-content-sha256", request.payload_sha256);
  }
  std::string authorization;
  authorization.reserve(200);
  authorization.append(kAlgorithm).append(" Credential=");
  authorization.append(credentials.access_key_id).append(1, '/');
  authorization.append(stamp.date).append(1, '/').append(scope.region);
  authorization.append(1, '/').append(scope.service).append("/aws4_request");
  authorization.append(", SignedHeaders=").append(headers.signed_names);
  authorization.append(", Signature=").append(out.signature);
  out.headers.emplace_back("Authorization", std::move(authorization));
  return out;
}

Result<Signed> Presign(const SigningRequest& request,
                       const Credentials& credentials,
                       const SigningScope& scope,
                       std::chrono::seconds expires) {
  BACKENDS_RETURN_IF_ERROR(CheckInputs(credentials, scope));
  if (expires < std::chrono::seconds(1) || expires > kMaxPresignExpiry) {
    return InvalidArgumentError(
        "sigv4: presigned URL expiry must be between 1 second and 7 days, "
        "got " +
        std::to_string(expires.count()) + " s");
  }
  const Stamp stamp = MakeStamp(scope.time);
  const bool has_token = !credentials.session_token.empty();
  BACKENDS_ASSIGN_OR_RETURN(CanonicalHeaders headers,
                            BuildHeaders(request, {}));

  const std::string credential = credentials.access_key_id + "/" + stamp.date +
                                 "/" + scope.region + "/" + scope.service +
                                 "/aws4_request";
  // The added parameters in the order they are sent.
  HeaderList auth;
  auth.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  auth.emplace_back("X-Amz-Credential", UriEncode(credential, false));
  auth.emplace_back("X-Amz-Date", stamp.date_time);
  auth.emplace_back("X-Amz-SignedHeaders",
                    UriEncode(headers.signed_names, false));
  auth.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  if (has_token) {
    auth.emplace_back("X-Amz-Security-Token",
                      UriEncode(credentials.session_token, false));
  }

  const HeaderList own = EncodedQuery(request);
  HeaderList canonical = own;
  for (const auto& param : auth) {
    if (param.first == "X-Amz-Security-Token" && !request.sign_session_token) {
      continue;
    }
    canonical.push_back(param);
  }
  std::sort(canonical.begin(), canonical.end());

  const std::string payload_hash = request.payload_sha256.empty()
                                       ? std::string("UNSIGNED-PAYLOAD")
                                       : request.payload_sha256;
  Signed out;
  Finish(request, credentials, scope, stamp, JoinQuery(canonical), headers,
         payload_hash, out);
  auth.emplace_back("X-Amz-Signature", out.signature);
  out.auth_query = JoinQuery(auth);
  out.query = JoinQuery(own);
  if (!out.query.empty()) out.query += '&';
  out.query += out.auth_query;
  return out;
}

}  // namespace backends::s3

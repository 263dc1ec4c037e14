// SigV4: every case of the AWS signing test suite (shared/vectors/sigv4/v4,
// or $BACKENDS_SIGV4_VECTORS), both the header and the presigned variant,
// plus the S3 rules the generic suite cannot show (encode once, no
// normalisation, token signed).

#include "s3/sigv4.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testutil/status_matchers.h"

namespace backends::s3 {
namespace {

namespace fs = std::filesystem;
using ::backends::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

fs::path VectorsDir() {
  if (const char* env = std::getenv("BACKENDS_SIGV4_VECTORS");
      env != nullptr && *env != '\0') {
    return env;
  }
  return BACKENDS_SIGV4_VECTORS_DEFAULT;
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(VectorsDir(), error)) {
    if (entry.is_directory() && fs::exists(entry.path() / "request.txt")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// request.txt: request line, "Name:value" header lines (a line starting
// with whitespace continues the previous value), a blank line, the body.
struct ParsedRequest {
  std::string method;
  std::string path;       // as written (raw unless path_is_encoded)
  std::string raw_query;  // as written, without '?'
  std::vector<std::string> header_lines;  // as written, folded lines kept
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

ParsedRequest ParseRequest(const std::string& text) {
  ParsedRequest out;
  std::size_t pos = text.find('\n');
  const std::string line = text.substr(0, pos);
  // The target may contain spaces ("/example space/"): split at the first
  // and the last space.
  const std::size_t first = line.find(' ');
  const std::size_t last = line.rfind(' ');
  out.method = line.substr(0, first);
  const std::string target = line.substr(first + 1, last - first - 1);
  const std::size_t question = target.find('?');
  out.path = target.substr(0, question);
  if (question != std::string::npos)
    out.raw_query = target.substr(question + 1);
  pos = pos == std::string::npos ? text.size() : pos + 1;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string header = text.substr(pos, end - pos);
    pos = std::min(end + 1, text.size());
    if (header.empty()) break;
    if (header[0] == ' ' || header[0] == '\t') {
      out.header_lines.back() += "\n" + header;
      out.headers.back().second += "\n" + header;
      continue;
    }
    out.header_lines.push_back(header);
    const std::size_t colon = header.find(':');
    out.headers.emplace_back(header.substr(0, colon), header.substr(colon + 1));
  }
  out.body = text.substr(pos);
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A query component as written in request.txt may hold %XX escapes
// (get-vanilla-query-order-encoded) or raw bytes (get-vanilla-utf8-query);
// the signer takes raw bytes, so valid escapes are decoded first.
std::string PercentDecode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() + 0 &&
        HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out +=
          static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> SplitQuery(
    std::string_view query, bool decode) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    const std::size_t equals = pair.find('=');
    std::string name(pair.substr(0, equals));
    std::string value(equals == std::string_view::npos
                          ? std::string_view()
                          : pair.substr(equals + 1));
    if (decode) {
      name = PercentDecode(name);
      value = PercentDecode(value);
    }
    if (!pair.empty()) out.emplace_back(std::move(name), std::move(value));
    start = end + 1;
  }
  return out;
}

std::chrono::system_clock::time_point ParseTimestamp(const std::string& text) {
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

class SigV4VectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4VectorTest, HeaderAndQueryVariants) {
  const fs::path dir = VectorsDir() / GetParam();
  const auto context = nlohmann::json::parse(ReadFile(dir / "context.json"));
  const ParsedRequest parsed = ParseRequest(ReadFile(dir / "request.txt"));
  const bool encoded = context.value("path_is_encoded", false);

  SigningRequest request;
  request.method = parsed.method;
  request.path = parsed.path;
  request.query = SplitQuery(parsed.raw_query, /*decode=*/!encoded);
  request.headers = parsed.headers;
  request.payload_sha256 = Sha256Hex(parsed.body);
  request.path_is_encoded = encoded;
  request.normalize_path = context.value("normalize", false);
  request.sign_session_token = !context.value("omit_session_token", false);

  Credentials credentials;
  const auto& c = context.at("credentials");
  credentials.access_key_id = c.at("access_key_id").get<std::string>();
  credentials.secret_access_key = c.at("secret_access_key").get<std::string>();
  credentials.session_token = c.value("token", "");
  const SigningScope scope{
      .region = context.at("region").get<std::string>(),
      .service = context.at("service").get<std::string>(),
      .time = ParseTimestamp(context.at("timestamp").get<std::string>())};

  // Header variant.
  ASSERT_OK_AND_ASSIGN(Signed header,
                       SignHeaders(request, credentials, scope,
                                   context.value("sign_body", false)));
  EXPECT_EQ(header.canonical_request,
            ReadFile(dir / "header-canonical-request.txt"));
  EXPECT_EQ(header.string_to_sign, ReadFile(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(header.signature, ReadFile(dir / "header-signature.txt"));
  std::string request_line = parsed.method + " " + parsed.path;
  if (!parsed.raw_query.empty()) request_line += "?" + parsed.raw_query;
  std::string wire = request_line + " HTTP/1.1\n";
  for (const auto& line : parsed.header_lines) wire += line + "\n";
  for (const auto& [name, value] : header.headers) {
    wire += name + ":" + value + "\n";
  }
  wire += "\n" + parsed.body;
  EXPECT_EQ(wire, ReadFile(dir / "header-signed-request.txt"));

  // Query variant (presigned URL).
  const std::chrono::seconds expires(
      context.value("expiration_in_seconds", 3600));
  ASSERT_OK_AND_ASSIGN(Signed query,
                       Presign(request, credentials, scope, expires));
  EXPECT_EQ(query.canonical_request,
            ReadFile(dir / "query-canonical-request.txt"));
  EXPECT_EQ(query.string_to_sign, ReadFile(dir / "query-string-to-sign.txt"));
  EXPECT_EQ(query.signature, ReadFile(dir / "query-signature.txt"));
  EXPECT_TRUE(query.headers.empty());
  wire = parsed.method + " " + parsed.path + "?";
  if (!parsed.raw_query.empty()) wire += parsed.raw_query + "&";
  wire += query.auth_query + " HTTP/1.1\n";
  for (const auto& line : parsed.header_lines) wire += line + "\n";
  wire += "\n" + parsed.body;
  EXPECT_EQ(wire, ReadFile(dir / "query-signed-request.txt"));
}

std::string CaseTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(AwsSuite, SigV4VectorTest,
                         ::testing::ValuesIn(CaseNames()), CaseTestName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SigV4VectorTest);

TEST(SigV4Vectors, FolderIsPresent) {
  const fs::path dir = VectorsDir();
  if (CaseNames().empty()) {
    const std::string message =
        "no SigV4 test vectors in " + dir.string() +
        " (set BACKENDS_SIGV4_VECTORS to the v4/ folder of the AWS suite)";
    if (InCi()) FAIL() << message;
    GTEST_SKIP() << message;
  }
}

// --- S3 rules ---

const Credentials kCredentials{
    .access_key_id = "AKIAIOSFODNN7EXAMPLE",
    .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};

SigningScope S3Scope() {
  return {.region = "us-east-1",
          .service = "s3",
          .time = ParseTimestamp("2013-05-24T00:00:00Z")};
}

SigningRequest Get(std::string path) {
  SigningRequest request;
  request.method = "GET";
  request.host = "examplebucket.s3.amazonaws.com";
  request.path = std::move(path);
  request.payload_sha256 = Sha256Hex("");
  return request;
}

std::string CanonicalUriOf(const Signed& result) {
  const std::string& cr = result.canonical_request;
  const std::size_t first = cr.find('\n');
  return cr.substr(first + 1, cr.find('\n', first + 1) - first - 1);
}

std::string CanonicalQueryOf(const Signed& result) {
  std::istringstream in(result.canonical_request);
  std::string line;
  for (int i = 0; i < 3; ++i) std::getline(in, line);
  return line;
}

// The AWS S3 API reference's worked example (GET /test.txt with Range).
TEST(SigV4S3, AwsDocumentationGetObjectExample) {
  SigningRequest request = Get("/test.txt");
  request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                     {"Range", "bytes=0-9"}};
  ASSERT_OK_AND_ASSIGN(Signed result,
                       SignHeaders(request, kCredentials, S3Scope()));
  EXPECT_EQ(result.signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(result.headers.back().second,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
            "us-east-1/s3/aws4_request, SignedHeaders=host;range;"
            "x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd"
            "35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// The S3 API reference's presigned GET example.
TEST(SigV4S3, AwsDocumentationPresignExample) {
  SigningRequest request = Get("/test.txt");
  request.payload_sha256 = "";  // UNSIGNED-PAYLOAD
  ASSERT_OK_AND_ASSIGN(Signed result, Presign(request, kCredentials, S3Scope(),
                                              std::chrono::hours(24)));
  EXPECT_EQ(result.signature,
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_THAT(result.canonical_request,
              ::testing::EndsWith("UNSIGNED-PAYLOAD"));
}

TEST(SigV4S3, KeysAreEncodedOnceAndNeverNormalised) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/bucket/a//b", "/bucket/a//b"},
      {"/bucket/./x", "/bucket/./x"},
      {"/bucket/x/../y", "/bucket/x/../y"},
      {"/bucket/caf\xC3\xA9 \xF0\x9F\x98\x80",
       "/bucket/caf%C3%A9%20%F0%9F%98%80"},
      {"/bucket/a b+c%d&e=f?g#h", "/bucket/a%20b%2Bc%25d%26e%3Df%3Fg%23h"},
      {"/bucket/%41", "/bucket/%2541"},
      {"/bucket/-_.~", "/bucket/-_.~"},
  };
  for (const auto& [path, expected] : cases) {
    ASSERT_OK_AND_ASSIGN(Signed result,
                         SignHeaders(Get(path), kCredentials, S3Scope()));
    EXPECT_EQ(CanonicalUriOf(result), expected) << path;
    // An already-encoded path is signed as given, not encoded again.
    SigningRequest encoded = Get(expected);
    encoded.path_is_encoded = true;
    ASSERT_OK_AND_ASSIGN(Signed again,
                         SignHeaders(encoded, kCredentials, S3Scope()));
    EXPECT_EQ(CanonicalUriOf(again), expected);
    EXPECT_EQ(again.signature, result.signature) << path;
  }
}

TEST(SigV4S3, DistinctKeysGiveDistinctSignatures) {
  ASSERT_OK_AND_ASSIGN(Signed ab,
                       SignHeaders(Get("/b/a//b"), kCredentials, S3Scope()));
  ASSERT_OK_AND_ASSIGN(Signed a_b,
                       SignHeaders(Get("/b/a/b"), kCredentials, S3Scope()));
  EXPECT_NE(ab.signature, a_b.signature);
}

TEST(SigV4S3, QueryIsEncodedAndSorted) {
  SigningRequest request = Get("/bucket");
  request.query = {{"prefix", "a b/c+d"},
                   {"list-type", "2"},
                   {"continuation-token", "x=y&z"},
                   {"delete", ""}};
  ASSERT_OK_AND_ASSIGN(Signed result,
                       SignHeaders(request, kCredentials, S3Scope()));
  EXPECT_EQ(CanonicalQueryOf(result),
            "continuation-token=x%3Dy%26z&delete=&list-type=2&"
            "prefix=a%20b%2Fc%2Bd");
  ASSERT_OK_AND_ASSIGN(
      Signed presigned,
      Presign(request, kCredentials, S3Scope(), std::chrono::seconds(60)));
  EXPECT_THAT(presigned.query,
              ::testing::StartsWith("prefix=a%20b%2Fc%2Bd&list-type=2&"
                                    "continuation-token=x%3Dy%26z&delete=&"
                                    "X-Amz-Algorithm="));
  EXPECT_THAT(presigned.query,
              ::testing::EndsWith("&X-Amz-Signature=" + presigned.signature));
}

TEST(SigV4S3, ContentSha256AndSessionTokenAreSigned) {
  Credentials temporary = kCredentials;
  temporary.session_token = "token/with+special=";
  SigningRequest request = Get("/bucket/key");
  ASSERT_OK_AND_ASSIGN(Signed result,
                       SignHeaders(request, temporary, S3Scope()));
  EXPECT_THAT(result.canonical_request,
              HasSubstr("\nx-amz-content-sha256:" + Sha256Hex("") + "\n"));
  EXPECT_THAT(result.canonical_request,
              HasSubstr("\nx-amz-security-token:token/with+special=\n"));
  EXPECT_THAT(result.headers.back().second,
              HasSubstr("SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
                        "x-amz-security-token,"));
  ASSERT_OK_AND_ASSIGN(Signed presigned, Presign(request, temporary, S3Scope(),
                                                 std::chrono::seconds(60)));
  EXPECT_THAT(presigned.canonical_request,
              HasSubstr("X-Amz-Security-Token=token%2Fwith%2Bspecial%3D"));
  // A different token must change the signature.
  temporary.session_token = "other";
  ASSERT_OK_AND_ASSIGN(Signed other,
                       SignHeaders(request, temporary, S3Scope()));
  EXPECT_NE(other.signature, result.signature);
}

TEST(SigV4S3, RejectsBadInputsWithoutSecrets) {
  SigningRequest request = Get("/bucket/key");
  EXPECT_THAT(Presign(request, kCredentials, S3Scope(), std::chrono::seconds(0))
                  .status(),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(Presign(request, kCredentials, S3Scope(),
                      std::chrono::seconds(7 * 24 * 3600 + 1))
                  .status(),
              StatusIs(ErrorCode::kInvalidArgument));
  SigningScope bad = S3Scope();
  bad.region = "us-east-1.evil.com/";
  const Status status = SignHeaders(request, kCredentials, bad).status();
  EXPECT_THAT(status, StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(status.message(), Not(HasSubstr(kCredentials.secret_access_key)));
  EXPECT_THAT(SignHeaders(request, Credentials{}, S3Scope()).status(),
              StatusIs(ErrorCode::kInvalidArgument));
  request.host.clear();
  EXPECT_THAT(SignHeaders(request, kCredentials, S3Scope()).status(),
              StatusIs(ErrorCode::kInvalidArgument));
}

// The cached signing key must follow every input it depends on.
TEST(SigV4S3, SigningKeyCacheFollowsDateRegionAndSecret) {
  const SigningRequest request = Get("/bucket/key");
  ASSERT_OK_AND_ASSIGN(Signed base,
                       SignHeaders(request, kCredentials, S3Scope()));
  SigningScope next_day = S3Scope();
  next_day.time += std::chrono::hours(24);
  SigningScope other_region = S3Scope();
  other_region.region = "eu-west-1";
  Credentials other_secret = kCredentials;
  other_secret.secret_access_key += "x";
  std::vector<std::string> signatures = {base.signature};
  for (int round = 0; round < 2; ++round) {  // second round: from the cache
    ASSERT_OK_AND_ASSIGN(Signed a,
                         SignHeaders(request, kCredentials, next_day));
    ASSERT_OK_AND_ASSIGN(Signed b,
                         SignHeaders(request, kCredentials, other_region));
    ASSERT_OK_AND_ASSIGN(Signed c,
                         SignHeaders(request, other_secret, S3Scope()));
    ASSERT_OK_AND_ASSIGN(Signed d,
                         SignHeaders(request, kCredentials, S3Scope()));
    EXPECT_EQ(d.signature, base.signature);
    signatures.insert(signatures.end(),
                      {a.signature, b.signature, c.signature});
  }
  EXPECT_EQ(signatures[1], signatures[4]);
  EXPECT_EQ(signatures[2], signatures[5]);
  EXPECT_EQ(signatures[3], signatures[6]);
  std::sort(signatures.begin(), signatures.begin() + 4);
  EXPECT_EQ(std::unique(signatures.begin(), signatures.begin() + 4),
            signatures.begin() + 4);
}

TEST(SigV4S3, SignsConsistentlyFromManyThreads) {
  const SigningRequest request = Get("/bucket/key");
  ASSERT_OK_AND_ASSIGN(Signed expected,
                       SignHeaders(request, kCredentials, S3Scope()));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto result = SignHeaders(request, kCredentials, S3Scope());
        if (!result.ok() || result->signature != expected.signature) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(SigV4S3, UriEncodeRules) {
  EXPECT_EQ(UriEncode("a/b c~", true), "a/b%20c~");
  EXPECT_EQ(UriEncode("a/b c~", false), "a%2Fb%20c~");
  EXPECT_EQ(UriEncode("\xff", false), "%FF");
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace backends::s3

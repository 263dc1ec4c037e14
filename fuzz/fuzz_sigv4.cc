// The SigV4 canonicaliser and signer on fuzzed requests: method, path,
// query and headers come from the input (lines "method", "path", then
// "?name=value" and "name:value" lines). Signing either fails with
// kInvalidArgument or succeeds deterministically with a 64-hex signature,
// a canonical request that starts with the method, and no trace of the
// secret key in anything it returns. UriEncode output is unreserved bytes
// and %XX only, and decodes back to its input.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "s3/sigv4.h"

namespace {

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void CheckUriEncode(std::string_view text, bool keep_slash) {
  using backends::s3::UriEncode;
  std::string enc = UriEncode(text, keep_slash);
  std::string dec;
  for (std::size_t i = 0; i < enc.size(); ++i) {
    char c = enc[i];
    if (c == '%') {
      FUZZ_CHECK(
          i + 2 < enc.size() && Hex(enc[i + 1]) >= 0 && Hex(enc[i + 2]) >= 0,
          enc);
      dec += static_cast<char>(Hex(enc[i + 1]) * 16 + Hex(enc[i + 2]));
      i += 2;
    } else {
      bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                        c == '.' || c == '~' || (keep_slash && c == '/');
      FUZZ_CHECK(unreserved, enc);
      dec += c;
    }
  }
  FUZZ_CHECK(dec == text, enc);
}

bool Contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  using namespace backends;
  using namespace backends::s3;
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  CheckUriEncode(input, true);
  CheckUriEncode(input, false);

  SigningRequest request;
  request.host = "127.0.0.1:9000";
  request.payload_sha256 = flags & 1 ? "UNSIGNED-PAYLOAD" : Sha256Hex(input);
  request.path_is_encoded = (flags & 2) != 0;
  request.normalize_path = (flags & 4) != 0;
  int line = 0;
  while (!input.empty()) {
    std::size_t nl = input.find('\n');
    std::string_view part = input.substr(0, nl);
    input = nl == std::string_view::npos ? "" : input.substr(nl + 1);
    if (line == 0) {
      request.method = std::string(part);
    } else if (line == 1) {
      request.path = std::string(part);
    } else if (part.starts_with("?")) {
      std::size_t eq = part.find('=');
      request.query.emplace_back(
          std::string(part.substr(1, eq == std::string_view::npos
                                         ? std::string_view::npos
                                         : eq - 1)),
          eq == std::string_view::npos ? "" : std::string(part.substr(eq + 1)));
    } else {
      std::size_t colon = part.find(':');
      request.headers.emplace_back(std::string(part.substr(0, colon)),
                                   colon == std::string_view::npos
                                       ? ""
                                       : std::string(part.substr(colon + 1)));
    }
    ++line;
  }
  Credentials credentials{.access_key_id = "AKIDEXAMPLE",
                          .secret_access_key = std::string(kSecret),
                          .session_token = flags & 8 ? "SESSIONTOKEN" : ""};
  SigningScope scope{.region = "us-east-1",
                     .service = "s3",
                     .time = std::chrono::system_clock::time_point(
                         std::chrono::seconds(1714564800))};
  const bool secret_in_input = Contains(
      std::string_view(reinterpret_cast<const char*>(data), size), "K7MDENG");
  auto check = [&](const Result<Signed>& a, const Result<Signed>& b) {
    if (!a.ok()) {
      FUZZ_CHECK(a.status().code() == ErrorCode::kInvalidArgument,
                 a.status().ToString());
      FUZZ_CHECK(!b.ok() && b.status() == a.status(), "not deterministic");
      FUZZ_CHECK(secret_in_input || !Contains(a.status().message(), "K7MDENG"),
                 "secret in an error message");
      return;
    }
    FUZZ_CHECK(b.ok() && b->signature == a->signature &&
                   b->canonical_request == a->canonical_request &&
                   b->query == a->query && b->headers == a->headers,
               "not deterministic");
    FUZZ_CHECK(a->signature.size() == 64, a->signature);
    for (char c : a->signature) {
      FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'),
                 a->signature);
    }
    FUZZ_CHECK(a->canonical_request.starts_with(request.method + "\n"),
               a->canonical_request);
    if (!secret_in_input) {
      FUZZ_CHECK(!Contains(a->canonical_request, "K7MDENG") &&
                     !Contains(a->string_to_sign, "K7MDENG") &&
                     !Contains(a->query, "K7MDENG"),
                 "secret leaked");
      for (const auto& [name, value] : a->headers) {
        FUZZ_CHECK(!Contains(value, "K7MDENG"), "secret leaked in " + name);
      }
    }
  };
  check(SignHeaders(request, credentials, scope, flags & 16),
        SignHeaders(request, credentials, scope, flags & 16));
  auto presigned = Presign(request, credentials, scope, std::chrono::hours(1));
  check(presigned, Presign(request, credentials, scope, std::chrono::hours(1)));
  if (presigned.ok()) {
    FUZZ_CHECK(
        Contains(presigned->query, "X-Amz-Signature=" + presigned->signature),
        presigned->query);
  }
  return 0;
}

// The S3 error reader: any body, status and x-amz-error-code header parse to
// an S3ErrorInfo, and S3Error / CurlError always give a failed Status whose
// message names the operation and the method.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "s3/s3_errors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  using namespace backends;
  if (size < 3) return 0;
  long status = 100 + (data[0] << 8 | data[1]) % 500;
  std::size_t header_len = data[2] % 32;
  std::string_view rest(reinterpret_cast<const char*>(data) + 3, size - 3);
  std::string_view header = rest.substr(0, std::min(header_len, rest.size()));
  std::string_view body = rest.substr(header.size());
  s3::S3ErrorInfo info = s3::ParseS3Error(status, body, header);
  FUZZ_CHECK(info.http_status == status, "status changed");
  Status error = s3::S3Error("load \"a/b\"", "GET", info);
  FUZZ_CHECK(!error.ok(), "an error answer became OK");
  FUZZ_CHECK(error.message().find("load \"a/b\"") != std::string::npos,
             error.message());
  Status curl = s3::CurlError("dump \"k\"", "PUT", data[0] % 100, body);
  FUZZ_CHECK(!curl.ok(), "a curl failure became OK");
  return 0;
}

#pragma once

// gzip (RFC 1952) for S3RawBackend's compressed content types, on
// libdeflate. Output is deterministic: the header's mtime is 0 and carries
// no file name, so the same bytes always compress to the same object.

#include <string>
#include <string_view>

#include "backends/status.h"

namespace backends::s3 {

/// Compresses `data` into one gzip member at `level` (1-12; 6 is zlib's
/// default). Errors: kInternal if libdeflate cannot allocate.
Result<std::string> GzipCompress(std::string_view data, int level = 6);

/// Decompresses one or more concatenated gzip members. Errors: kDataLoss
/// naming `context` if `data` is not valid gzip (bad header, CRC or
/// length).
Result<std::string> GzipDecompress(std::string_view data,
                                   std::string_view context);

}  // namespace backends::s3

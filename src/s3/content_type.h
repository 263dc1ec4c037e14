#pragma once

// Content types for S3 objects: a guess from the key's extension (as
// Python's mimetypes does for the original library), and the test whether a
// type is one S3RawBackend gzips.

#include <string>
#include <string_view>
#include <vector>

#include "backends/s3.h"
#include "s3/curl_transport.h"

namespace backends::s3 {

/// The type for `key`'s extension (case-insensitive), e.g.
/// "application/javascript" for "app.js", "text/css" for "a/site.CSS";
/// "application/octet-stream" when the extension is unknown or absent.
/// Text types carry no charset parameter, as the original's.
std::string GuessContentType(std::string_view key);

/// Whether `content_type` (parameters such as "; charset=utf-8" ignored,
/// case-insensitive) is one of `types`.
bool ContentTypeIn(std::string_view content_type,
                   const std::vector<std::string>& types);

/// The content rules every upload applies (dump, dump_stream, dump_file):
/// the headers Content-Type, Cache-Control and the ACL, from `put` or else
/// the store's options; `gzip` when the type is one of the gzip types.
struct PutPlan {
  HttpHeaders headers;
  bool gzip = false;
};
PutPlan PlanPut(const S3Options& options, std::string_view key,
                const S3PutOptions& put);

}  // namespace backends::s3

#pragma once

// s3:// URLs: the scheme-table row for OpenBackend and the URL a store
// prints (Backend::url), which reopens an equivalent store without secrets.

#include <memory>
#include <string>

#include "backends/backend.h"
#include "backends/open.h"
#include "backends/s3.h"

namespace backends::s3 {

/// OpenBackend's row for "s3": S3Options::FromUrl, then S3Backend::Open.
Result<std::unique_ptr<Backend>> OpenS3Url(const Url& url);

/// The key prefix of the folder `prefix` names: "" for the bucket's root
/// ("" or "/"), else `prefix` with exactly one trailing "/" ("a/b" and
/// "a/b/" give "a/b/").
std::string FolderPrefix(std::string_view prefix);

/// s3://BUCKET/PREFIX?region=..&endpoint=..&path_style=1 plus the object
/// options that differ from the defaults. `options` are resolved ones;
/// credentials are never written. `endpoint_is_default` leaves the endpoint
/// out (AWS).
std::string S3StoreUrl(const S3Options& options, bool endpoint_is_default);

}  // namespace backends::s3

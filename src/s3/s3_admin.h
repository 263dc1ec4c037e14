#pragma once

// S3 requests beyond a store's values: server-side copy (s3_copy.cc),
// bucket creation and unfinished multipart uploads (s3_admin.cc). The
// store (s3_backend.cc) checks keys and names the operation; these build
// and read the requests.
//
// Thread safety: the functions may run concurrently on one client.

#include <string>
#include <string_view>
#include <vector>

#include "backends/s3.h"
#include "backends/status.h"
#include "s3/s3_client.h"

namespace backends::s3 {

/// An object named by bucket and full key (prefix included).
struct ObjectRef {
  std::string bucket;
  std::string key;
};

/// Copies `source` to `destination_key` (full key, the client's bucket)
/// inside the server, as S3Backend::copy_from describes. Returns false if
/// the source does not exist. `context` names the operation in errors.
Result<bool> ServerSideCopy(S3Client& client, const ObjectRef& source,
                            const std::string& destination_key,
                            const S3TransferOptions& transfer, bool public_read,
                            const std::string& context);

/// Whether stores on endpoints `a` and `b` (S3Options::endpoint, as Open
/// resolved it) can copy objects between them inside the server: the same
/// endpoint, or AWS in any region.
bool SameS3Service(std::string_view a, std::string_view b);

/// CreateBucket of the client's bucket in `region` (see
/// S3Backend::create_bucket).
Status CreateBucket(S3Client& client, const std::string& region);

/// The unfinished uploads under `full_prefix`, keys with `store_prefix`
/// removed (see S3Backend::list_uploads).
Result<std::vector<S3Upload>> ListUploads(S3Client& client,
                                          const std::string& store_prefix,
                                          const std::string& full_prefix);

/// Aborts the upload `upload_id` of `object_key` (full key); false if the
/// server knows no such upload.
Result<bool> AbortUpload(S3Client& client, const std::string& object_key,
                         const std::string& upload_id,
                         const std::string& context);

}  // namespace backends::s3

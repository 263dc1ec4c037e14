#pragma once

// Uploads of large objects without holding them in memory: one streamed PUT
// below the threshold, else a multipart upload (CreateMultipartUpload, parts
// in parallel, CompleteMultipartUpload), aborted on any failure so no parts
// are left behind.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
//
// Thread safety: UploadObject may run concurrently on one client; it starts
// its own worker threads and joins them before returning.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/s3.h"
#include "backends/status.h"
#include "s3/curl_transport.h"
#include "s3/s3_client.h"
#include "s3/xml_answer.h"

namespace backends::s3 {

/// S3's limits for multipart uploads.
inline constexpr std::uint64_t kMinPartSize = 5ull << 20;
inline constexpr std::uint64_t kMaxPartSize = 5ull << 30;
inline constexpr std::uint64_t kMaxParts = 10'000;

/// The bytes of an upload. Exactly one of the readers is set.
struct UploadSource {
  /// Positional reads (a file): up to `n` bytes at `offset`, 0 only past
  /// the end; called from several threads at once. `size` bytes in all.
  std::function<Result<std::size_t>(std::uint64_t offset, char* buffer,
                                    std::size_t n)>
      read_at{};
  std::uint64_t size = 0;
  /// Sequential reads (a stream): fills up to `n` bytes, 0 at the end.
  /// Called under a lock, one call at a time. Parts are buffered.
  std::function<Result<std::size_t>(char* buffer, std::size_t n)> read{};
  /// With `read`: the total size if known in advance (chooses the part
  /// size as for files); the bytes read decide in any case.
  std::optional<std::uint64_t> size_hint{};
  /// Headers known only once the source has been read to its end (the
  /// uncompressed size of a gzip stream). A single PUT carries them; a
  /// multipart upload, whose headers are sent first, records them after
  /// completing unless they were among `headers` already (see UploadObject).
  std::function<HttpHeaders()> trailing_headers{};
};

/// The part size for an object of `size` bytes: `requested` (at least
/// 5 MiB), grown in whole MiB so the object fits in 10,000 parts.
std::uint64_t PartSizeFor(std::uint64_t size, std::uint64_t requested);

/// Uploads `source` as `object_key` with `headers` (Content-Type,
/// Cache-Control, x-amz-acl...). `context` names the operation and key.
/// Errors: the source's error, or the S3 error of the request that failed;
/// after a failed multipart upload the upload has been aborted (if the
/// abort fails too, the message says so and names the upload id).
Status UploadObject(S3Client& client, const std::string& object_key,
                    const HttpHeaders& headers, const UploadSource& source,
                    const S3TransferOptions& options, std::string_view context);

/// CreateMultipartUpload of `object_key` with `headers`; returns the upload
/// id. `context` names the operation in errors.
Result<std::string> CreateMultipartUpload(S3Client& client,
                                          const std::string& object_key,
                                          const HttpHeaders& headers,
                                          const std::string& context);

/// CompleteMultipartUpload from the parts' ETags (part i + 1 is etags[i]),
/// `size` bytes in all. An <Error> in a 200 answer is an error; an answer
/// without an ETag (radosgw) is checked by a HEAD: the object must hold
/// `size` bytes (else kDataLoss).
Status CompleteMultipartUpload(S3Client& client, const std::string& object_key,
                               const std::string& upload_id,
                               const std::vector<std::string>& etags,
                               std::uint64_t size, const std::string& context);

/// Aborts the upload after `cause` and returns `cause`, with the abort's
/// own failure (and the upload id) added to its message if it failed too.
Status AbortMultipartUpload(S3Client& client, const std::string& object_key,
                            const std::string& upload_id, Status cause,
                            const std::string& context);

/// Hex SHA-256 of `size` bytes read through `read_at` from `offset`, in
/// chunks of at most 1 MiB.
Result<std::string> Sha256OfRange(
    const std::function<Result<std::size_t>(std::uint64_t, char*, std::size_t)>&
        read_at,
    std::uint64_t offset, std::uint64_t size);

/// Sends `request` and reads its 200 answer as XML (an <Error> inside it is
/// the error it names). Errors: AnswerError for another status, the
/// transport's, kDataLoss for a body that is not XML.
Result<XmlAnswer> SendForXml(S3Client& client, const S3Client::Request& request,
                             std::string_view method,
                             const std::string& context);

/// The Status for an S3 error answer `response` to `method`.
Status AnswerError(const HttpResponse& response, std::string_view method,
                   std::string_view context);

}  // namespace backends::s3

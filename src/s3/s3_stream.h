#pragma once

// Downloads without holding the object in memory: to a sink in order, or to
// a file (temporary file + rename) with parallel ranged GETs.
//
// Resumption: a GET that fails mid-body (connection reset, truncated body,
// stall) is repeated from the byte it reached with `Range: bytes=N-END` and
// `If-Match: ETAG`, so no byte is delivered twice or skipped, and bytes of
// two versions are never mixed: a changed object answers 412, which is
// reported as kFailedPrecondition. Every answer's Content-Range is checked
// against the range asked for before its first byte is delivered.
//
// Thread safety: the functions may run concurrently on one client.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "backends/s3.h"
#include "backends/status.h"
#include "s3/s3_client.h"

namespace backends::s3 {

/// Receives the bytes of an object at their offset, each exactly once (in
/// order within one range; ranges may arrive concurrently).
using OffsetSink =
    std::function<Status(std::uint64_t offset, std::string_view chunk)>;

/// Receives an object's bytes in order, each exactly once.
using ChunkSink = std::function<Status(std::string_view chunk)>;

/// Streams object `object_key` to `sink`, in order, with one GET (resumed
/// as above); a gzip-encoded object is decoded on the way, in bounded
/// memory. Returns false if there is no such object.
Result<bool> DownloadToSink(S3Client& client, const std::string& object_key,
                            const ChunkSink& sink,
                            const S3TransferOptions& options,
                            std::string_view context);

/// Writes object `object_key` to `path` through a temporary file in the same
/// folder, renamed over `path` when complete (and synced). Objects larger
/// than options.download_part_size come in ranged GETs, up to
/// options.parallel_parts at once (a gzip-encoded object: in order, decoded
/// on the way). Returns false if there is no such object; then, and on any
/// error, `path` is untouched.
Result<bool> DownloadToFile(S3Client& client, const std::string& object_key,
                            const std::string& path,
                            const S3TransferOptions& options,
                            std::string_view context);

/// The Status for a failed system call on a local file: `what` failed
/// with errno `error` (ENOENT: kNotFound, EACCES/EPERM: kPermissionDenied,
/// else kIOError).
Status ErrnoError(std::string_view context, std::string_view what, int error);

}  // namespace backends::s3

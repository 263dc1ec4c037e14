#pragma once

// The S3 housekeeping verbs, `mb URL` (create the bucket) and `uploads
// ls|abort URL [PREFIX]` (unfinished multipart uploads under the store's
// prefix), and the server-side copy that cp uses between S3 stores on one
// endpoint.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "backends/status.h"
#include "cli_store.h"

namespace CLI {
class App;
}  // namespace CLI

namespace backends::cli {

/// The S3 verbs' arguments, and which verb the command line chose.
struct S3VerbCommands {
  std::string mb_url;
  std::string uploads_url;
  std::string uploads_prefix;
  /// uploads abort --older-than: only uploads begun this long ago or more.
  std::string older_than;
  bool quiet = false;
  CLI::App* mb = nullptr;
  CLI::App* uploads_ls = nullptr;
  CLI::App* uploads_abort = nullptr;
};

/// Adds `mb` and `uploads ls|abort` (with their --help) to `app`.
void AddS3Verbs(CLI::App& app, S3VerbCommands& commands);

/// Runs the S3 verb the parsed command line chose (its exit code, as the
/// other verbs), or std::nullopt if it chose none of them.
std::optional<Result<int>> RunS3Verbs(const S3VerbCommands& commands);

/// "90" (seconds), "90s", "30m", "12h", "7d" -> the age. Errors:
/// kInvalidArgument naming the text.
Result<std::chrono::seconds> ParseAge(std::string_view text);

/// Copies `key` from `source` to `destination` inside the server when both
/// are S3 stores on one endpoint that hold values as stored (format=raw,
/// no cache layer): std::nullopt when that does not apply (copy the bytes
/// instead), else true once copied, false if `source` has no `key`. The
/// copy keeps the source object's content type, encoding and metadata
/// (like `aws s3 cp` between buckets), not the destination URL's
/// content_type= or gzip_types=.
Result<std::optional<bool>> TryServerSideCopy(const Store& source,
                                              const Store& destination,
                                              std::string_view key);

}  // namespace backends::cli

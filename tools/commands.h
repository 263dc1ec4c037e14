#pragma once

// The verbs of the `backends` tool. Each returns the process exit code, or
// an error that main() prints as one line on stderr and turns into exit 3.
//
// Exit codes: 0 success; 1 a key does not exist (get, stat, rm); 2 usage error
// (the command line does not parse, or a URL's format/cache/timeout
// parameter is wrong); 3 any other failure, including keys the store
// refuses (invalid keys are reported by the store, so they are exit 3).
// A verb stopped by a signal (interrupt.h) ends by that signal in main().

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "backends/status.h"
#include "listing.h"

namespace backends::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitMissing = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitFailure = 3;

/// Prints `status` as one line on stderr: "backends: MESSAGE".
void PrintError(const Status& status);

struct PutArgs {
  std::string url;
  std::string key;
  /// The value from the command line; absent or "-" reads stdin.
  std::optional<std::string> value;
  /// -f FILE ("-" is stdin).
  std::optional<std::string> file;
  /// --if-absent / --if-version V: a conditional write (Backend::dump_if);
  /// the new version is printed.
  bool if_absent = false;
  std::optional<std::string> if_version;
  bool quiet = false;
};
Result<int> RunPut(const PutArgs& args);

/// mv URL SRC DST: renames SRC to DST in one store (--keep: copies).
struct MvArgs {
  std::string url;
  std::string source_key;
  std::string destination_key;
  bool keep = false;
};
Result<int> RunMv(const MvArgs& args);

struct GetArgs {
  std::string url;
  std::string key;
  /// -o FILE ("-" is stdout), written atomically.
  std::optional<std::string> output;
  bool quiet = false;
};
Result<int> RunGet(const GetArgs& args);

struct RmArgs {
  std::string url;
  /// The keys; with `recursive`, exactly one: the prefix (not empty).
  std::vector<std::string> keys;
  /// Remove every key under the prefix that `filter` selects.
  bool recursive = false;
  KeyFilter filter;
  bool quiet = false;
};
Result<int> RunRm(const RmArgs& args);

struct LsArgs {
  std::string url;
  std::string prefix;
  bool long_format = false;
  /// When set, one level: keys holding it after the prefix are rolled up
  /// into common prefixes, printed with the delimiter at their end.
  std::string delimiter;
  KeyFilter filter;
};
Result<int> RunLs(const LsArgs& args);

struct StatArgs {
  std::string url;
  std::string key;
};
/// Prints what the store knows of KEY, one "name: value" line each; exit 1
/// if KEY does not exist.
Result<int> RunStat(const StatArgs& args);

/// cp and sync: the source is read in listing pages and merged with the
/// destination's listing (sorted alike), so memory stays bounded.
struct CpArgs {
  std::string source_url;
  std::string destination_url;
  std::string prefix;
  std::size_t jobs = 4;
  /// Skip keys whose destination is the same by the listings' metadata:
  /// same size, and the same ETag (S3 to S3) or a destination not older
  /// than the source (to the second).
  bool update = false;
  /// With update: same size and the same bytes (both values are read).
  bool checksum = false;
  /// sync: after every copy succeeded, remove the destination keys that the
  /// source lacks (among those the filter selects).
  bool delete_extra = false;
  /// Print the plan ("copy KEY", "delete KEY") and change nothing.
  bool dry_run = false;
  KeyFilter filter;
  /// Stop at the first key that fails (by default cp goes on).
  bool fail_fast = false;
  bool quiet = false;
  /// "cp" or "sync", for messages.
  std::string verb = "cp";
};
Result<int> RunCp(const CpArgs& args);

struct UrlArgs {
  std::string url;
  std::string key;
};
Result<int> RunUrl(const UrlArgs& args);

struct PresignArgs {
  std::string url;
  std::string key;
  std::chrono::seconds expires{3600};
  bool put = false;
};
Result<int> RunPresign(const PresignArgs& args);

struct AclArgs {
  std::string url;
  std::string key;
  bool make_public = true;
};
Result<int> RunAcl(const AclArgs& args);

struct PruneArgs {
  std::string url;
  bool quiet = false;
};
Result<int> RunCachePrune(const PruneArgs& args);

}  // namespace backends::cli

#pragma once

// The verbs of the `backends` tool. Each returns the process exit code, or
// an error that main() prints as one line on stderr and turns into exit 3.
//
// Exit codes: 0 success; 1 a key does not exist (get, rm); 2 usage error
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
  bool quiet = false;
};
Result<int> RunPut(const PutArgs& args);

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
  std::vector<std::string> keys;
};
Result<int> RunRm(const RmArgs& args);

struct LsArgs {
  std::string url;
  std::string prefix;
  bool long_format = false;
};
Result<int> RunLs(const LsArgs& args);

struct CpArgs {
  std::string source_url;
  std::string destination_url;
  std::string prefix;
  std::size_t jobs = 4;
  bool update = false;
  /// Stop at the first key that fails (by default cp goes on).
  bool fail_fast = false;
  bool quiet = false;
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

#pragma once

// Runs the built `backends` binary (BACKENDS_CLI_PATH) as a child process:
// stdin fed from a string, stdout and stderr captured, stderr optionally a
// pseudo-terminal so the tool believes it talks to a person.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace backends::testing {

struct CliResult {
  int exit_code = -1;  // 128 + N when killed by signal N.
  std::string out;
  std::string err;
};

struct CliOptions {
  std::vector<std::string> args;  // Without the program name.
  std::string input;              // Fed to stdin, then stdin is closed.
  std::filesystem::path cwd;      // Empty: the test's working folder.
  bool stderr_is_terminal = false;
  /// Environment entries "NAME=value" that add to or replace the test's
  /// own (which is inherited).
  std::vector<std::string> env;
};

/// A running `backends` process.
class CliProcess {
 public:
  /// Starts the binary; aborts the test (ADD_FAILURE + exit code -1 on
  /// Wait) if it cannot be started.
  explicit CliProcess(CliOptions options);
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;
  ~CliProcess();

  pid_t pid() const { return pid_; }

  /// Feeds stdin, reads stdout/stderr to the end, waits for the exit.
  CliResult Wait();

 private:
  CliOptions options_;
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  int err_ = -1;
  bool waited_ = false;
};

/// Runs the binary to completion.
CliResult RunCli(CliOptions options);

/// Shorthand: arguments only, run in `cwd`, with `input` on stdin.
CliResult RunCli(const std::filesystem::path& cwd,
                 std::vector<std::string> args, std::string input = "");

}  // namespace backends::testing

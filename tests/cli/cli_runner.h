#pragma once

// Runs the built `backends` binary (BACKENDS_CLI_PATH) as a child process:
// stdin fed from a string, stdout and stderr captured, stderr optionally a
// pseudo-terminal so the tool believes it talks to a person.

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace backends::testing {

struct CliResult {
  int exit_code = -1;  // 128 + N when killed by signal N.
  std::string out;
  std::string err;
  long max_rss_kib = -1;  // The tool's peak resident set (wait4's ru_maxrss).
};

struct CliOptions {
  std::vector<std::string> args;  // Without the program name.
  std::string input;              // Fed to stdin, then stdin is closed.
  /// If set, stdin is this file (e.g. a FIFO the test feeds) instead.
  std::filesystem::path stdin_path;
  std::filesystem::path cwd;  // Empty: the test's working folder.
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

/// The writing end of a FIFO that the tool reads (`put -f FIFO`). Write
/// returns once the tool has taken all but a pipe's worth of the bytes, so
/// a test knows how far the tool has got without timing it.
class FifoFeeder {
 public:
  /// Makes the FIFO at `path`.
  explicit FifoFeeder(std::filesystem::path path);
  FifoFeeder(const FifoFeeder&) = delete;
  FifoFeeder& operator=(const FifoFeeder&) = delete;
  ~FifoFeeder();

  /// Waits (up to a minute) for the tool to open the FIFO. False on timeout.
  bool Open();
  /// Opens the FIFO for reading and writing, so the tool's open for
  /// reading (as its stdin, see CliOptions::stdin_path) does not block.
  void OpenBeforeTheTool();
  /// Writes `bytes` bytes of `fill`.
  void Write(std::size_t bytes, char fill);
  /// Closes the writing end: the tool reads the end of the value.
  void Close();

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

/// The bytes of the file at `path` ("" if it cannot be read).
std::string ReadFile(const std::filesystem::path& path);
/// Writes `data` to `path`, creating its folders.
void WriteFile(const std::filesystem::path& path, std::string_view data);

/// The files under `root` (recursively) whose names hold "backends-tmp":
/// the temporary files of the tool and of the file store.
std::vector<std::string> TempFilesUnder(const std::filesystem::path& root);

/// Runs the binary to completion.
CliResult RunCli(CliOptions options);

/// Shorthand: arguments only, run in `cwd`, with `input` on stdin.
CliResult RunCli(const std::filesystem::path& cwd,
                 std::vector<std::string> args, std::string input = "");

}  // namespace backends::testing

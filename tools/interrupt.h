#pragma once

// SIGINT, SIGTERM and SIGHUP as a cancellation flag for the verbs that
// write (put, get, cp, sync, rm, cache prune).
//
// The first signal only sets the flag and wakes InterruptFd(): long
// operations check it between chunks and keys, fail with InterruptedError,
// and the library's own error path removes its temporary file or aborts
// its multipart upload. main() then calls ExitForInterrupt(). A second
// signal stops waiting: it removes the temporary files registered here and
// exits at once with 128 + the signal.

#include <string>
#include <string_view>

#include "backends/status.h"

namespace backends::cli {

/// Catches the three signals (one left ignored by the parent, as nohup
/// does, stays ignored). Call once, before any thread starts.
void CatchInterrupts();

/// The first signal caught, or 0.
int InterruptSignal();

/// kIOError "CONTEXT: interrupted by SIGINT" (or the signal caught).
Status InterruptedError(std::string_view context);

/// Waits until `fd` is ready for `events` (POLLIN / POLLOUT) or a signal
/// is caught. Errors: InterruptedError naming `context`.
Status WaitReady(int fd, short events, std::string_view context);

/// Flushes stdio and ends the process as the caught signal would have: the
/// parent sees it killed by that signal (a shell reports 128 + N).
[[noreturn]] void ExitForInterrupt();

/// Registers a temporary file of ours that a second signal must remove
/// before exiting. Unregisters on destruction (before the file is renamed
/// or removed by its owner).
class TempFileRegistration {
 public:
  explicit TempFileRegistration(const std::string& path);
  TempFileRegistration(TempFileRegistration&& other) noexcept;
  TempFileRegistration& operator=(TempFileRegistration&&) = delete;
  ~TempFileRegistration();

 private:
  int slot_ = -1;
};

}  // namespace backends::cli

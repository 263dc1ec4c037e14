// The handler may run on any thread, at any instruction, so it touches only
// lock-free atomics and async-signal-safe calls (write, unlink, _exit). The
// self-pipe turns the signal into a readable descriptor: a thread blocked
// reading a FIFO or writing a full pipe polls it too, whichever thread the
// kernel delivered the signal to.

#include "interrupt.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <iterator>
#include <utility>

namespace backends::cli {
namespace {

std::atomic<int> g_signal{0};
int g_wake_read = -1;
int g_wake_write = -1;
static_assert(std::atomic<int>::is_always_lock_free);

struct TempSlot {
  std::atomic<bool> used{false};
  char path[PATH_MAX];
};
// A few are enough: get -o holds one; the stores' own temporary files are
// removed by the stores when the first signal cancels their write.
TempSlot g_temp_slots[8];

extern "C" void OnSignal(int signal) {
  int expected = 0;
  if (g_signal.compare_exchange_strong(expected, signal)) {
    int saved = errno;
    char byte = 0;
    [[maybe_unused]] ssize_t n = ::write(g_wake_write, &byte, 1);
    errno = saved;
    return;
  }
  for (TempSlot& slot : g_temp_slots) {
    if (slot.used.load()) ::unlink(slot.path);
  }
  ::_exit(128 + signal);
}

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

}  // namespace

void CatchInterrupts() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
    g_wake_read = fds[0];
    g_wake_write = fds[1];
  }
  for (int signal : kSignals) {
    struct sigaction old {};
    ::sigaction(signal, nullptr, &old);
    if (old.sa_handler == SIG_IGN) continue;
    // No SA_RESTART: a blocking call returns EINTR on the receiving thread.
    struct sigaction action {};
    action.sa_handler = OnSignal;
    sigemptyset(&action.sa_mask);
    ::sigaction(signal, &action, nullptr);
  }
}

int InterruptSignal() { return g_signal.load(); }

Status InterruptedError(std::string_view context) {
  const int signal = InterruptSignal();
  const char* name = signal == SIGINT    ? "SIGINT"
                     : signal == SIGTERM ? "SIGTERM"
                     : signal == SIGHUP  ? "SIGHUP"
                                         : "a signal";
  return IOError(std::string(context) + ": interrupted by " + name);
}

Status WaitReady(int fd, short events, std::string_view context) {
  while (true) {
    if (InterruptSignal() != 0) return InterruptedError(context);
    pollfd fds[2] = {{.fd = fd, .events = events, .revents = 0},
                     {.fd = g_wake_read, .events = POLLIN, .revents = 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno != EINTR) return Status::OK();  // Let the I/O report.
    if (InterruptSignal() != 0) return InterruptedError(context);
    if (n > 0 && fds[0].revents != 0) return Status::OK();
  }
}

void ExitForInterrupt() {
  std::fflush(nullptr);
  const int signal = InterruptSignal();
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(signal, &action, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signal);
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(signal);
  ::_exit(128 + signal);
}

TempFileRegistration::TempFileRegistration(const std::string& path) {
  if (path.size() >= PATH_MAX) return;
  for (int i = 0; i < static_cast<int>(std::size(g_temp_slots)); ++i) {
    TempSlot& slot = g_temp_slots[i];
    if (slot.used.load()) continue;
    ::memcpy(slot.path, path.c_str(), path.size() + 1);
    bool expected = false;
    // Slots are taken by the main thread only, so the check above holds.
    if (slot.used.compare_exchange_strong(expected, true)) {
      slot_ = i;
      return;
    }
  }
}

TempFileRegistration::TempFileRegistration(
    TempFileRegistration&& other) noexcept
    : slot_(std::exchange(other.slot_, -1)) {}

TempFileRegistration::~TempFileRegistration() {
  if (slot_ >= 0) g_temp_slots[slot_].used.store(false);
}

}  // namespace backends::cli

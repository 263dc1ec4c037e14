#include "reliability/fault_shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

namespace backends::reliability {
namespace {

struct Armed {
  bool active = false;
  FaultOp op = FaultOp::kWrite;
  int err = 0;
  int skip = 0;
  bool fired = false;
};

thread_local Armed armed;
std::atomic<std::uint64_t> injected{0};

// True if this call must fail (errno is then set).
bool ShouldFail(FaultOp op) {
  if (!armed.active || armed.op != op) return false;
  if (armed.skip > 0) {
    --armed.skip;
    return false;
  }
  armed.active = false;
  armed.fired = true;
  injected.fetch_add(1);
  errno = armed.err;
  return true;
}

template <typename Fn>
Fn Real(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

const char* FaultOpName(FaultOp op) {
  switch (op) {
    case FaultOp::kCreate:
      return "create";
    case FaultOp::kWrite:
      return "write";
    case FaultOp::kFsync:
      return "fsync";
    case FaultOp::kClose:
      return "close";
    case FaultOp::kRename:
      return "rename";
    case FaultOp::kMkdir:
      return "mkdir";
    case FaultOp::kUnlink:
      return "unlink";
  }
  return "?";
}

ScopedFault::ScopedFault(FaultOp op, int err, int skip) {
  armed = Armed{.active = true, .op = op, .err = err, .skip = skip};
}
ScopedFault::~ScopedFault() { armed.active = false; }
bool ScopedFault::fired() const { return armed.fired; }

std::uint64_t FaultsInjected() { return injected.load(); }

}  // namespace backends::reliability

using backends::reliability::FaultOp;
using backends::reliability::ShouldFail;

extern "C" {

namespace {
int OpenatImpl(const char* name, int dirfd, const char* path, int flags,
               mode_t mode) {
  if ((flags & O_CREAT) != 0 && ShouldFail(FaultOp::kCreate)) return -1;
  using Fn = int (*)(int, const char*, int, ...);
  static Fn real = backends::reliability::Real<Fn>(name);
  return real(dirfd, path, flags, mode);
}
}  // namespace

int openat(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if ((flags & (O_CREAT | O_TMPFILE)) != 0) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return OpenatImpl("openat", dirfd, path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if ((flags & (O_CREAT | O_TMPFILE)) != 0) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return OpenatImpl("openat64", dirfd, path, flags, mode);
}

ssize_t write(int fd, const void* buf, size_t count) {
  if (fd > 2 && ShouldFail(FaultOp::kWrite)) return -1;
  using Fn = ssize_t (*)(int, const void*, size_t);
  static Fn real = backends::reliability::Real<Fn>("write");
  return real(fd, buf, count);
}

int fsync(int fd) {
  if (fd > 2 && ShouldFail(FaultOp::kFsync)) return -1;
  using Fn = int (*)(int);
  static Fn real = backends::reliability::Real<Fn>("fsync");
  return real(fd);
}

int close(int fd) {
  using Fn = int (*)(int);
  static Fn real = backends::reliability::Real<Fn>("close");
  if (fd > 2 && ShouldFail(FaultOp::kClose)) {
    real(fd);  // Linux frees the descriptor even when close fails.
    errno = backends::reliability::armed.err;
    return -1;
  }
  return real(fd);
}

int renameat(int olddirfd, const char* oldpath, int newdirfd,
             const char* newpath) {
  if (ShouldFail(FaultOp::kRename)) return -1;
  using Fn = int (*)(int, const char*, int, const char*);
  static Fn real = backends::reliability::Real<Fn>("renameat");
  return real(olddirfd, oldpath, newdirfd, newpath);
}

int mkdirat(int dirfd, const char* path, mode_t mode) {
  if (ShouldFail(FaultOp::kMkdir)) return -1;
  using Fn = int (*)(int, const char*, mode_t);
  static Fn real = backends::reliability::Real<Fn>("mkdirat");
  return real(dirfd, path, mode);
}

int unlinkat(int dirfd, const char* path, int flags) {
  if (ShouldFail(FaultOp::kUnlink)) return -1;
  using Fn = int (*)(int, const char*, int);
  static Fn real = backends::reliability::Real<Fn>("unlinkat");
  return real(dirfd, path, flags);
}

}  // extern "C"

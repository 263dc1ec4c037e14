#pragma once

// Small POSIX helpers for the filesystem store: an owning file descriptor and
// the one errno -> Status mapping.

#include <unistd.h>

#include <string_view>
#include <utility>

#include "backends/status.h"

namespace backends::file {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

/// `<operation> <quoted key>: <what>: <strerror> (<ERRNO>)`, with the code
/// chosen by errno: EACCES/EPERM permission, ELOOP/ENAMETOOLONG invalid key,
/// ENOTDIR/EISDIR/EEXIST/ENOTEMPTY failed precondition, the rest I/O.
Status PosixError(std::string_view operation, std::string_view key,
                  std::string_view what, int err);

}  // namespace backends::file

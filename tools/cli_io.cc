// Atomic output files: the value is written to a temporary file in the
// destination's folder (same filesystem, so rename() is atomic), fsynced,
// then renamed over the destination. A crash, a full disk or a failed load
// leaves the destination as it was; at worst a `.NAME.backends-tmp.XXXXXX`
// file stays behind after a crash.

#include "cli_io.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "backends/backend.h"

namespace backends::cli {
namespace {

Status ErrnoError(std::string_view context, std::string_view what,
                  std::string_view path, int error) {
  std::string message(context);
  message += ": ";
  message += what;
  message += " ";
  message += QuoteKey(path);
  message += ": ";
  message += std::strerror(error);
  return IOError(std::move(message));
}

}  // namespace

InputSource::InputSource(std::string context, std::string name, int fd,
                         bool owned)
    : context_(std::move(context)),
      name_(std::move(name)),
      fd_(fd),
      owned_(owned) {
  struct stat st;
  if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
}

InputSource::InputSource(InputSource&& other) noexcept
    : context_(std::move(other.context_)),
      name_(std::move(other.name_)),
      fd_(std::exchange(other.fd_, -1)),
      owned_(std::exchange(other.owned_, false)),
      size_(other.size_) {}

InputSource::~InputSource() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

Result<InputSource> InputSource::Open(std::string_view context,
                                      const std::string& path) {
  if (path == "-") return Stdin(context);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(context, "cannot open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return ErrnoError(context, "cannot read", path, EISDIR);
  }
  return InputSource(std::string(context), path, fd, true);
}

InputSource InputSource::Stdin(std::string_view context) {
  return InputSource(std::string(context), "<stdin>", 0, false);
}

Result<std::size_t> InputSource::Read(std::span<char> buffer,
                                      Progress& progress) {
  while (true) {
    BACKENDS_RETURN_IF_ERROR(WaitReady(fd_, POLLIN, context_));
    ssize_t n = ::read(fd_, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(context_, "cannot read", name_, errno);
    }
    progress.Add(static_cast<std::uint64_t>(n));
    return static_cast<std::size_t>(n);
  }
}

Result<std::string> InputSource::ReadAll(Progress& progress) {
  std::string data;
  if (size_) data.reserve(static_cast<std::size_t>(*size_));
  std::vector<char> buffer(kChunkBytes);
  while (true) {
    BACKENDS_ASSIGN_OR_RETURN(std::size_t n, Read(buffer, progress));
    if (n == 0) return data;
    data.append(buffer.data(), n);
  }
}

namespace {

Status WriteFd(int fd, std::string_view data, Progress& progress,
               std::string_view context, std::string_view name) {
  while (!data.empty()) {
    BACKENDS_RETURN_IF_ERROR(WaitReady(fd, POLLOUT, context));
    std::size_t chunk = std::min(data.size(), kChunkBytes);
    ssize_t n = ::write(fd, data.data(), chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(context, "cannot write", name, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    progress.Add(static_cast<std::uint64_t>(n));
  }
  return Status::OK();
}

}  // namespace

OutputFile::OutputFile(std::string context, std::string path, std::string temp,
                       int fd)
    : context_(std::move(context)),
      path_(std::move(path)),
      temp_(std::move(temp)),
      registration_(std::in_place, temp_),
      fd_(fd) {}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : context_(std::move(other.context_)),
      path_(std::move(other.path_)),
      temp_(std::move(other.temp_)),
      registration_(std::move(other.registration_)),
      fd_(std::exchange(other.fd_, -1)) {}

OutputFile::~OutputFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_.c_str());
  }
  registration_.reset();
}

Result<OutputFile> OutputFile::Create(std::string_view context,
                                      const std::string& path) {
  std::filesystem::path target(path);
  struct stat st;
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) {
    return ErrnoError(context, "cannot write", path, EISDIR);
  }
  // The temporary file sits in the destination's folder so that rename()
  // stays on one filesystem and is atomic.
  std::filesystem::path folder = target.parent_path();
  // (Built by appending: g++ 12 at -O3 misreports `"." + string` as an
  // overlapping memcpy, GCC bug 105329.)
  std::string name = ".";
  name += target.filename().string();
  name += ".backends-tmp.XXXXXX";
  std::string temp = (folder / name).string();
  int fd = ::mkstemp(temp.data());
  if (fd < 0) return ErrnoError(context, "cannot write", path, errno);
  mode_t mode;
  if (exists) {
    mode = st.st_mode & 07777;
  } else {
    mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  if (::fchmod(fd, mode) != 0) {
    int error = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return ErrnoError(context, "cannot write", path, error);
  }
  return OutputFile(std::string(context), path, std::move(temp), fd);
}

Status OutputFile::Write(std::string_view data, Progress& progress) {
  return WriteFd(fd_, data, progress, context_, path_);
}

Status OutputFile::Commit() {
  if (::fsync(fd_) != 0) {
    return ErrnoError(context_, "cannot write", path_, errno);
  }
  if (::close(std::exchange(fd_, -1)) != 0) {
    int error = errno;
    ::unlink(temp_.c_str());
    return ErrnoError(context_, "cannot write", path_, error);
  }
  registration_.reset();
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    int error = errno;
    ::unlink(temp_.c_str());
    return ErrnoError(context_, "cannot write", path_, error);
  }
  return Status::OK();
}

Status WriteStdout(std::string_view context, std::string_view data,
                   Progress& progress) {
  return WriteFd(1, data, progress, context, "<stdout>");
}

}  // namespace backends::cli

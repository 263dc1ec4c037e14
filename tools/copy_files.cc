#include "copy_files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace backends::cli {
namespace fs = std::filesystem;

Status KeepFileMetadata(const FileBackend& source,
                        const FileBackend& destination, std::string_view key) {
  BACKENDS_ASSIGN_OR_RETURN(fs::path from, source.path(key));
  BACKENDS_ASSIGN_OR_RETURN(fs::path to, destination.path(key));
  struct stat st;
  auto failed = [&](const char* what) {
    return IOError("cp " + QuoteKey(key) + ": copied, but cannot " + what +
                   ": " + std::strerror(errno));
  };
  if (::lstat(from.c_str(), &st) != 0) return failed("read its mode");
  if (::chmod(to.c_str(), st.st_mode & 07777) != 0) {
    return failed("keep its mode");
  }
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(AT_FDCWD, to.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return failed("keep its modification time");
  }
  return Status::OK();
}

}  // namespace backends::cli

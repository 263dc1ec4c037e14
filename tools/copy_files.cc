#include "copy_files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace backends::cli {
namespace {

namespace fs = std::filesystem;

// Why list() leaves out the entry at `relative`, or "" if it lists it.
std::string WhySkipped(const fs::directory_entry& entry,
                       const std::string& relative) {
  std::error_code error;
  const fs::file_status status = entry.symlink_status(error);
  if (entry.path().filename().string().starts_with(kTempFilePrefix)) {
    return "a temporary file left by an interrupted write";
  }
  if (fs::is_symlink(status)) return "a symbolic link (cp follows none)";
  if (!fs::is_regular_file(status)) {
    return "not a regular file (a FIFO, socket or device)";
  }
  if (Status valid = ValidateFileKey("cp", relative); !valid.ok()) {
    // The message names the key again: keep only its reason.
    const std::string& message = valid.message();
    std::size_t reason = message.find("invalid key");
    return message.substr(reason == std::string::npos ? 0 : reason);
  }
  return "";
}

}  // namespace

std::vector<SkippedFile> FilesCpSkips(const FileBackend& store,
                                      std::string_view prefix) {
  std::vector<SkippedFile> skipped;
  const fs::path& root = store.root();
  std::error_code error;
  fs::recursive_directory_iterator it(root, error);
  for (; !error && it != fs::recursive_directory_iterator();
       it.increment(error)) {
    const std::string relative =
        it->path().lexically_relative(root).generic_string();
    std::error_code type_error;
    if (fs::is_directory(it->symlink_status(type_error))) continue;
    if (!relative.starts_with(prefix)) continue;
    std::string reason = WhySkipped(*it, relative);
    if (!reason.empty()) skipped.push_back({relative, std::move(reason)});
  }
  if (error) {
    skipped.push_back({it == fs::recursive_directory_iterator()
                           ? std::string(".")
                           : it->path().lexically_relative(root).string(),
                       "cannot read the folder: " + error.message()});
  }
  return skipped;
}

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

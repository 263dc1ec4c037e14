// The filesystem store's ranged reads, copies and renames.
//
// copy hard-links a new name to the source's file (values are replaced by
// rename, never changed in place, so the two names stay independent) and
// renames that name over the destination: atomic, and no byte is copied.
// rename is rename(2). Both go through DumpWith for its walk (creating the
// destination's folders, retrying when a concurrent remove prunes them);
// the empty temporary file it creates is dropped. A destination on another
// filesystem (a mount inside the root) falls back to load and dump.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "file/file_backend_impl.h"

namespace backends::file {

// A range of up to 64 KiB is read without the fstat: on a virtual machine
// every system call costs about a microsecond, a quarter of a 4 KiB ranged
// read (open + pread + close is what a bare read makes); a longer range
// reads much more than it stats, and is sized by the fstat, not by its
// length. The file's type shows in the read instead: a folder fails with
// EISDIR (no value, as load says), a FIFO with ESPIPE (refused, as load
// refuses it; the open does not wait, O_NONBLOCK), a socket already at the
// open. A device node, which only a process with CAP_MKNOD can make, is
// read as a file.
constexpr std::uint64_t kUnstattedRange = 64 << 10;

Result<std::optional<std::string>> FileBackendImpl::load_range(
    std::string_view key, std::uint64_t offset, std::uint64_t length) {
  const bool small = length > 0 && length <= kUnstattedRange;
  BACKENDS_ASSIGN_OR_RETURN(
      auto file, OpenValue("load_range", key,
                           small ? TypeCheck::kUnchecked : TypeCheck::kStat));
  if (!file) return std::optional<std::string>();
  std::uint64_t wanted = length;
  if (!small) {
    const auto size = static_cast<std::uint64_t>(file->st.st_size);
    wanted = offset < size ? std::min(length, size - offset) : 0;
  }
  std::string out(wanted, '\0');
  std::size_t used = 0;
  while (used < out.size()) {
    ssize_t n = ::pread(file->fd.get(), out.data() + used, out.size() - used,
                        static_cast<off_t>(offset + used));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (small && errno == EISDIR) return std::optional<std::string>();
      if (small && errno == ESPIPE) {
        return FailedPreconditionError("load_range " + QuoteKey(key) +
                                       ": not a regular file");
      }
      return PosixError("load_range", key, "read", errno);
    }
    if (n == 0) break;  // The end, or truncated by a foreign program.
    used += static_cast<std::size_t>(n);
  }
  out.resize(used);
  if (small && used < out.capacity() / 2) out.shrink_to_fit();
  return std::optional<std::string>(std::move(out));
}

namespace {

// The source of a copy or rename: its folder (kept open) and leaf.
struct Source {
  FolderChain chain;
  std::vector<std::string_view> parts;
  std::string leaf;
  struct stat st;
};

}  // namespace

// Opens the folder holding `src_key`; nullopt when it holds no value.
static Result<std::optional<Source>> FindSource(
    std::string_view operation, std::string_view key, int root_fd,
    const std::function<Result<WalkOutcome>(Source&)>& walk) {
  Source source{FolderChain(root_fd), SplitKey(key), {}, {}};
  BACKENDS_ASSIGN_OR_RETURN(auto outcome, walk(source));
  if (outcome == WalkOutcome::kAbsent) return std::optional<Source>();
  source.leaf.assign(source.parts.back());
  if (::fstatat(source.chain.leaf_dir(), source.leaf.c_str(), &source.st,
                AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return std::optional<Source>();
    return PosixError(operation, key, "stat", errno);
  }
  if (!S_ISREG(source.st.st_mode)) return std::optional<Source>();
  return std::optional<Source>(std::move(source));
}

namespace {

Status MoveError(std::string_view operation, std::string_view key, int err,
                 std::string_view what) {
  if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
    return FailedPreconditionError(
        std::string(operation) + " to " + QuoteKey(key) +
        ": a folder of other keys stands there, so it cannot hold a value");
  }
  return PosixError(operation, key, what, err);
}

}  // namespace

Result<bool> FileBackendImpl::copy(std::string_view src_key,
                                   std::string_view dst_key) {
  return Move("copy", src_key, dst_key, /*keep_source=*/true);
}

Result<bool> FileBackendImpl::rename(std::string_view src_key,
                                     std::string_view dst_key) {
  return Move("rename", src_key, dst_key, /*keep_source=*/false);
}

Result<bool> FileBackendImpl::Move(std::string_view operation,
                                   std::string_view src_key,
                                   std::string_view dst_key, bool keep_source) {
  BACKENDS_RETURN_IF_ERROR(ValidateFileKey(operation, src_key));
  BACKENDS_RETURN_IF_ERROR(ValidateFileKey(operation, dst_key));
  BACKENDS_ASSIGN_OR_RETURN(
      auto source,
      FindSource(operation, src_key, root_fd_.get(), [&](Source& s) {
        return Walk(operation, src_key, s.parts, false, s.chain);
      }));
  if (!source) return false;
  if (src_key == dst_key) return true;
  const int src_dir = source->chain.leaf_dir();
  bool vanished = false;
  bool other_device = false;
  const auto place = [&](int dir, const std::string& temp,
                         const std::string& leaf) -> Status {
    if (!keep_source) {
      ::unlinkat(dir, temp.c_str(), 0);
      if (::renameat(src_dir, source->leaf.c_str(), dir, leaf.c_str()) != 0) {
        vanished = errno == ENOENT;
        other_device = errno == EXDEV;
        if (vanished || other_device) return Status::OK();
        return MoveError(operation, dst_key, errno, "rename");
      }
      // rename(2) of a name onto another name of the same file does
      // nothing: then the source's name is removed here.
      struct stat st;
      if (::fstatat(src_dir, source->leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) ==
              0 &&
          st.st_ino == source->st.st_ino && st.st_dev == source->st.st_dev) {
        ::unlinkat(src_dir, source->leaf.c_str(), 0);
      }
      return Status::OK();
    }
    // The empty temporary file's name is reused for the link.
    ::unlinkat(dir, temp.c_str(), 0);
    if (::linkat(src_dir, source->leaf.c_str(), dir, temp.c_str(), 0) != 0) {
      vanished = errno == ENOENT;
      other_device = errno == EXDEV;
      if (vanished || other_device) return Status::OK();
      return PosixError(operation, dst_key, "link", errno);
    }
    const int renamed = ::renameat(dir, temp.c_str(), dir, leaf.c_str());
    const int err = errno;
    ::unlinkat(dir, temp.c_str(), 0);  // Left when both names were one file.
    return renamed == 0 ? Status::OK()
                        : MoveError(operation, dst_key, err, "rename");
  };
  BACKENDS_RETURN_IF_ERROR(DumpWith(
      dst_key, [](int) { return Status::OK(); }, place));
  if (other_device) {
    return keep_source ? Backend::copy(src_key, dst_key)
                       : Backend::rename(src_key, dst_key);
  }
  if (vanished) return false;
  if (!keep_source) Prune(source->parts, source->chain);
  BACKENDS_RETURN_IF_ERROR(SyncFolder(operation, dst_key, src_dir));
  return true;
}

}  // namespace backends::file

// The filesystem store.
//
// Every path is resolved from a descriptor of the root, one segment at a
// time with O_NOFOLLOW (openat), so no key and no symbolic link planted
// inside the root can make an operation land outside it; keys are validated
// first (no `..`, no absolute paths), so the walk only ever descends.
//
// Write protocol (dump): create `.backends-tmp.<random>` with O_EXCL in the
// key's folder, write the value, optionally fsync, then renameat() it over
// the key's file. rename is atomic, so readers and crashes see either the
// old file or the new one. A crash leaves at most a temporary file, which
// list() never reports, clear() removes, and remove_abandoned_temp_files()
// removes once provably abandoned: a writer holds a lock on its file until
// the rename, and the lock dies with the process.
//
// Stamps (load_stamped): a file's change time is set by the kernel from
// CLOCK_REALTIME_COARSE (or a finer clock never behind it) and no program
// can set it back, so once it lies before the coarse clock at the start of
// a read, any later change gets a later change time and a different stamp.
// Filesystems that keep whole seconds get two seconds of margin; network
// filesystems stamp with the server's clock, so they are never settled.
//
// Folders: dump creates missing folders; remove prunes the folders it
// leaves empty, bottom-up, and stops at the first that is not empty (never
// the root). A concurrent remove may prune a folder between our walk and our
// create (the create then fails with ENOENT): dump retries the walk.

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>  // renameat2
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "backends/file.h"
#include "backends/open.h"
#include "file/file_backend_impl.h"
#include "file/posix.h"
#include "write_condition.h"

namespace backends::file {

std::vector<std::string_view> SplitKey(std::string_view key) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = key.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(key.substr(start));
      return parts;
    }
    parts.push_back(key.substr(start, slash - start));
    start = slash + 1;
  }
}

std::string TempName() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   static_cast<std::uint64_t>(::getpid())};
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t bits = rng() ^ (counter.fetch_add(1) << 48) ^
                       static_cast<std::uint64_t>(::getpid());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name(kTempFilePrefix);
  for (int i = 0; i < 16; ++i) name += kHex[(bits >> (i * 4)) & 0xF];
  return name;
}

void MarkTempFileInUse(int fd) {
  const int mode = ::fcntl(fd, F_GETFL);
  struct flock lock = {};
  lock.l_type = (mode & O_ACCMODE) == O_RDONLY ? F_RDLCK : F_WRLCK;
  lock.l_whence = SEEK_SET;
  ::fcntl(fd, F_OFD_SETLK, &lock);
}

namespace {

std::int64_t Nanoseconds(const timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

FileStamp StampOf(const struct stat& st) {
  return FileStamp{.device = st.st_dev,
                   .inode = st.st_ino,
                   .size = static_cast<std::uint64_t>(st.st_size),
                   .modified_ns = Nanoseconds(st.st_mtim),
                   .changed_ns = Nanoseconds(st.st_ctim)};
}

}  // namespace

// Filesystems whose file times come from this machine's clock.
bool KnownLocal(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case EXT4_SUPER_MAGIC:  // Also ext2 and ext3.
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case TMPFS_MAGIC:
    case F2FS_SUPER_MAGIC:
    case OVERLAYFS_SUPER_MAGIC:
    case 0x2FC12FC1:  // ZFS
      return true;
    default:
      return false;
  }
}

namespace {

bool IsSettled(const struct stat& st, std::int64_t read_began_ns) {
  const std::int64_t changed = Nanoseconds(st.st_ctim);
  // Whole milliseconds or coarser: a filesystem with coarse times.
  if (st.st_ctim.tv_nsec % 1'000'000 == 0) {
    return changed + 2'000'000'000 <= read_began_ns;
  }
  return changed < read_began_ns;
}

std::int64_t CoarseNow() {
  timespec now;
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return Nanoseconds(now);
}

}  // namespace

Result<std::string> ReadToEnd(int fd, const struct stat& st,
                              std::string_view operation,
                              std::string_view key) {
  std::string value;
  value.resize(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t used = 0;
  while (true) {
    if (used == value.size()) value.resize(value.size() * 2);
    ssize_t n = ::read(fd, value.data() + used, value.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError(operation, key, "read", errno);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
    // A short read once the stat's size is in is the end: no read to
    // confirm it (below that size a short read may be a FUSE quirk).
    if (used < value.size() && used >= static_cast<std::size_t>(st.st_size)) {
      break;
    }
  }
  value.resize(used);
  return value;
}

KeyInfo InfoOf(const struct stat& st) {
  // system_clock counts nanoseconds in 64 bits (years 1677 to 2262): a file
  // stamped outside that range (anyone can set one) is clamped to its ends.
  constexpr std::int64_t kLimit = 9'000'000'000;
  const std::int64_t seconds =
      std::clamp<std::int64_t>(st.st_mtim.tv_sec, -kLimit, kLimit);
  auto modified = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(seconds) +
          std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  // The stamp's fields (FileStamp) change whenever the file is replaced (a
  // rename brings a new inode and change time), so they serve as the
  // version. Times as seconds and nanoseconds: any second a file may carry
  // fits, where a count of nanoseconds would overflow.
  char version[160];
  std::snprintf(version, sizeof version, "%llx-%llx-%llx-%llx.%lx-%llx.%lx",
                static_cast<unsigned long long>(st.st_dev),
                static_cast<unsigned long long>(st.st_ino),
                static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(st.st_mtim.tv_sec),
                static_cast<unsigned long>(st.st_mtim.tv_nsec),
                static_cast<unsigned long long>(st.st_ctim.tv_sec),
                static_cast<unsigned long>(st.st_ctim.tv_nsec));
  return KeyInfo{.size = static_cast<std::uint64_t>(st.st_size),
                 .modified = modified,
                 .version = version};
}

namespace {

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Status FileBackendImpl::ExplainBlocked(std::string_view operation,
                                       std::string_view key, int dir_fd,
                                       std::string_view name, int err) const {
  struct stat st;
  std::string segment(name);
  if (::fstatat(dir_fd, segment.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) {
      return InvalidArgumentError(
          std::string(operation) + " " + QuoteKey(key) + ": path segment \"" +
          segment + "\" is a symbolic link; the store does not follow links");
    }
    if (!S_ISDIR(st.st_mode)) {
      return FailedPreconditionError(
          std::string(operation) + " " + QuoteKey(key) + ": \"" + segment +
          "\" holds a value, so it cannot also be a folder of keys");
    }
  }
  return PosixError(operation, key, "open folder \"" + segment + "\"", err);
}

Result<WalkOutcome> FileBackendImpl::Walk(
    std::string_view operation, std::string_view key,
    const std::vector<std::string_view>& parts, bool create,
    FolderChain& chain) const {
  std::string name;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    name.assign(parts[i]);
    int parent = chain.leaf_dir();
    int fd = ::openat(parent, name.c_str(), kDirFlags);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(parent, name.c_str(), 0777) != 0 && errno != EEXIST) {
        // ENOENT: `parent` itself was pruned since we opened it.
        if (errno == ENOENT) return WalkOutcome::kVanished;
        return PosixError(operation, key, "create folder \"" + name + "\"",
                          errno);
      }
      BACKENDS_RETURN_IF_ERROR(SyncFolder(operation, key, parent));
      fd = ::openat(parent, name.c_str(), kDirFlags);
      // Pruned between our mkdir and our open.
      if (fd < 0 && errno == ENOENT) return WalkOutcome::kVanished;
    }
    if (fd < 0) {
      int err = errno;
      if (!create && err == ENOENT) return WalkOutcome::kAbsent;
      Status blocked = ExplainBlocked(operation, key, parent, name, err);
      // A value where a folder would be: when reading, the key is absent.
      if (!create && blocked.code() == ErrorCode::kFailedPrecondition) {
        return WalkOutcome::kAbsent;
      }
      return blocked;
    }
    chain.push(fd);
  }
  return WalkOutcome::kFound;
}

Result<std::optional<FileBackendImpl::OpenFile>> FileBackendImpl::OpenValue(
    std::string_view operation, std::string_view key, TypeCheck check) const {
  BACKENDS_RETURN_IF_ERROR(ValidateFileKey(operation, key));
  auto parts = SplitKey(key);
  FolderChain chain(root_fd_.get());
  BACKENDS_ASSIGN_OR_RETURN(auto outcome,
                            Walk(operation, key, parts, false, chain));
  if (outcome == WalkOutcome::kAbsent) return std::optional<OpenFile>();
  std::string leaf(parts.back());
  // O_NONBLOCK: opening a FIFO planted in the root must not hang.
  UniqueFd fd(::openat(chain.leaf_dir(), leaf.c_str(),
                       O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<OpenFile>();
    if (errno == ELOOP) {
      return InvalidArgumentError(std::string(operation) + " " + QuoteKey(key) +
                                  ": is a symbolic link; the store does not "
                                  "follow links");
    }
    return PosixError(operation, key, "open", errno);
  }
  struct stat st {};
  if (check == TypeCheck::kUnchecked) {
    return std::optional<OpenFile>(OpenFile{std::move(fd), st});
  }
  if (::fstat(fd.get(), &st) != 0) {
    return PosixError(operation, key, "stat", errno);
  }
  if (S_ISDIR(st.st_mode)) return std::optional<OpenFile>();
  if (!S_ISREG(st.st_mode)) {
    return FailedPreconditionError(std::string(operation) + " " +
                                   QuoteKey(key) + ": not a regular file");
  }
  return std::optional<OpenFile>(OpenFile{std::move(fd), st});
}

Result<std::optional<std::string>> FileBackendImpl::load(std::string_view key) {
  return Load(key, nullptr);
}

Result<std::optional<std::string>> FileBackendImpl::load_stamped(
    std::string_view key, std::optional<FileStamp>& settled) {
  settled.reset();
  return Load(key, local_times_ ? &settled : nullptr);
}

Result<std::optional<std::string>> FileBackendImpl::Load(
    std::string_view key, std::optional<FileStamp>* settled) {
  const std::int64_t began = settled != nullptr ? CoarseNow() : 0;
  BACKENDS_ASSIGN_OR_RETURN(auto file, OpenValue("load", key));
  if (!file) return std::optional<std::string>();
  if (settled != nullptr && file->st.st_dev == root_device_ &&
      IsSettled(file->st, began)) {
    *settled = StampOf(file->st);
  }
  BACKENDS_ASSIGN_OR_RETURN(std::string value,
                            ReadToEnd(file->fd.get(), file->st, "load", key));
  return std::optional<std::string>(std::move(value));
}

Result<bool> FileBackendImpl::load_stream(std::string_view key,
                                          ByteSink& sink) {
  BACKENDS_ASSIGN_OR_RETURN(auto file, OpenValue("load", key));
  if (!file) return false;
  std::string buffer(kStreamChunk, '\0');
  while (true) {
    ssize_t n = ::read(file->fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("load", key, "read", errno);
    }
    if (n == 0) return true;
    BACKENDS_RETURN_IF_ERROR(sink.Write(
        std::string_view(buffer.data(), static_cast<std::size_t>(n))));
  }
}

Status FileBackendImpl::DumpOnce(std::string_view key,
                                 const ContentWriter& write_content,
                                 const std::vector<std::string_view>& parts,
                                 bool& retry, const Placer& place,
                                 struct stat* placed) const {
  retry = false;
  FolderChain chain(root_fd_.get());
  BACKENDS_ASSIGN_OR_RETURN(auto outcome,
                            Walk("dump", key, parts, true, chain));
  if (outcome == WalkOutcome::kVanished) {
    retry = true;
    return IOError("dump " + QuoteKey(key) +
                   ": its folders kept being removed by concurrent removes");
  }
  int dir = chain.leaf_dir();
  std::string temp = TempName();
  UniqueFd fd(::openat(dir, temp.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0666));
  if (!fd.valid()) {
    // ENOENT: a concurrent remove pruned the folder; EEXIST: a name clash.
    retry = errno == ENOENT || errno == EEXIST;
    return PosixError("dump", key, "create temporary file", errno);
  }
  MarkTempFileInUse(fd.get());
  auto discard = [&](std::string_view what, int err) {
    ::unlinkat(dir, temp.c_str(), 0);
    return PosixError("dump", key, what, err);
  };
  if (Status written = write_content(fd.get()); !written.ok()) {
    ::unlinkat(dir, temp.c_str(), 0);
    return written;
  }
  if (options_.durable && ::fsync(fd.get()) != 0)
    return discard("fsync", errno);
  // The mark (a lock) belongs to the open file description: a duplicate
  // keeps it until the rename, while close reports write-back errors before
  // the value is in place.
  UniqueFd marked(::dup(fd.get()));
  if (::close(fd.release()) != 0) return discard("close", errno);
  std::string leaf(parts.back());
  if (place) {
    if (Status placed_ok = place(dir, temp, leaf); !placed_ok.ok()) {
      ::unlinkat(dir, temp.c_str(), 0);
      return placed_ok;
    }
  } else if (::renameat(dir, temp.c_str(), dir, leaf.c_str()) != 0) {
    int err = errno;
    ::unlinkat(dir, temp.c_str(), 0);
    if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
      return FailedPreconditionError(
          "dump " + QuoteKey(key) +
          ": a folder of other keys stands there, so it cannot hold a value");
    }
    return PosixError("dump", key, "rename temporary file", err);
  }
  if (placed != nullptr && ::fstat(marked.get(), placed) != 0) {
    return PosixError("dump", key, "stat", errno);
  }
  return SyncFolder("dump", key, dir);
}

Status FileBackendImpl::dump(std::string_view key, std::string_view value) {
  return DumpWith(key, [&](int fd) {
    return WriteAll(fd, value) ? Status::OK()
                               : PosixError("dump", key, "write", errno);
  });
}

// Conditional writes: create-only links the written file to the key's name
// (link(2) fails if the name exists, so one writer of many wins, even
// against plain dumps); replace-if-version checks the version and renames
// while holding an exclusive flock on the key's folder, which every
// conditional writer (any thread, any process) takes first.
Result<std::string> FileBackendImpl::dump_if(std::string_view key,
                                             std::string_view value,
                                             const WriteCondition& condition) {
  BACKENDS_RETURN_IF_ERROR(ValidateFileKey("dump_if", key));
  const auto create_only = [&](int dir, const std::string& temp,
                               const std::string& leaf) -> Status {
    if (::linkat(dir, temp.c_str(), dir, leaf.c_str(), 0) != 0) {
      const int err = errno;
      struct stat st;
      if (err == EEXIST &&
          ::fstatat(dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          !S_ISDIR(st.st_mode)) {
        return CheckWriteCondition(key, condition, "");
      }
      return err == EEXIST ? FailedPreconditionError(
                                 "dump_if " + QuoteKey(key) +
                                 ": a folder of other keys stands there, so "
                                 "it cannot hold a value")
                           : PosixError("dump_if", key, "link", err);
    }
    ::unlinkat(dir, temp.c_str(), 0);
    return Status::OK();
  };
  const auto if_version = [&](int dir, const std::string& temp,
                              const std::string& leaf) -> Status {
    UniqueFd lock(::openat(dir, ".", kDirFlags));
    if (!lock.valid() || ::flock(lock.get(), LOCK_EX) != 0) {
      return PosixError("dump_if", key, "lock folder", errno);
    }
    struct stat st;
    std::optional<std::string> current;
    if (::fstatat(dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISREG(st.st_mode)) current = InfoOf(st).version;
    } else if (errno != ENOENT) {
      return PosixError("dump_if", key, "stat", errno);
    }
    BACKENDS_RETURN_IF_ERROR(CheckWriteCondition(key, condition, current));
    if (::renameat(dir, temp.c_str(), dir, leaf.c_str()) != 0) {
      return PosixError("dump_if", key, "rename temporary file", errno);
    }
    return Status::OK();
  };
  Placer place;
  if (condition.if_version) {
    place = if_version;
  } else if (condition.if_absent) {
    place = create_only;
  }
  struct stat placed;
  BACKENDS_RETURN_IF_ERROR(DumpWith(
      key,
      [&](int fd) {
        return WriteAll(fd, value) ? Status::OK()
                                   : PosixError("dump_if", key, "write", errno);
      },
      place, &placed));
  return InfoOf(placed).version;
}

Status FileBackendImpl::dump_stream(std::string_view key, ByteSource& source) {
  return DumpWith(key, [&](int fd) -> Status {
    std::string buffer(kStreamChunk, '\0');
    while (true) {
      BACKENDS_ASSIGN_OR_RETURN(std::size_t n, source.Read(buffer));
      if (n == 0) return Status::OK();
      if (!WriteAll(fd, std::string_view(buffer.data(), n))) {
        return PosixError("dump", key, "write", errno);
      }
    }
  });
}

Status FileBackendImpl::DumpWith(std::string_view key,
                                 const ContentWriter& write_content,
                                 const Placer& place, struct stat* placed) {
  BACKENDS_RETURN_IF_ERROR(ValidateFileKey("dump", key));
  auto parts = SplitKey(key);
  Status status;
  // Retries happen only before any content is written (creating the
  // temporary file), so a stream is never read twice.
  for (int attempt = 0; attempt < 32; ++attempt) {
    bool retry = false;
    status = DumpOnce(key, write_content, parts, retry, place, placed);
    if (!retry) break;
  }
  return status;
}

Result<std::optional<struct stat>> FileBackendImpl::StatFile(
    std::string_view operation, std::string_view key) const {
  BACKENDS_RETURN_IF_ERROR(ValidateFileKey(operation, key));
  auto parts = SplitKey(key);
  FolderChain chain(root_fd_.get());
  BACKENDS_ASSIGN_OR_RETURN(auto outcome,
                            Walk(operation, key, parts, false, chain));
  if (outcome == WalkOutcome::kAbsent) return std::optional<struct stat>();
  std::string leaf(parts.back());
  struct stat st;
  if (::fstatat(chain.leaf_dir(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) !=
      0) {
    if (errno == ENOENT) return std::optional<struct stat>();
    return PosixError(operation, key, "stat", errno);
  }
  if (!S_ISREG(st.st_mode)) return std::optional<struct stat>();
  return std::optional<struct stat>(st);
}

Result<std::optional<FileStamp>> FileBackendImpl::stamp(std::string_view key) {
  BACKENDS_ASSIGN_OR_RETURN(auto st, StatFile("load", key));
  if (!st) return std::optional<FileStamp>();
  return std::optional<FileStamp>(StampOf(*st));
}

Result<std::optional<KeyInfo>> FileBackendImpl::stat(std::string_view key) {
  BACKENDS_ASSIGN_OR_RETURN(auto found, StatFile("stat", key));
  if (!found) return std::optional<KeyInfo>();
  return std::optional<KeyInfo>(InfoOf(*found));
}

Result<bool> FileBackendImpl::contains(std::string_view key) {
  BACKENDS_ASSIGN_OR_RETURN(auto info, stat(key));
  return info.has_value();
}

}  // namespace backends::file

namespace backends {

using file::FileBackendImpl;
using file::PosixError;
using file::UniqueFd;

Result<std::unique_ptr<FileBackend>> FileBackend::Open(
    std::filesystem::path root, FileOptions options) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(root, ec);
  if (ec) {
    return InvalidArgumentError("open file store " + root.string() + ": " +
                                ec.message());
  }
  absolute = absolute.lexically_normal();
  if (absolute.has_filename() == false && absolute != absolute.root_path()) {
    absolute = absolute.parent_path();  // Drop a trailing slash.
  }
  if (std::filesystem::exists(absolute, ec) &&
      !std::filesystem::is_directory(absolute, ec)) {
    return InvalidArgumentError("open file store \"" + absolute.string() +
                                "\": the root is not a folder");
  }
  if (options.create_root) {
    std::filesystem::create_directories(absolute, ec);
    if (ec && ec != std::errc::file_exists) {
      return file::PosixError("open file store", absolute.string(),
                              "create root folder", ec.value());
    }
  }
  UniqueFd fd(::open(absolute.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT) {
      return NotFoundError("open file store \"" + absolute.string() +
                           "\": the root folder does not exist");
    }
    if (err == ENOTDIR) {
      return InvalidArgumentError("open file store \"" + absolute.string() +
                                  "\": the root is not a folder");
    }
    return file::PosixError("open file store", absolute.string(), "open root",
                            err);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return file::PosixError("open file store", absolute.string(), "stat root",
                            errno);
  }
  return std::unique_ptr<FileBackend>(new FileBackendImpl(
      std::move(absolute), std::move(fd), st.st_dev, options));
}

}  // namespace backends

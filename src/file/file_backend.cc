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
// list() never reports and clear() removes.
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
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "backends/file.h"
#include "backends/open.h"
#include "file/posix.h"

namespace backends {
namespace {

using file::PosixError;
using file::UniqueFd;

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
// Piece size for streamed dumps and loads.
constexpr std::size_t kStreamChunk = 256 * 1024;

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

// Reads to EOF, not st.st_size bytes: a foreign program may be growing the
// file.
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
  return KeyInfo{.size = static_cast<std::uint64_t>(st.st_size),
                 .modified = modified};
}

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

// The folders from the root down to a key's folder. dirs[0] is the root
// (borrowed); dirs[i] for i > 0 is the folder named by segment i - 1 (owned).
class FolderChain {
 public:
  explicit FolderChain(int root_fd) { fds_.push_back(root_fd); }
  FolderChain(FolderChain&&) = default;
  ~FolderChain() {
    for (std::size_t i = 1; i < fds_.size(); ++i) ::close(fds_[i]);
  }
  int leaf_dir() const { return fds_.back(); }
  int at(std::size_t i) const { return fds_[i]; }
  std::size_t depth() const { return fds_.size() - 1; }
  void push(int fd) { fds_.push_back(fd); }

 private:
  std::vector<int> fds_;
};

// kVanished: while creating folders, one was removed by a concurrent
// remove's pruning; the caller walks again from the root.
enum class WalkOutcome { kFound, kAbsent, kVanished };

class FileBackendImpl final : public FileBackend {
 public:
  FileBackendImpl(std::filesystem::path root, UniqueFd root_fd,
                  dev_t root_device, FileOptions options)
      : root_(std::move(root)),
        root_fd_(std::move(root_fd)),
        root_device_(root_device),
        local_times_(KnownLocal(root_fd_.get())),
        options_(options) {}

  Result<std::optional<std::string>> load(std::string_view key) override;
  Result<std::optional<std::string>> load_stamped(
      std::string_view key, std::optional<FileStamp>& settled) override;
  Result<std::optional<FileStamp>> stamp(std::string_view key) override;
  Status dump(std::string_view key, std::string_view value) override;
  Status dump_stream(std::string_view key, ByteSource& source) override;
  Result<bool> load_stream(std::string_view key, ByteSink& sink) override;
  Result<bool> remove(std::string_view key) override;
  Result<bool> remove_if(std::string_view key,
                         const RemovalCheck& should_remove) override;
  Result<std::vector<std::string>> list(std::string_view prefix) override;
  Result<std::optional<KeyInfo>> stat(std::string_view key) override;
  Result<bool> contains(std::string_view key) override;
  Status clear() override;
  std::string url() const override {
    return "file://" + PercentEncode(root_.string(), "/") +
           (options_.durable ? "?durable=1" : "");
  }

  Result<std::filesystem::path> path(std::string_view key) const override {
    BACKENDS_RETURN_IF_ERROR(ValidateFileKey("path", key));
    return root_ / std::filesystem::path(key);
  }
  const std::filesystem::path& root() const override { return root_; }

 private:
  // Opens the folders holding `key` (all segments but the last). Absent
  // when a folder is missing or is a file (then the key cannot exist); with
  // `create`, missing folders are made and a file in the way is an error.
  Result<WalkOutcome> Walk(std::string_view operation, std::string_view key,
                           const std::vector<std::string_view>& parts,
                           bool create, FolderChain& chain) const;
  Status ExplainBlocked(std::string_view operation, std::string_view key,
                        int dir_fd, std::string_view name, int err) const;
  // Writes a value's bytes to the temporary file's descriptor.
  using ContentWriter = std::function<Status(int fd)>;
  Status DumpWith(std::string_view key, const ContentWriter& write_content);
  Status DumpOnce(std::string_view key, const ContentWriter& write_content,
                  const std::vector<std::string_view>& parts,
                  bool& retry) const;
  // Opens the file holding `key` for reading (nullopt when absent).
  struct OpenFile {
    UniqueFd fd;
    struct stat st;
  };
  Result<std::optional<OpenFile>> OpenValue(std::string_view operation,
                                            std::string_view key) const;
  // load, and with `settled` load_stamped's stamp (settled must be reset).
  Result<std::optional<std::string>> Load(std::string_view key,
                                          std::optional<FileStamp>* settled);
  // The regular file holding `key` (nullopt: none, or not a regular file).
  Result<std::optional<struct stat>> StatFile(std::string_view operation,
                                              std::string_view key) const;
  void Prune(const std::vector<std::string_view>& parts,
             FolderChain& chain) const;
  // Renames `aside` back to `leaf` in `dir` without replacing a newer value.
  Status PutBack(std::string_view key, int dir, const std::string& aside,
                 const std::string& leaf, bool regular) const;
  Status ListFolder(int dir_fd, std::string& prefix_path,
                    std::string_view prefix,
                    std::vector<std::string>& out) const;
  Status ClearFolder(int dir_fd, const std::string& where) const;
  Status SyncFolder(std::string_view operation, std::string_view key,
                    int dir_fd) const {
    if (options_.durable && ::fsync(dir_fd) != 0) {
      return PosixError(operation, key, "fsync folder", errno);
    }
    return Status::OK();
  }

  const std::filesystem::path root_;
  const UniqueFd root_fd_;
  const dev_t root_device_;
  // Whether the root's filesystem takes file times from this machine's
  // clock (load_stamped).
  const bool local_times_;
  const FileOptions options_;
};

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
    std::string_view operation, std::string_view key) const {
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
  struct stat st;
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
                                 bool& retry) const {
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
  if (::close(fd.release()) != 0) return discard("close", errno);
  std::string leaf(parts.back());
  if (::renameat(dir, temp.c_str(), dir, leaf.c_str()) != 0) {
    int err = errno;
    ::unlinkat(dir, temp.c_str(), 0);
    if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
      return FailedPreconditionError(
          "dump " + QuoteKey(key) +
          ": a folder of other keys stands there, so it cannot hold a value");
    }
    return PosixError("dump", key, "rename temporary file", err);
  }
  return SyncFolder("dump", key, dir);
}

Status FileBackendImpl::dump(std::string_view key, std::string_view value) {
  return DumpWith(key, [&](int fd) {
    return WriteAll(fd, value) ? Status::OK()
                               : PosixError("dump", key, "write", errno);
  });
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
                                 const ContentWriter& write_content) {
  BACKENDS_RETURN_IF_ERROR(ValidateFileKey("dump", key));
  auto parts = SplitKey(key);
  Status status;
  // Retries happen only before any content is written (creating the
  // temporary file), so a stream is never read twice.
  for (int attempt = 0; attempt < 32; ++attempt) {
    bool retry = false;
    status = DumpOnce(key, write_content, parts, retry);
    if (!retry) break;
  }
  return status;
}

void FileBackendImpl::Prune(const std::vector<std::string_view>& parts,
                            FolderChain& chain) const {
  // chain.at(i) is the folder named parts[i - 1]; remove it from its parent
  // chain.at(i - 1) while it is empty. The root (i == 0) is never removed.
  std::string name;
  for (std::size_t i = chain.depth(); i >= 1; --i) {
    name.assign(parts[i - 1]);
    if (::unlinkat(chain.at(i - 1), name.c_str(), AT_REMOVEDIR) != 0) return;
    if (options_.durable) ::fsync(chain.at(i - 1));
  }
}

Result<bool> FileBackendImpl::remove(std::string_view key) {
  BACKENDS_RETURN_IF_ERROR(ValidateFileKey("remove", key));
  auto parts = SplitKey(key);
  FolderChain chain(root_fd_.get());
  BACKENDS_ASSIGN_OR_RETURN(auto outcome,
                            Walk("remove", key, parts, false, chain));
  if (outcome == WalkOutcome::kAbsent) return false;
  std::string leaf(parts.back());
  struct stat st;
  if (::fstatat(chain.leaf_dir(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) !=
      0) {
    if (errno == ENOENT) return false;
    return PosixError("remove", key, "stat", errno);
  }
  if (S_ISDIR(st.st_mode)) return false;  // A folder of keys, not a key.
  if (S_ISLNK(st.st_mode)) {
    return InvalidArgumentError("remove " + QuoteKey(key) +
                                ": is a symbolic link; the store does not "
                                "follow links");
  }
  if (::unlinkat(chain.leaf_dir(), leaf.c_str(), 0) != 0) {
    // EISDIR: since the stat, concurrent calls removed the key and made a
    // folder of keys under its name.
    if (errno == ENOENT || errno == EISDIR) return false;
    return PosixError("remove", key, "unlink", errno);
  }
  BACKENDS_RETURN_IF_ERROR(SyncFolder("remove", key, chain.leaf_dir()));
  Prune(parts, chain);
  return true;
}

// The file is renamed aside first: from then on no writer's rename can
// replace what is judged. An approved file is unlinked; any other is renamed
// back, unless a newer value took its place meanwhile (it then stays, as it
// would had it been written a moment later). While the file is aside, a
// reader sees the key as absent.
Result<bool> FileBackendImpl::remove_if(std::string_view key,
                                        const RemovalCheck& should_remove) {
  BACKENDS_RETURN_IF_ERROR(ValidateFileKey("remove", key));
  auto parts = SplitKey(key);
  FolderChain chain(root_fd_.get());
  BACKENDS_ASSIGN_OR_RETURN(auto outcome,
                            Walk("remove", key, parts, false, chain));
  if (outcome == WalkOutcome::kAbsent) return false;
  const int dir = chain.leaf_dir();
  const std::string leaf(parts.back());
  struct stat st;
  if (::fstatat(dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return PosixError("remove", key, "stat", errno);
  }
  if (!S_ISREG(st.st_mode)) return false;  // A folder of keys, or a link.
  const std::string aside = TempName();
  if (::renameat2(dir, leaf.c_str(), dir, aside.c_str(), RENAME_NOREPLACE) !=
      0) {
    if (errno == ENOENT) return false;
    return PosixError("remove", key, "rename aside", errno);
  }
  UniqueFd fd(::openat(dir, aside.c_str(),
                       O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  Status checked = Status::OK();
  bool approved = false;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    checked = PosixError("remove", key, "open aside", errno);
  } else if (S_ISREG(st.st_mode)) {
    auto value = ReadToEnd(fd.get(), st, "remove", key);
    checked = value.status();
    approved = value.ok() && should_remove(*value, InfoOf(st));
  }
  if (approved) {
    if (::unlinkat(dir, aside.c_str(), 0) != 0) {
      return PosixError("remove", key, "unlink", errno);
    }
    BACKENDS_RETURN_IF_ERROR(SyncFolder("remove", key, dir));
    Prune(parts, chain);
    return true;
  }
  BACKENDS_RETURN_IF_ERROR(PutBack(key, dir, aside, leaf, S_ISREG(st.st_mode)));
  BACKENDS_RETURN_IF_ERROR(checked);
  return false;
}

Status FileBackendImpl::PutBack(std::string_view key, int dir,
                                const std::string& aside,
                                const std::string& leaf, bool regular) const {
  if (::renameat2(dir, aside.c_str(), dir, leaf.c_str(), RENAME_NOREPLACE) ==
      0) {
    return SyncFolder("remove", key, dir);
  }
  int err = errno;
  if (err == EINVAL && regular) {  // No RENAME_NOREPLACE here: link instead.
    if (::linkat(dir, aside.c_str(), dir, leaf.c_str(), 0) == 0) {
      ::unlinkat(dir, aside.c_str(), 0);
      return SyncFolder("remove", key, dir);
    }
    err = errno;
  }
  // A newer value holds the key: the older one taken aside goes.
  if (err == EEXIST && regular && ::unlinkat(dir, aside.c_str(), 0) == 0) {
    return Status::OK();
  }
  return PosixError("remove", key,
                    "put back " + aside + " (it holds the value)", err);
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

Status FileBackendImpl::ListFolder(int dir_fd, std::string& prefix_path,
                                   std::string_view prefix,
                                   std::vector<std::string>& out) const {
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PosixError("list", prefix_path, "open folder", errno);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return PosixError("list", prefix_path, "read folder", err);
  }
  Status status;
  std::size_t base = prefix_path.size();
  while (status.ok()) {
    errno = 0;
    dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      if (errno != 0)
        status = PosixError("list", prefix_path, "readdir", errno);
      break;
    }
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || name.starts_with(kTempFilePrefix)) {
      continue;
    }
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
          0) {
        continue;  // Removed meanwhile.
      }
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : 0;
    }
    prefix_path.resize(base);
    prefix_path += name;
    // Skip what cannot be a key: links, devices, names that are not keys.
    if (type == DT_REG) {
      if (prefix_path.starts_with(prefix) &&
          ValidateKey("list", prefix_path).ok()) {
        out.push_back(prefix_path);
      }
    } else if (type == DT_DIR) {
      std::size_t common = std::min(prefix_path.size(), prefix.size());
      if (prefix_path.compare(0, common, prefix, 0, common) != 0) continue;
      int child = ::openat(::dirfd(dir), entry->d_name, kDirFlags);
      if (child < 0) {
        if (errno == ENOENT) continue;  // Pruned meanwhile.
        status = PosixError("list", prefix_path, "open folder", errno);
        break;
      }
      prefix_path += '/';
      status = ListFolder(child, prefix_path, prefix, out);
      ::close(child);
    }
  }
  prefix_path.resize(base);
  ::closedir(dir);
  return status;
}

Result<std::vector<std::string>> FileBackendImpl::list(
    std::string_view prefix) {
  std::vector<std::string> out;
  std::string path;
  BACKENDS_RETURN_IF_ERROR(ListFolder(root_fd_.get(), path, prefix, out));
  std::sort(out.begin(), out.end());
  return out;
}

Status FileBackendImpl::ClearFolder(int dir_fd,
                                    const std::string& where) const {
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PosixError("clear", where, "open folder", errno);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return PosixError("clear", where, "read folder", err);
  }
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  Status status;
  for (const auto& name : names) {
    if (::unlinkat(::dirfd(dir), name.c_str(), 0) == 0 || errno == ENOENT) {
      continue;
    }
    if (errno != EISDIR && errno != EPERM) {
      status = PosixError("clear", where + name, "unlink", errno);
      break;
    }
    // A folder (Linux answers EISDIR): empty it, then remove it.
    int child = ::openat(::dirfd(dir), name.c_str(), kDirFlags);
    if (child < 0) {
      status = PosixError("clear", where + name, "open folder", errno);
      break;
    }
    status = ClearFolder(child, where + name + "/");
    ::close(child);
    if (!status.ok()) break;
    if (::unlinkat(::dirfd(dir), name.c_str(), AT_REMOVEDIR) != 0 &&
        errno != ENOENT) {
      status = PosixError("clear", where + name, "remove folder", errno);
      break;
    }
  }
  ::closedir(dir);
  return status;
}

Status FileBackendImpl::clear() {
  BACKENDS_RETURN_IF_ERROR(ClearFolder(root_fd_.get(), ""));
  return SyncFolder("clear", "", root_fd_.get());
}

}  // namespace

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

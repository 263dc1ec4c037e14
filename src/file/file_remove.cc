// The filesystem store's removals: remove, remove_if (renamed aside, checked,
// renamed back unless approved), pruning the folders a removal empties, and
// clear().

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "file/file_backend_impl.h"

namespace backends::file {

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

Result<std::optional<struct stat>> FileBackendImpl::StatForRemoval(
    std::string_view key, const std::vector<std::string_view>& parts,
    FolderChain& chain) const {
  BACKENDS_RETURN_IF_ERROR(ValidateFileKey("remove", key));
  BACKENDS_ASSIGN_OR_RETURN(auto outcome,
                            Walk("remove", key, parts, false, chain));
  if (outcome == WalkOutcome::kAbsent) return std::optional<struct stat>();
  const std::string leaf(parts.back());
  struct stat st;
  if (::fstatat(chain.leaf_dir(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) !=
      0) {
    if (errno == ENOENT) return std::optional<struct stat>();
    return PosixError("remove", key, "stat", errno);
  }
  return std::optional<struct stat>(st);
}

Result<bool> FileBackendImpl::remove(std::string_view key) {
  auto parts = SplitKey(key);
  FolderChain chain(root_fd_.get());
  BACKENDS_ASSIGN_OR_RETURN(auto found, StatForRemoval(key, parts, chain));
  if (!found) return false;
  const struct stat& st = *found;
  const std::string leaf(parts.back());
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
  auto parts = SplitKey(key);
  FolderChain chain(root_fd_.get());
  BACKENDS_ASSIGN_OR_RETURN(auto found, StatForRemoval(key, parts, chain));
  // Nothing, a folder of keys, or a link: no value to judge.
  if (!found || !S_ISREG(found->st_mode)) return false;
  struct stat st = *found;
  const int dir = chain.leaf_dir();
  const std::string leaf(parts.back());
  const std::string aside = TempName();
  if (::renameat2(dir, leaf.c_str(), dir, aside.c_str(), RENAME_NOREPLACE) !=
      0) {
    if (errno == ENOENT) return false;
    return PosixError("remove", key, "rename aside", errno);
  }
  UniqueFd fd(::openat(dir, aside.c_str(),
                       O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.valid()) MarkTempFileInUse(fd.get());
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

namespace {

// Whether the temporary file `name` in `dir` is provably abandoned: older
// than `min_age` (a writer marks its file right after creating it) and not
// marked in use by any live process (the lock is taken here, then dropped
// on return with the descriptor).
bool Abandoned(int dir, const char* name, std::chrono::seconds min_age) {
  UniqueFd fd(
      ::openat(dir, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return false;
  }
  const auto changed = std::chrono::system_clock::time_point(
      std::chrono::seconds(st.st_ctim.tv_sec) +
      std::chrono::nanoseconds(st.st_ctim.tv_nsec));
  if (std::chrono::system_clock::now() - changed < min_age) return false;
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  if (::fcntl(fd.get(), F_OFD_SETLK, &lock) != 0) return false;
  // Still the same file under that name (not renamed away and replaced).
  struct stat now;
  return ::fstatat(dir, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
         now.st_ino == st.st_ino && now.st_dev == st.st_dev;
}

Status SweepFolder(int dir_fd, const std::string& where,
                   std::chrono::seconds min_age, std::size_t& removed) {
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PosixError("sweep", where, "open folder", errno);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return PosixError("sweep", where, "read folder", err);
  }
  std::vector<std::string> temps;
  std::vector<std::string> folders;
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (name.starts_with(kTempFilePrefix)) {
      temps.emplace_back(name);
    } else if (entry->d_type == DT_DIR || entry->d_type == DT_UNKNOWN) {
      folders.emplace_back(name);
    }
  }
  Status status;
  for (const auto& name : temps) {
    if (Abandoned(::dirfd(dir), name.c_str(), min_age) &&
        ::unlinkat(::dirfd(dir), name.c_str(), 0) == 0) {
      ++removed;
    }
  }
  for (const auto& name : folders) {
    UniqueFd child(::openat(::dirfd(dir), name.c_str(), kDirFlags));
    if (!child.valid()) continue;  // not a folder, or gone meanwhile
    status = SweepFolder(child.get(), where + name + "/", min_age, removed);
    if (!status.ok()) break;
  }
  ::closedir(dir);
  return status;
}

}  // namespace

Result<std::size_t> FileBackendImpl::remove_abandoned_temp_files(
    std::chrono::seconds min_age) {
  std::size_t removed = 0;
  BACKENDS_RETURN_IF_ERROR(SweepFolder(root_fd_.get(), "", min_age, removed));
  return removed;
}

Status FileBackendImpl::clear() {
  BACKENDS_RETURN_IF_ERROR(ClearFolder(root_fd_.get(), ""));
  return SyncFolder("clear", "", root_fd_.get());
}

}  // namespace backends::file

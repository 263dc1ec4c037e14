// The filesystem store's listings: list, list_page and list_entries.
//
// One walk serves them all. It visits each folder's entries in key order (a
// folder "x" is visited as "x/", so "a/x" sorts after "a.b" as the keys
// do), descends only into folders that can hold keys of the prefix after
// the start position, and stops once the page is full.
//
// With a delimiter, a folder whose path already holds the delimiter after
// the prefix rolls up whole into one common prefix: it is not walked, only
// searched until its first key (so a folder holding no key, e.g. only a
// temporary file, is no common prefix). With "/" every folder below the
// listed level is such a folder, so one level is listed without walking the
// folders beneath it; other delimiters roll up the keys that hold them.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <string>
#include <vector>

#include "file/file_backend_impl.h"
#include "file/posix.h"

namespace backends::file {
namespace {

// Sorts after every key that starts with what precedes it: UTF-8 keys never
// hold the byte 0xFF (backend.h, EntryPage::resume_after).
constexpr char kAfterEveryKey = '\xff';

// A folder entry named as its keys sort: a folder's name ends with '/'.
struct SortedEntry {
  std::string name;
  bool folder;
  bool operator<(const SortedEntry& other) const { return name < other.name; }
};

// Whether a key that starts with `path` can start with `prefix`.
bool CanHold(std::string_view path, std::string_view prefix) {
  const std::size_t common = std::min(path.size(), prefix.size());
  return path.compare(0, common, prefix, 0, common) == 0;
}

// Whether no key in the folder `path` (ending with '/') sorts after
// `start_after`.
bool AllBefore(std::string_view path, std::string_view start_after) {
  return start_after > path && !start_after.starts_with(path);
}

// The entries of folder `dir_fd` that may be keys or hold keys: regular
// files and folders; never our temporary files or links. Unsorted.
Status ReadFolder(int dir_fd, const std::string& path,
                  std::vector<SortedEntry>& entries) {
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PosixError("list", path, "open folder", errno);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return PosixError("list", path, "read folder", err);
  }
  while (true) {
    errno = 0;
    dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      int err = errno;
      ::closedir(dir);
      if (err != 0) return PosixError("list", path, "readdir", err);
      return Status::OK();
    }
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || name.starts_with(kTempFilePrefix)) {
      continue;
    }
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (::fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        continue;  // Removed meanwhile.
      }
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : 0;
    }
    if (type == DT_DIR) {
      entries.push_back({std::string(name) + '/', true});
    } else if (type == DT_REG) {
      entries.push_back({std::string(name), false});
    }
  }
}

// Opens the sub-folder `name` of `dir_fd` (`where` names it in errors);
// -1 when it was removed meanwhile.
Result<int> OpenChild(int dir_fd, const std::string& name,
                      const std::string& where) {
  int child = ::openat(dir_fd, name.c_str(), kDirFlags);
  if (child < 0) {
    if (errno == ENOENT) return -1;
    return PosixError("list", where, "open folder", errno);
  }
  return child;
}

// Whether the folder `dir_fd` (keys starting with `path`) holds a key that
// sorts after `start_after`; stops at the first found.
Result<bool> HoldsKeyAfter(int dir_fd, std::string& path,
                           std::string_view start_after) {
  std::vector<SortedEntry> entries;
  BACKENDS_RETURN_IF_ERROR(ReadFolder(dir_fd, path, entries));
  const std::size_t base = path.size();
  for (const SortedEntry& entry : entries) {
    path.resize(base);
    path += entry.name;
    if (!entry.folder) {
      if (path > start_after && ValidateKey("list", path).ok()) {
        path.resize(base);
        return true;
      }
      continue;
    }
    if (AllBefore(path, start_after)) continue;
    BACKENDS_ASSIGN_OR_RETURN(
        int child,
        OpenChild(dir_fd, entry.name.substr(0, entry.name.size() - 1), path));
    if (child < 0) continue;
    auto holds = HoldsKeyAfter(child, path, start_after);
    ::close(child);
    if (!holds.ok() || *holds) {
      path.resize(base);
      return holds;
    }
  }
  path.resize(base);
  return false;
}

// What one walk gathers: a page of keys in order (with their infos when
// asked), common prefixes among them when a delimiter is given.
struct FolderListing {
  std::string_view prefix;
  std::string_view start_after;
  std::string_view delimiter;
  std::size_t limit;
  bool with_info = false;

  std::vector<std::string> keys;
  std::vector<KeyInfo> infos;  // with_info: one per key
  std::vector<std::string> common_prefixes;
  bool more = false;

  // Whether the page is full; then more may follow.
  bool Full() {
    if (keys.size() + common_prefixes.size() < limit) return false;
    more = true;
    return true;
  }
  // The length of the common prefix that keys starting with `path` roll up
  // into, or npos when they do not all roll up into one.
  std::size_t RollUp(std::string_view path) const {
    if (delimiter.empty() || path.size() < prefix.size()) {
      return std::string::npos;
    }
    const std::size_t at = path.find(delimiter, prefix.size());
    return at == std::string::npos ? at : at + delimiter.size();
  }
};

// Adds to `out` what the folder `dir_fd` (key prefix `path`) holds, in
// order, until the page is full.
Status PageFolder(int dir_fd, std::string& path, FolderListing& out) {
  // A folder's entries come unsorted: read them all (the memory a page
  // needs is the largest folder on its way), then visit them in key order.
  std::vector<SortedEntry> entries;
  BACKENDS_RETURN_IF_ERROR(ReadFolder(dir_fd, path, entries));
  std::sort(entries.begin(), entries.end());

  const std::size_t base = path.size();
  Status status;
  for (const SortedEntry& entry : entries) {
    path.resize(base);
    path += entry.name;
    if (!CanHold(path, out.prefix)) continue;
    if (!out.common_prefixes.empty() &&
        path.starts_with(out.common_prefixes.back())) {
      continue;  // rolled up already
    }
    const std::size_t roll_up = out.RollUp(path);
    if (!entry.folder) {
      if (path <= out.start_after || !path.starts_with(out.prefix) ||
          !ValidateKey("list", path).ok()) {
        continue;
      }
      if (roll_up != std::string::npos) {
        if (out.Full()) break;
        out.common_prefixes.push_back(path.substr(0, roll_up));
        continue;
      }
      struct stat st {};
      if (out.with_info) {
        if (::fstatat(dir_fd, entry.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) !=
            0) {
          if (errno == ENOENT) continue;  // Removed meanwhile.
          status = PosixError("list", path, "stat", errno);
          break;
        }
        if (!S_ISREG(st.st_mode)) continue;  // Replaced meanwhile.
      }
      if (out.Full()) break;
      out.keys.push_back(path);
      if (out.with_info) out.infos.push_back(InfoOf(st));
      continue;
    }
    if (AllBefore(path, out.start_after)) continue;
    if (roll_up == std::string::npos && out.Full()) break;  // it may hold keys
    auto child =
        OpenChild(dir_fd, entry.name.substr(0, entry.name.size() - 1), path);
    if (!child.ok()) {
      status = child.status();
      break;
    }
    if (*child < 0) continue;  // Pruned meanwhile.
    if (roll_up != std::string::npos) {
      auto holds = HoldsKeyAfter(*child, path, out.start_after);
      ::close(*child);
      if (!holds.ok()) {
        status = holds.status();
        break;
      }
      if (!*holds) continue;
      if (out.Full()) break;
      out.common_prefixes.push_back(path.substr(0, roll_up));
      continue;
    }
    status = PageFolder(*child, path, out);
    ::close(*child);
    if (!status.ok() || out.more) break;
  }
  path.resize(base);
  return status;
}

}  // namespace

Result<KeyPage> FileBackendImpl::list_page(std::string_view prefix,
                                           std::string_view start_after,
                                           std::size_t limit) {
  FolderListing out{.prefix = prefix,
                    .start_after = start_after,
                    .limit = std::max<std::size_t>(limit, 1)};
  std::string path;
  BACKENDS_RETURN_IF_ERROR(PageFolder(root_fd_.get(), path, out));
  return KeyPage{.keys = std::move(out.keys), .more = out.more};
}

Result<std::vector<std::string>> FileBackendImpl::list(
    std::string_view prefix) {
  // One page without a limit: the folders' walk in key order.
  FolderListing out{.prefix = prefix,
                    .limit = std::numeric_limits<std::size_t>::max()};
  std::string path;
  BACKENDS_RETURN_IF_ERROR(PageFolder(root_fd_.get(), path, out));
  return std::move(out.keys);
}

Result<EntryPage> FileBackendImpl::list_entries(const ListRequest& request) {
  FolderListing out{.prefix = request.prefix,
                    .start_after = request.start_after,
                    .delimiter = request.delimiter,
                    .limit = std::max<std::size_t>(request.limit, 1),
                    .with_info = true};
  std::string path;
  BACKENDS_RETURN_IF_ERROR(PageFolder(root_fd_.get(), path, out));
  EntryPage page;
  page.entries.reserve(out.keys.size());
  for (std::size_t i = 0; i < out.keys.size(); ++i) {
    page.entries.push_back(
        ListEntry{std::move(out.keys[i]), std::move(out.infos[i])});
  }
  page.common_prefixes = std::move(out.common_prefixes);
  page.more = out.more;
  // The last item of the page, a key or a common prefix, is the larger.
  if (!page.entries.empty()) page.resume_after = page.entries.back().key;
  if (!page.common_prefixes.empty()) {
    std::string after = page.common_prefixes.back() + kAfterEveryKey;
    page.resume_after = std::max(page.resume_after, after);
  }
  return page;
}

}  // namespace backends::file

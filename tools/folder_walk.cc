#include "folder_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace backends::cli {
namespace {

enum class Kind { kFile, kFolder, kSkipped };

// A folder entry named as its keys sort: a folder's name ends with '/', so
// "a/x" sorts after "a.b" as the keys do.
struct Item {
  std::string name;
  Kind kind = Kind::kFile;
  const char* reason = "";  // kSkipped
  bool operator<(const Item& other) const { return name < other.name; }
};

constexpr const char* kTempReason =
    "a temporary file left by an interrupted write";

// Whether a key that starts with `path` can start with `prefix`.
bool CanHold(std::string_view path, std::string_view prefix) {
  const std::size_t common = std::min(path.size(), prefix.size());
  return path.compare(0, common, prefix, 0, common) == 0;
}

Status FolderError(std::string_view path, int error) {
  return IOError("cp: cannot read " +
                 QuoteKey(path.empty() ? std::string_view(".") : path) + ": " +
                 std::strerror(error));
}

// The entries of the folder `fd`, sorted; counts the temporary files.
Status ReadItems(int fd, std::string_view path, std::vector<Item>& items,
                 std::size_t& temp_files) {
  int own = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (own < 0) return FolderError(path, errno);
  DIR* dir = ::fdopendir(own);
  if (dir == nullptr) {
    const int error = errno;
    ::close(own);
    return FolderError(path, error);
  }
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) break;
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (name.starts_with(kTempFilePrefix)) {
      ++temp_files;
      items.push_back({std::string(name), Kind::kSkipped, kTempReason});
      continue;
    }
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (::fstatat(fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        continue;  // Removed meanwhile.
      }
      type = S_ISDIR(st.st_mode)   ? DT_DIR
             : S_ISREG(st.st_mode) ? DT_REG
             : S_ISLNK(st.st_mode) ? DT_LNK
                                   : DT_FIFO;
    }
    if (type == DT_DIR) {
      items.push_back({std::string(name) + '/', Kind::kFolder});
    } else if (type == DT_REG) {
      items.push_back({std::string(name), Kind::kFile});
    } else if (type == DT_LNK) {
      items.push_back({std::string(name), Kind::kSkipped,
                       "a symbolic link (cp follows none)"});
    } else {
      items.push_back({std::string(name), Kind::kSkipped,
                       "not a regular file (a FIFO, socket or device)"});
    }
  }
  const int error = errno;
  ::closedir(dir);
  if (error != 0) return FolderError(path, error);
  std::sort(items.begin(), items.end());
  return Status::OK();
}

// Why the file at `path` is no key ("" if it is one).
std::string InvalidKeyReason(const std::string& path) {
  Status valid = ValidateFileKey("cp", path);
  if (valid.ok()) return "";
  // The message names the key again: keep only its reason.
  const std::string& message = valid.message();
  const std::size_t reason = message.find("invalid key");
  return message.substr(reason == std::string::npos ? 0 : reason);
}

KeyInfo InfoOf(const struct stat& st) {
  // system_clock counts nanoseconds in 64 bits: clamp as the store does.
  constexpr std::int64_t kLimit = 9'000'000'000;
  const std::int64_t seconds =
      std::clamp<std::int64_t>(st.st_mtim.tv_sec, -kLimit, kLimit);
  return KeyInfo{
      .size = static_cast<std::uint64_t>(st.st_size),
      .modified = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::seconds(seconds) +
              std::chrono::nanoseconds(st.st_mtim.tv_nsec)))};
}

}  // namespace

struct FolderWalk::Frame {
  int fd = -1;
  std::string path;  // The keys' prefix in this folder: "" or "a/b/".
  std::vector<Item> items;
  std::size_t next = 0;
  ~Frame() {
    if (fd >= 0) ::close(fd);
  }
};

FolderWalk::FolderWalk(const FileBackend& folder, std::string prefix,
                       bool with_info, OnSkipped on_skipped)
    : folder_(folder),
      prefix_(std::move(prefix)),
      with_info_(with_info),
      on_skipped_(std::move(on_skipped)) {}

FolderWalk::~FolderWalk() = default;

Status FolderWalk::Enter(int parent_fd, const std::string& name,
                         std::string path) {
  // The root may be reached through a link (as the store opens it); a
  // sub-folder never is.
  const bool root = parent_fd == AT_FDCWD;
  const int fd =
      ::openat(parent_fd, name.c_str(),
               O_RDONLY | O_DIRECTORY | O_CLOEXEC | (root ? 0 : O_NOFOLLOW));
  if (fd < 0) {
    // Removed or replaced since it was read: as the store's listing does.
    if (!root && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)) {
      return Status::OK();
    }
    return FolderError(path, errno);
  }
  auto frame = std::make_unique<Frame>();
  frame->fd = fd;
  frame->path = std::move(path);
  BACKENDS_RETURN_IF_ERROR(
      ReadItems(fd, frame->path, frame->items, temp_files_));
  stack_.push_back(std::move(frame));
  return Status::OK();
}

Result<bool> FolderWalk::Next() {
  if (!started_) {
    started_ = true;
    BACKENDS_RETURN_IF_ERROR(Enter(AT_FDCWD, folder_.root().string(), ""));
  }
  while (!stack_.empty()) {
    Frame& frame = *stack_.back();
    if (frame.next == frame.items.size()) {
      stack_.pop_back();
      continue;
    }
    const Item& item = frame.items[frame.next++];
    std::string path = frame.path + item.name;
    if (!CanHold(path, prefix_)) continue;
    if (item.kind == Kind::kFolder) {
      BACKENDS_RETURN_IF_ERROR(Enter(
          frame.fd, item.name.substr(0, item.name.size() - 1), std::move(path)));
      continue;
    }
    if (!path.starts_with(prefix_)) continue;
    std::string invalid =
        item.kind == Kind::kSkipped ? item.reason : InvalidKeyReason(path);
    if (!invalid.empty()) {
      if (on_skipped_) on_skipped_(path, invalid);
      continue;
    }
    KeyInfo info;
    if (with_info_) {
      struct stat st;
      if (::fstatat(frame.fd, item.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) !=
          0) {
        if (errno == ENOENT) continue;  // Removed meanwhile.
        return FolderError(path, errno);
      }
      if (!S_ISREG(st.st_mode)) continue;  // Replaced meanwhile.
      info = InfoOf(st);
    }
    entry_ = ListEntry{.key = std::move(path), .info = std::move(info)};
    return true;
  }
  return false;
}

}  // namespace backends::cli

#pragma once

// The filesystem store's implementation class, shared by its .cc files:
// file_backend.cc (walking, reading, writing), file_list.cc (listing) and
// file_remove.cc (removing, pruning folders, clearing). See file_backend.cc's
// top comment for the protocols.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/file.h"
#include "backends/open.h"
#include "file/posix.h"

namespace backends::file {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
// Piece size for streamed dumps and loads.
constexpr std::size_t kStreamChunk = 256 * 1024;

std::vector<std::string_view> SplitKey(std::string_view key);
// A fresh kTempFilePrefix name.
std::string TempName();
// Locks a temporary file we hold (written, or a value taken aside) for as
// long as `fd` stays open: the mark of a live process that
// remove_abandoned_temp_files respects. Best effort: on a filesystem without
// locks the sweep cannot take its own lock either, so it removes nothing.
void MarkTempFileInUse(int fd);
// Reads to EOF, not st.st_size bytes: a foreign program may be growing the
// file.
Result<std::string> ReadToEnd(int fd, const struct stat& st,
                              std::string_view operation, std::string_view key);
// Size, modification time and version (from the stamp).
KeyInfo InfoOf(const struct stat& st);
// Whether fd's filesystem takes file times from this machine's clock.
bool KnownLocal(int fd);

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
  Result<std::optional<std::string>> load_range(std::string_view key,
                                                std::uint64_t offset,
                                                std::uint64_t length) override;
  Result<bool> copy(std::string_view src_key,
                    std::string_view dst_key) override;
  Result<bool> rename(std::string_view src_key,
                      std::string_view dst_key) override;
  Result<std::string> dump_if(std::string_view key, std::string_view value,
                              const WriteCondition& condition) override;
  Result<bool> remove_if(std::string_view key,
                         const RemovalCheck& should_remove) override;
  Result<std::vector<std::string>> list(std::string_view prefix) override;
  Result<KeyPage> list_page(std::string_view prefix,
                            std::string_view start_after,
                            std::size_t limit) override;
  Result<EntryPage> list_entries(const ListRequest& request) override;
  Result<std::optional<KeyInfo>> stat(std::string_view key) override;
  Result<bool> contains(std::string_view key) override;
  Status clear() override;
  Result<std::size_t> remove_abandoned_temp_files(
      std::chrono::seconds min_age) override;
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
  // Puts the written temporary file `temp` in place as `leaf` in `dir`
  // (the default renames it over whatever is there).
  using Placer = std::function<Status(int dir, const std::string& temp,
                                      const std::string& leaf)>;
  // `placed`, when given, receives the stat of the file put in place.
  Status DumpWith(std::string_view key, const ContentWriter& write_content,
                  const Placer& place = {}, struct stat* placed = nullptr);
  Status DumpOnce(std::string_view key, const ContentWriter& write_content,
                  const std::vector<std::string_view>& parts, bool& retry,
                  const Placer& place, struct stat* placed) const;
  // Opens the file holding `key` for reading (nullopt when absent). With
  // kUnchecked, `st` is left empty and the type is the caller's to check.
  struct OpenFile {
    UniqueFd fd;
    struct stat st;
  };
  enum class TypeCheck { kStat, kUnchecked };
  Result<std::optional<OpenFile>> OpenValue(
      std::string_view operation, std::string_view key,
      TypeCheck check = TypeCheck::kStat) const;
  // load, and with `settled` load_stamped's stamp (settled must be reset).
  Result<std::optional<std::string>> Load(std::string_view key,
                                          std::optional<FileStamp>* settled);
  // The regular file holding `key` (nullopt: none, or not a regular file).
  Result<std::optional<struct stat>> StatFile(std::string_view operation,
                                              std::string_view key) const;
  void Prune(const std::vector<std::string_view>& parts,
             FolderChain& chain) const;
  // Walks to `key`'s folder (into `chain`) and stats its entry without
  // following a link; nullopt when there is none.
  Result<std::optional<struct stat>> StatForRemoval(
      std::string_view key, const std::vector<std::string_view>& parts,
      FolderChain& chain) const;
  // Renames `aside` back to `leaf` in `dir` without replacing a newer value.
  Status PutBack(std::string_view key, int dir, const std::string& aside,
                 const std::string& leaf, bool regular) const;
  // copy (keep_source) or rename.
  Result<bool> Move(std::string_view operation, std::string_view src_key,
                    std::string_view dst_key, bool keep_source);
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

}  // namespace backends::file

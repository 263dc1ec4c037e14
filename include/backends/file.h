#pragma once

// The local filesystem store, and the original's FileSystem*Backend classes.
//
// Layout (the original's, so either library reads the other's folders): the
// value of key K is the file ROOT/K, `/` in a key makes sub-folders, and no
// extension is added.
//
// Keys must pass ValidateKey (backend.h) and these path rules, checked
// before anything touches the disk: not absolute; no empty, `.` or `..`
// segment; no segment over 255 bytes; no segment starting with
// kTempFilePrefix (reserved for our temporary files). Paths are opened
// beneath the root one segment at a time without following symbolic links,
// so neither a key nor a link planted inside the root reaches outside it.
//
// Writes are atomic: the value goes to a temporary file in the key's folder,
// which is then renamed over the key's file, so a reader or a crash never
// sees half a value. With FileOptions::durable the file and its folder are
// also fsynced before dump returns. Temporary files never show up as keys;
// clear() removes any left behind by a crash.
//
// Thread and process safety: safe for concurrent use by many threads and by
// many processes sharing one root.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "backends/backend.h"
#include "backends/view.h"

namespace backends {

/// Names starting with this are our temporary files, never keys.
inline constexpr std::string_view kTempFilePrefix = ".backends-tmp.";

/// How FileBackend::Open opens a store.
struct FileOptions {
  /// fsync the file and its folder on every dump and remove (slower; survives
  /// power loss, not only process crashes).
  bool durable = false;
  /// Create the root folder (and its parents) if it does not exist.
  bool create_root = true;
};

/// What a file looks like from outside: two equal stamps of one key taken
/// at two moments mean its bytes did not change in between, provided the
/// first one was settled (see FileBackend::load_stamped).
struct FileStamp {
  /// The file's identity, size, modification and change (ctime) times in
  /// ns since 1970 UTC: no program can set the change time back.
  ///@{
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t modified_ns = 0;
  std::int64_t changed_ns = 0;
  ///@}
  /// Equal when every field is.
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

/// The local filesystem store (see file.h), with what files
/// add to the Backend contract. Safe for concurrent use by many threads and
/// processes.
class FileBackend : public Backend {
 public:
  /// Opens the store rooted at `root`. Errors: kNotFound if the root does not
  /// exist and options.create_root is false; kInvalidArgument if it is not a
  /// folder; kPermissionDenied / kIOError from the filesystem.
  static Result<std::unique_ptr<FileBackend>> Open(std::filesystem::path root,
                                                   FileOptions options = {});

  /// The file that holds (or would hold) `key`: root/key. Does not touch
  /// the disk. Errors: kInvalidArgument for an invalid key.
  virtual Result<std::filesystem::path> path(std::string_view key) const = 0;

  /// The absolute root folder.
  virtual const std::filesystem::path& root() const = 0;

  /// The stamp of the regular file holding `key` now; nullopt when there is
  /// none (absent, or a folder). Errors: as load's.
  virtual Result<std::optional<FileStamp>> stamp(std::string_view key) = 0;

  /// load, and in `settled` the stamp of the file read if any later change
  /// of that file is sure to change its stamp: its change time lies before
  /// the read began by more than the filesystem's timestamp granularity.
  /// Otherwise (a file changed just now, or a filesystem not known to be
  /// local, whose times come from another clock) `settled` is nullopt.
  virtual Result<std::optional<std::string>> load_stamped(
      std::string_view key, std::optional<FileStamp>& settled) = 0;

  /// Removes the temporary files that writers killed part-way left behind,
  /// and returns how many. A writer holds a lock on its temporary file until
  /// the file is renamed into place; the lock goes with the writer's process,
  /// so a file whose lock can be taken and that is older than `min_age` is
  /// provably abandoned. A live writer's file is never touched (nor one on a
  /// filesystem without locks). The CLI's cp and sync call this on a folder
  /// they write to.
  virtual Result<std::size_t> remove_abandoned_temp_files(
      std::chrono::seconds min_age = std::chrono::minutes(1)) = 0;
};

/// Checks the filesystem key rules above (ValidateKey included).
Status ValidateFileKey(std::string_view operation, std::string_view key);

/// The original's filesystem classes: a typed view over a FileBackend with
/// its extras path() and clear().
template <typename Codec>
class FileSystemBackend : public TypedBackend<Codec> {
 public:
  /// Opens the store rooted at `root`. Errors: FileBackend::Open's.
  static Result<FileSystemBackend> Open(std::filesystem::path root,
                                        FileOptions options = {},
                                        Codec codec = {}) {
    BACKENDS_ASSIGN_OR_RETURN(auto file,
                              FileBackend::Open(std::move(root), options));
    FileBackend* raw = file.get();
    return FileSystemBackend(raw, std::move(file), std::move(codec));
  }

  /// See FileBackend::path.
  Result<std::filesystem::path> path(std::string_view key) const {
    return file_->path(key);
  }
  /// See FileBackend::root.
  const std::filesystem::path& root() const { return file_->root(); }

 private:
  FileSystemBackend(FileBackend* file, std::unique_ptr<Backend> owned,
                    Codec codec)
      : TypedBackend<Codec>(std::move(owned), std::move(codec)), file_(file) {}

  FileBackend* file_;
};

/// Unicode text files (valid UTF-8).
using FileSystemTextBackend = FileSystemBackend<TextCodec>;
/// JSON files in the original's format.
using FileSystemJsonBackend = FileSystemBackend<JsonCodec>;
/// Raw bytes.
using FileSystemRawBackend = FileSystemBackend<RawCodec>;

}  // namespace backends

#pragma once

// Where put reads a value from and where get writes it to.
//
// Values are read and written in chunks through InputSource / OutputFile,
// so progress can be counted as bytes move. Today a whole value is held in
// memory between the two (Backend::load/dump take whole values); when the
// store gains streaming reads and writes (issue 5, S3 multipart), put and
// get pass these same objects to it chunk by chunk instead of calling
// ReadAll / one Write.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "backends/status.h"
#include "progress.h"

namespace backends::cli {

/// Chunk size for reads and writes, and the size from which put/get draw a
/// progress bar.
inline constexpr std::size_t kChunkBytes = std::size_t{1} << 20;

/// A file or stdin, read in chunks. Move-only; closes its descriptor.
class InputSource {
 public:
  /// Opens `path` for reading ("-" is stdin). Errors: kIOError naming
  /// `context` (e.g. `put "key"`), the path and the cause.
  static Result<InputSource> Open(std::string_view context,
                                  const std::string& path);
  /// Stdin.
  static InputSource Stdin(std::string_view context);

  InputSource(InputSource&& other) noexcept;
  InputSource& operator=(InputSource&&) = delete;
  ~InputSource();

  /// The size of a regular file; std::nullopt for pipes and terminals.
  std::optional<std::uint64_t> size() const { return size_; }

  /// Reads everything, counting bytes on `progress`.
  Result<std::string> ReadAll(Progress& progress);

 private:
  InputSource(std::string context, std::string name, int fd, bool owned);

  std::string context_;
  std::string name_;
  int fd_ = -1;
  bool owned_ = false;
  std::optional<std::uint64_t> size_;
};

/// A file written atomically: bytes go to a temporary file next to `path`,
/// which Commit() fsyncs and renames over `path`. Until then `path` is
/// untouched; an OutputFile destroyed without Commit() removes its
/// temporary file, so a failed get never clobbers an existing file.
/// A new file gets mode 0666 minus the umask; an existing one keeps its
/// mode.
class OutputFile {
 public:
  /// Errors: kIOError naming `context`, the path and the cause (missing
  /// folder, no permission, ...).
  static Result<OutputFile> Create(std::string_view context,
                                   const std::string& path);

  OutputFile(OutputFile&& other) noexcept;
  OutputFile& operator=(OutputFile&&) = delete;
  ~OutputFile();

  /// Writes `data` in chunks, counting bytes on `progress`.
  Status Write(std::string_view data, Progress& progress);
  /// Flushes to disk and renames the file into place.
  Status Commit();

 private:
  OutputFile(std::string context, std::string path, std::string temp, int fd);

  std::string context_;
  std::string path_;
  std::string temp_;
  int fd_ = -1;
};

/// Writes `data` to stdout (descriptor 1) in chunks, counting bytes on
/// `progress`. Errors: kIOError naming `context` (e.g. a closed pipe).
Status WriteStdout(std::string_view context, std::string_view data,
                   Progress& progress);

}  // namespace backends::cli

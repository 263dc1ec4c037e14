#pragma once

// Where put reads a value from and where get writes it to.
//
// Values are read and written in chunks through InputSource / OutputFile,
// so progress can be counted as bytes move. Raw values stream: put hands
// the input to Backend::dump_stream and get hands a sink to
// Backend::load_stream, so neither holds the value in memory (text and JSON
// values are checked whole).

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "backends/backend.h"
#include "backends/status.h"
#include "interrupt.h"
#include "progress.h"

namespace backends::cli {

/// Chunk size for reads and writes, and the size from which put/get draw a
/// progress bar.
inline constexpr std::size_t kChunkBytes = std::size_t{1} << 20;

/// A file or stdin, read in chunks. Move-only; closes its descriptor. A
/// read waits for input or a caught signal (see interrupt.h), whichever
/// comes first.
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

  /// Reads up to buffer.size() bytes (0 at the end), counting them on
  /// `progress`.
  Result<std::size_t> Read(std::span<char> buffer, Progress& progress);

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
/// mode. A second interrupt removes the temporary file too.
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
  std::optional<TempFileRegistration> registration_;
  int fd_ = -1;
};

/// Writes `data` to stdout (descriptor 1) in chunks, counting bytes on
/// `progress`. Errors: kIOError naming `context` (e.g. a closed pipe).
Status WriteStdout(std::string_view context, std::string_view data,
                   Progress& progress);

/// An InputSource as a ByteSource for Backend::dump_stream.
class InputByteSource final : public ByteSource {
 public:
  InputByteSource(InputSource& input, Progress& progress)
      : input_(input), progress_(progress) {}
  Result<std::size_t> Read(std::span<char> buffer) override {
    return input_.Read(buffer, progress_);
  }
  std::optional<std::uint64_t> size() const override { return input_.size(); }

 private:
  InputSource& input_;
  Progress& progress_;
};

/// Passes each piece of a streamed load to `write`.
class CallbackSink final : public ByteSink {
 public:
  explicit CallbackSink(std::function<Status(std::string_view)> write)
      : write_(std::move(write)) {}
  Status Write(std::string_view piece) override { return write_(piece); }

 private:
  std::function<Status(std::string_view)> write_;
};

}  // namespace backends::cli

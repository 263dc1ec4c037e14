#pragma once

// Python file objects as the C++ stores' ByteSource and ByteSink, so large
// values stream between a file object and a store without being held whole.
// The C++ call runs without the GIL; each read or write takes it back for
// the Python call. A Python exception raised by the file object ends the
// C++ call, and Rethrow() raises it again once the call has returned.

#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "backends/backend.h"

namespace backends::python {

namespace py = pybind11;

/// Reads an object with readinto() or read() (binary or text; text is sent
/// as UTF-8). Its size is known for a binary file backed by a regular file.
class FileSource final : public ByteSource {
 public:
  /// REQUIRES: the GIL is held. Raises TypeError without read().
  explicit FileSource(py::handle file);
  ~FileSource() override;
  Result<std::size_t> Read(std::span<char> buffer) override;
  std::optional<std::uint64_t> size() const override { return size_; }
  /// Raises the file object's exception, if one ended the call.
  void Rethrow();

 private:
  py::object file_;
  bool readinto_ = false;
  std::string pending_;  // Encoded text not yet handed out.
  std::size_t pending_at_ = 0;
  std::optional<std::uint64_t> size_;
  std::optional<py::error_already_set> error_;
};

/// Writes bytes to a binary file object, or decoded UTF-8 to a text one.
class FileSink final : public ByteSink {
 public:
  explicit FileSink(py::handle file);
  ~FileSink() override;
  Status Write(std::string_view piece) override;
  /// Flushes a text decoder's tail, then raises the file object's exception
  /// if one ended the call.
  void Finish();

 private:
  py::object file_;
  py::object decoder_;  // Set for text files.
  std::optional<py::error_already_set> error_;
};

}  // namespace backends::python

#include "streams.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace backends::python {
namespace {

bool IsTextFile(py::handle file) {
  return py::isinstance(file, py::module_::import("io").attr("TextIOBase"));
}

// The bytes left in a binary file backed by a regular file; nullopt when
// that cannot be known (pipes, sockets, BytesIO, text files).
std::optional<std::uint64_t> RemainingBytes(py::handle file) {
  if (IsTextFile(file) || !py::hasattr(file, "fileno") ||
      !py::hasattr(file, "tell")) {
    return std::nullopt;
  }
  try {
    py::module_ os = py::module_::import("os");
    py::module_ stat = py::module_::import("stat");
    py::object info = os.attr("fstat")(file.attr("fileno")());
    if (!stat.attr("S_ISREG")(info.attr("st_mode")).cast<bool>()) {
      return std::nullopt;
    }
    auto total = info.attr("st_size").cast<std::int64_t>();
    auto at = file.attr("tell")().cast<std::int64_t>();
    if (at > total) return std::nullopt;
    return static_cast<std::uint64_t>(total - at);
  } catch (py::error_already_set&) {
    // No descriptor (io.UnsupportedOperation) or not seekable: the size is
    // simply unknown, and the upload streams without it.
    return std::nullopt;
  }
}

Status PythonFailed(std::string_view what) {
  return IOError(std::string(what) + " raised a Python exception");
}

}  // namespace

FileSource::FileSource(py::handle file)
    : file_(py::reinterpret_borrow<py::object>(file)) {
  if (!py::hasattr(file, "read")) {
    throw py::type_error("expected a file object with read(), not " +
                         std::string(Py_TYPE(file.ptr())->tp_name));
  }
  readinto_ = !IsTextFile(file) && py::hasattr(file, "readinto");
  size_ = RemainingBytes(file);
}

FileSource::~FileSource() = default;

Result<std::size_t> FileSource::Read(std::span<char> buffer) {
  py::gil_scoped_acquire gil;
  try {
    if (readinto_) {
      auto view = py::reinterpret_steal<py::object>(PyMemoryView_FromMemory(
          buffer.data(), static_cast<Py_ssize_t>(buffer.size()), PyBUF_WRITE));
      if (!view) throw py::error_already_set();
      py::object count = file_.attr("readinto")(view);
      view.attr("release")();
      if (count.is_none()) {
        return InvalidArgumentError("the file object is non-blocking");
      }
      return count.cast<std::size_t>();
    }
    while (pending_at_ == pending_.size()) {
      py::object chunk = file_.attr("read")(buffer.size());
      pending_at_ = 0;
      if (py::isinstance<py::str>(chunk)) {
        pending_ = chunk.cast<std::string>();  // UTF-8
      } else if (py::isinstance<py::bytes>(chunk)) {
        pending_ = chunk.cast<std::string>();
      } else {
        throw py::type_error("read() returned " +
                             std::string(Py_TYPE(chunk.ptr())->tp_name) +
                             ", not bytes or str");
      }
      if (pending_.empty()) return std::size_t{0};
    }
    std::size_t n = std::min(buffer.size(), pending_.size() - pending_at_);
    std::memcpy(buffer.data(), pending_.data() + pending_at_, n);
    pending_at_ += n;
    return n;
  } catch (py::error_already_set& error) {
    error_.emplace(std::move(error));
    return PythonFailed("read()");
  } catch (py::builtin_exception& error) {
    error.set_error();
    error_.emplace();
    return PythonFailed("read()");
  }
}

void FileSource::Rethrow() {
  if (error_) {
    py::error_already_set error = std::move(*error_);
    error_.reset();
    throw error;
  }
}

FileSink::FileSink(py::handle file)
    : file_(py::reinterpret_borrow<py::object>(file)) {
  if (!py::hasattr(file, "write")) {
    throw py::type_error("expected a file object with write(), not " +
                         std::string(Py_TYPE(file.ptr())->tp_name));
  }
  if (IsTextFile(file)) {
    decoder_ =
        py::module_::import("codecs").attr("getincrementaldecoder")("utf-8")();
  }
}

FileSink::~FileSink() = default;

Status FileSink::Write(std::string_view piece) {
  py::gil_scoped_acquire gil;
  try {
    py::bytes bytes(piece.data(), piece.size());
    if (decoder_) {
      file_.attr("write")(decoder_.attr("decode")(bytes));
    } else {
      file_.attr("write")(bytes);
    }
    return Status::OK();
  } catch (py::error_already_set& error) {
    error_.emplace(std::move(error));
    return PythonFailed("write()");
  }
}

void FileSink::Finish() {
  if (error_) {
    py::error_already_set error = std::move(*error_);
    error_.reset();
    throw error;
  }
  if (decoder_) {
    file_.attr("write")(decoder_.attr("decode")(py::bytes(), true));
  }
}

}  // namespace backends::python

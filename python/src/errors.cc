#include "errors.h"

#include <array>
#include <string>

namespace backends::python {
namespace {

namespace py = pybind11;

constexpr int kCodes = static_cast<int>(ErrorCode::kInternal) + 1;

// Borrowed for the life of the process: the module backends.errors is never
// unloaded, and Python objects must not be destroyed after finalization.
std::array<PyObject*, kCodes>& Classes() {
  static std::array<PyObject*, kCodes> classes{};
  return classes;
}

}  // namespace

void InitErrors() {
  py::dict by_code = py::module_::import("backends.errors").attr("BY_CODE");
  for (int i = 1; i < kCodes; ++i) {
    std::string name(ErrorCodeName(static_cast<ErrorCode>(i)));
    if (!by_code.contains(name)) {
      throw py::import_error("backends.errors has no class for code " + name);
    }
    py::object cls = by_code[name.c_str()];
    Classes()[i] = cls.release().ptr();
  }
}

void Raise(const Status& status) {
  int code = static_cast<int>(status.code());
  PyObject* cls = code > 0 && code < kCodes ? Classes()[code] : nullptr;
  if (cls == nullptr) cls = Classes()[static_cast<int>(ErrorCode::kInternal)];
  // Messages may quote stored bytes that are not UTF-8 (a parser's "last
  // read"): PyErr_SetString would then raise with no message at all.
  const std::string& message = status.message();
  PyObject* text = PyUnicode_DecodeUTF8(
      message.data(), static_cast<Py_ssize_t>(message.size()), "replace");
  if (text == nullptr) throw py::error_already_set();
  PyErr_SetObject(cls, text);
  Py_DECREF(text);
  throw py::error_already_set();
}

}  // namespace backends::python

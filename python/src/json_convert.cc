#include "json_convert.h"

#include <string>
#include <utility>

#include "backends/backend.h"
#include "errors.h"

namespace backends::python {
namespace {

namespace py = pybind11;

[[noreturn]] void TooDeep(std::string_view operation, std::string_view key) {
  Raise(InvalidArgumentError(std::string(operation) + " " + QuoteKey(key) +
                             ": value nested deeper than " +
                             std::to_string(kMaxJsonDepth) + " levels"));
}

std::string Utf8(PyObject* text) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(text, &size);
  if (data == nullptr) throw py::error_already_set();  // lone surrogates
  return std::string(data, static_cast<std::size_t>(size));
}

// As json.dumps converts dict keys that are not str.
std::string KeyText(PyObject* key) {
  if (PyUnicode_Check(key)) return Utf8(key);
  if (key == Py_True) return "true";
  if (key == Py_False) return "false";
  if (key == Py_None) return "null";
  // int.__repr__ / float.__repr__ as json does, never a subclass's own.
  if (PyLong_Check(key) || PyFloat_Check(key)) {
    auto repr = PyLong_Check(key) ? PyLong_Type.tp_repr : PyFloat_Type.tp_repr;
    auto text = py::reinterpret_steal<py::object>(repr(key));
    if (!text) throw py::error_already_set();
    return Utf8(text.ptr());
  }
  throw py::type_error(
      std::string("keys must be str, int, float, bool or None, not ") +
      Py_TYPE(key)->tp_name);
}

Json IntToJson(PyObject* value, std::string_view operation,
               std::string_view key) {
  int overflow = 0;
  long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
  if (overflow == 0) {
    if (number == -1 && PyErr_Occurred()) throw py::error_already_set();
    return Json(static_cast<std::int64_t>(number));
  }
  if (overflow > 0) {
    unsigned long long big = PyLong_AsUnsignedLongLong(value);
    if (!PyErr_Occurred()) return Json(static_cast<std::uint64_t>(big));
    PyErr_Clear();
  }
  Raise(InvalidArgumentError(std::string(operation) + " " + QuoteKey(key) +
                             ": integer beyond 64 bits cannot be stored"));
}

Json ToJson(PyObject* value, int depth, std::string_view operation,
            std::string_view key) {
  if (value == Py_None) return Json(nullptr);
  if (value == Py_True) return Json(true);
  if (value == Py_False) return Json(false);
  if (PyUnicode_Check(value)) return Json(Utf8(value));
  if (PyLong_Check(value)) return IntToJson(value, operation, key);
  if (PyFloat_Check(value)) return Json(PyFloat_AS_DOUBLE(value));
  bool is_dict = PyDict_Check(value);
  if (is_dict || PyList_Check(value) || PyTuple_Check(value)) {
    if (depth >= kMaxJsonDepth) TooDeep(operation, key);
    Json out;
    if (is_dict) {
      out = Json::object();
      PyObject* item_key = nullptr;
      PyObject* item = nullptr;
      Py_ssize_t pos = 0;
      while (PyDict_Next(value, &pos, &item_key, &item)) {
        out[KeyText(item_key)] = ToJson(item, depth + 1, operation, key);
      }
    } else {
      // The size is read on every step: no Python code runs meanwhile, but
      // a list is not trusted to keep its length.
      out = Json::array();
      for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(value); ++i) {
        out.push_back(ToJson(PySequence_Fast_GET_ITEM(value, i), depth + 1,
                             operation, key));
      }
    }
    return out;
  }
  throw py::type_error(std::string("Object of type ") +
                       Py_TYPE(value)->tp_name + " is not JSON serializable");
}

py::object ToPython(const Json& value, int depth) {
  switch (value.type()) {
    case Json::value_t::null:
      return py::none();
    case Json::value_t::boolean:
      return py::bool_(value.get<bool>());
    case Json::value_t::number_integer:
      return py::reinterpret_steal<py::object>(
          PyLong_FromLongLong(value.get<std::int64_t>()));
    case Json::value_t::number_unsigned:
      return py::reinterpret_steal<py::object>(
          PyLong_FromUnsignedLongLong(value.get<std::uint64_t>()));
    case Json::value_t::number_float:
      return py::reinterpret_steal<py::object>(
          PyFloat_FromDouble(value.get<double>()));
    case Json::value_t::string: {
      PyObject* out = TextObject(value.get_ref<const std::string&>());
      if (out == nullptr) throw py::error_already_set();
      return py::reinterpret_steal<py::object>(out);
    }
    default:
      break;
  }
  if (depth >= kMaxJsonDepth) {
    Raise(DataLossError("JSON value nested deeper than " +
                        std::to_string(kMaxJsonDepth) + " levels"));
  }
  if (value.is_array()) {
    const auto& array = value.get_ref<const Json::array_t&>();
    py::list out(array.size());
    for (std::size_t i = 0; i < array.size(); ++i) {
      // PyList_SET_ITEM steals the reference release() hands over.
      PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i),
                      ToPython(array[i], depth + 1).release().ptr());
    }
    return out;
  }
  if (value.is_object()) {
    py::dict out;
    for (const auto& [name, item] : value.get_ref<const Json::object_t&>()) {
      auto text = py::reinterpret_steal<py::object>(KeyObject(name));
      if (!text) throw py::error_already_set();
      py::object child = ToPython(item, depth + 1);
      if (PyDict_SetItem(out.ptr(), text.ptr(), child.ptr()) != 0) {
        throw py::error_already_set();
      }
    }
    return out;
  }
  Raise(DataLossError("a JSON value of an unsupported type (binary)"));
}

}  // namespace

Json PythonToJson(py::handle value, std::string_view operation,
                  std::string_view key) {
  return ToJson(value.ptr(), 0, operation, key);
}

py::object JsonToPython(const Json& value) { return ToPython(value, 0); }

PyObject* TextObject(std::string_view text) {
  return PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()),
                              "strict");
}

PyObject* KeyObject(std::string_view text) { return TextObject(text); }

}  // namespace backends::python

#include "json_convert.h"

#include <array>
#include <cstring>
#include <functional>
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

// A new reference, or nullptr: with a Python error set, or (too_deep)
// past kMaxJsonDepth. Raw references: pybind11's wrappers cost a fifth of
// a 1 KiB conversion.
PyObject* ToPython(const Json& value, int depth, bool& too_deep) {
  switch (value.type()) {
    case Json::value_t::null:
      Py_RETURN_NONE;
    case Json::value_t::boolean:
      return PyBool_FromLong(value.get<bool>());
    case Json::value_t::number_integer:
      return PyLong_FromLongLong(value.get<std::int64_t>());
    case Json::value_t::number_unsigned:
      return PyLong_FromUnsignedLongLong(value.get<std::uint64_t>());
    case Json::value_t::number_float:
      return PyFloat_FromDouble(value.get<double>());
    case Json::value_t::string:
      return TextObject(value.get_ref<const std::string&>());
    case Json::value_t::array: {
      if (depth >= kMaxJsonDepth) return too_deep = true, nullptr;
      const auto& array = value.get_ref<const Json::array_t&>();
      PyObject* out = PyList_New(static_cast<Py_ssize_t>(array.size()));
      for (std::size_t i = 0; out != nullptr && i < array.size(); ++i) {
        PyObject* item = ToPython(array[i], depth + 1, too_deep);
        if (item == nullptr)
          Py_CLEAR(out);
        else
          PyList_SET_ITEM(out, static_cast<Py_ssize_t>(i), item);
      }
      return out;
    }
    case Json::value_t::object: {
      if (depth >= kMaxJsonDepth) return too_deep = true, nullptr;
      PyObject* out = PyDict_New();
      if (out == nullptr) return nullptr;
      for (const auto& [name, item] : value.get_ref<const Json::object_t&>()) {
        PyObject* key = KeyObject(name);
        PyObject* child = key ? ToPython(item, depth + 1, too_deep) : nullptr;
        bool failed = child == nullptr || PyDict_SetItem(out, key, child) != 0;
        Py_XDECREF(key);
        Py_XDECREF(child);
        if (failed) {
          Py_DECREF(out);
          return nullptr;
        }
      }
      return out;
    }
    default:
      break;
  }
  PyErr_SetString(PyExc_TypeError, "a JSON value of an unsupported type");
  return nullptr;
}

}  // namespace

Json PythonToJson(py::handle value, std::string_view operation,
                  std::string_view key) {
  return ToJson(value.ptr(), 0, operation, key);
}

py::object JsonToPython(const Json& value) {
  bool too_deep = false;
  PyObject* out = ToPython(value, 0, too_deep);
  if (out != nullptr) return py::reinterpret_steal<py::object>(out);
  if (too_deep) {
    Raise(DataLossError("JSON value nested deeper than " +
                        std::to_string(kMaxJsonDepth) + " levels"));
  }
  throw py::error_already_set();
}

PyObject* TextObject(std::string_view text) {
  return PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()),
                              "strict");
}

// Dict keys repeat from value to value: the last str made for each short
// ASCII key stays in a small table and is shared (with its hash already
// computed), as CPython's json scanner shares keys within one document.
PyObject* KeyObject(std::string_view text) {
  constexpr std::size_t kLongestCached = 64;
  constexpr std::size_t kSlots = 1024;           // A power of 2.
  static std::array<PyObject*, kSlots> table{};  // Owned; GIL guards it.
  if (text.size() > kLongestCached) return TextObject(text);
  PyObject*& slot = table[std::hash<std::string_view>{}(text) & (kSlots - 1)];
  if (slot != nullptr &&
      static_cast<std::size_t>(PyUnicode_GET_LENGTH(slot)) == text.size() &&
      std::memcmp(PyUnicode_DATA(slot), text.data(), text.size()) == 0) {
    Py_INCREF(slot);
    return slot;
  }
  PyObject* out = TextObject(text);
  if (out != nullptr && PyUnicode_IS_COMPACT_ASCII(out)) {
    Py_INCREF(out);
    Py_XSETREF(slot, out);
  }
  return out;
}

}  // namespace backends::python

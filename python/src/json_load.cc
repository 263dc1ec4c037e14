#include "json_load.h"

#include <utility>

#include "errors.h"
#include "json_convert.h"

namespace backends::python {
namespace {

namespace py = pybind11;

thread_local simdjson::dom::parser thread_parser;
thread_local bool thread_parser_claimed = false;

// Builds new references; nullptr with a Python error set, or without one
// when nesting passes kMaxJsonDepth (then the caller falls back).
PyObject* Build(simdjson::dom::element element, int depth) {
  using Type = simdjson::dom::element_type;
  switch (element.type()) {
    case Type::NULL_VALUE:
      Py_RETURN_NONE;
    case Type::BOOL:
      if (element.get_bool().value_unsafe()) Py_RETURN_TRUE;
      Py_RETURN_FALSE;
    case Type::INT64:
      return PyLong_FromLongLong(element.get_int64().value_unsafe());
    case Type::UINT64:
      return PyLong_FromUnsignedLongLong(element.get_uint64().value_unsafe());
    case Type::DOUBLE:
      return PyFloat_FromDouble(element.get_double().value_unsafe());
    case Type::STRING:
      return TextObject(element.get_string().value_unsafe());
    case Type::ARRAY: {
      if (depth >= kMaxJsonDepth) return nullptr;
      simdjson::dom::array array = element.get_array().value_unsafe();
      PyObject* out = PyList_New(static_cast<Py_ssize_t>(array.size()));
      if (out == nullptr) return nullptr;
      Py_ssize_t i = 0;
      for (simdjson::dom::element item : array) {
        PyObject* value = Build(item, depth + 1);
        if (value == nullptr) {
          Py_DECREF(out);
          return nullptr;
        }
        PyList_SET_ITEM(out, i++, value);  // Steals value.
      }
      return out;
    }
    case Type::OBJECT: {
      if (depth >= kMaxJsonDepth) return nullptr;
      // A named copy: iterating the temporary result's value would dangle.
      simdjson::dom::object object = element.get_object().value_unsafe();
      PyObject* out = PyDict_New();
      if (out == nullptr) return nullptr;
      // Duplicate keys: the last one wins, as in json.loads.
      for (auto field : object) {
        PyObject* name = KeyObject(field.key);
        PyObject* value = name ? Build(field.value, depth + 1) : nullptr;
        int failed = value ? PyDict_SetItem(out, name, value) : -1;
        Py_XDECREF(name);
        Py_XDECREF(value);
        if (failed != 0) {
          Py_DECREF(out);
          return nullptr;
        }
      }
      return out;
    }
  }
  PyErr_SetString(PyExc_SystemError, "unknown simdjson element type");
  return nullptr;
}

}  // namespace

JsonLoader::JsonLoader() {
  if (thread_parser_claimed) {
    own_ = std::make_unique<simdjson::dom::parser>();
    parser_ = own_.get();
  } else {
    thread_parser_claimed = true;
    parser_ = &thread_parser;
  }
}

JsonLoader::~JsonLoader() {
  if (!own_) thread_parser_claimed = false;
}

void JsonLoader::Parse(std::string bytes) {
  bytes_ = std::move(bytes);
  error_ = parser_->parse(bytes_.data(), bytes_.size()).get(root_);
}

py::object JsonLoader::Build(std::string_view key, const JsonCodec& codec) {
  if (!error_) {
    PyObject* out = python::Build(root_, 0);
    if (out != nullptr) return py::reinterpret_steal<py::object>(out);
    if (PyErr_Occurred()) throw py::error_already_set();
  }
  auto json = [&] {
    py::gil_scoped_release release;
    return codec.Decode(key, std::move(bytes_));
  }();
  return JsonToPython(Check(std::move(json)));
}

}  // namespace backends::python

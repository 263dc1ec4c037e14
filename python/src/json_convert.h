#pragma once

// JSON values <-> Python objects, converted in one place, straight from and
// to the parsed document (no detour through text and json.loads).
//
// Python -> JSON follows json.dumps: dict (keys str, int, float, bool or
// None, converted to text as json does), list and tuple, str, int (up to 64
// bits), float, bool, None. Both directions are bounded by kMaxJsonDepth
// levels, so neither a deep nor a self-referencing value can overflow the
// stack. REQUIRES for every function here: the GIL is held.

#include <pybind11/pybind11.h>

#include <string_view>

#include "backends/json.h"

namespace backends::python {

/// Raises TypeError for a value json.dumps would refuse, and
/// InvalidArgumentError (a ValueError) naming `operation` and `key` for one
/// nested deeper than kMaxJsonDepth or an int beyond 64 bits.
Json PythonToJson(pybind11::handle value, std::string_view operation,
                  std::string_view key);

/// Raises DataLossError for a value nested deeper than kMaxJsonDepth (which
/// ParseJson never returns).
pybind11::object JsonToPython(const Json& value);

/// A new reference to the str of valid UTF-8 `text`, or nullptr with a
/// Python error set. KeyObject is for dict keys (which repeat).
PyObject* TextObject(std::string_view text);
PyObject* KeyObject(std::string_view text);

}  // namespace backends::python

#pragma once

// C++ Status -> Python exception: one class per ErrorCode, defined in
// backends/errors.py (so the classes and their docstrings live in Python).

#include <pybind11/pybind11.h>

#include <utility>

#include "backends/status.h"

namespace backends::python {

/// Looks the classes up in backends.errors. Called once, at import.
void InitErrors();

/// Raises the exception class of `status.code()` with the C++ message.
/// REQUIRES: the GIL is held and `status` is not OK.
[[noreturn]] void Raise(const Status& status);

inline void Check(const Status& status) {
  if (!status.ok()) Raise(status);
}

template <typename T>
T Check(Result<T> result) {
  if (!result.ok()) Raise(result.status());
  return std::move(result).value();
}

}  // namespace backends::python

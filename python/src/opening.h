#pragma once

// Helpers for the classes' constructors: opening C++ stores without the GIL
// and reading Python option values.

#include <pybind11/pybind11.h>

#include <chrono>
#include <memory>
#include <utility>

#include "backends/backend.h"
#include "errors.h"

namespace backends::python {

namespace py = pybind11;

/// Runs `open` (returning a Result of a unique_ptr to a Backend) with the
/// GIL released; raises its error, else returns the store as a shared_ptr.
template <typename F>
std::shared_ptr<Backend> OpenWithoutGil(F&& open) {
  auto opened = [&] {
    py::gil_scoped_release release;
    return open();
  }();
  return std::shared_ptr<Backend>(Check(std::move(opened)));
}

/// Seconds from an int or float (truncated); math.inf means never.
std::chrono::seconds ToSeconds(py::handle value);

}  // namespace backends::python

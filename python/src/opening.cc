#include "opening.h"

#include <cmath>

#include "backends/cache.h"

namespace backends::python {

std::chrono::seconds ToSeconds(py::handle value) {
  if (PyFloat_Check(value.ptr())) {
    double seconds = value.cast<double>();
    if (std::isnan(seconds)) throw py::value_error("a timeout cannot be NaN");
    if (seconds >= 9.2e18) return kNeverExpires;
    if (seconds <= -9.2e18) return std::chrono::seconds::min();
    return std::chrono::seconds(static_cast<std::int64_t>(seconds));
  }
  return std::chrono::seconds(value.cast<std::int64_t>());
}

}  // namespace backends::python

#pragma once

// One function per group of Python classes; module.cc calls them in order
// (a base class is bound before its subclasses).

#include <pybind11/pybind11.h>

namespace backends::python {

void BindLocalStores(pybind11::module_& m);
void BindCaches(pybind11::module_& m);
void BindS3(pybind11::module_& m);
void BindRedis(pybind11::module_& m);
void BindOpen(pybind11::module_& m);

}  // namespace backends::python

// backends._backends: the extension module behind the `backends` package.

#include <pthread.h>
#include <pybind11/pybind11.h>

#include <mutex>
#include <string>

#include "backends/version.h"
#include "bind.h"
#include "errors.h"
#include "store.h"

namespace {

void RegisterForkHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_atfork(nullptr, nullptr,
                   [] { backends::python::Store::AfterForkInChild(); });
  });
}

}  // namespace

PYBIND11_MODULE(_backends, m) {
  m.doc() = "The C++ stores behind the backends package. Import backends.";
  // The library's version: CMake's project version, the one source.
  m.attr("__version__") = std::string(backends::Version());
  backends::python::InitErrors();
  backends::python::BindStore(m);
  backends::python::BindLocalStores(m);
  backends::python::BindCaches(m);
  backends::python::BindS3(m);
  backends::python::BindRedis(m);
  backends::python::BindOpen(m);
  RegisterForkHandlers();
}

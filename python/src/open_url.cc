// backends._open: the typed store a URL names (backends.open() in Python
// splits off the format=, cache= and timeout= parameters first).

#include "backends/open.h"
#include "bind.h"
#include "classes.h"
#include "opening.h"

namespace backends::python {
namespace {

template <typename Family>
py::object MakeKinded(ValueKind kind, std::shared_ptr<Backend> once,
                      Opener reopen) {
  auto make = [&](auto tag) -> py::object {
    using Class = Kinded<Family, decltype(tag)::value>;
    if (once) return py::cast(std::make_unique<Class>(kind, std::move(once)));
    return py::cast(std::make_unique<Class>(kind, std::move(reopen)));
  };
  switch (kind) {
    case ValueKind::kRaw:
      return make(std::integral_constant<ValueKind, ValueKind::kRaw>());
    case ValueKind::kText:
      return make(std::integral_constant<ValueKind, ValueKind::kText>());
    case ValueKind::kJson:
      break;
  }
  return make(std::integral_constant<ValueKind, ValueKind::kJson>());
}

py::object OpenUrl(const std::string& url, const std::string& format,
                   const std::string& cache, py::handle timeout) {
  std::string scheme = Check(Url::Parse(url)).scheme;
  // A memory store is made once: its values live in this process, so a
  // forked child keeps them rather than reopening an empty one.
  bool in_memory = scheme == "memory";
  ByteOpener bytes = UrlOpener(url);
  if (!cache.empty()) {
    ExpiryOptions options{.timeout = ToSeconds(timeout),
                          .track_write_times = in_memory};
    bool json = cache == "json";
    ByteOpener layered = json ? JsonCacheOpener(bytes, options)
                              : TextCacheOpener(bytes, options);
    if (json) {
      if (in_memory) {
        return py::cast(std::make_unique<JsonCacheStore>(ValueKind::kJson,
                                                         OpenOnce(layered)));
      }
      return py::cast(std::make_unique<JsonCacheStore>(ValueKind::kJson,
                                                       Reopenable(layered)));
    }
    if (in_memory) {
      return py::cast(std::make_unique<TextCacheStore>(ValueKind::kText,
                                                       OpenOnce(layered)));
    }
    return py::cast(std::make_unique<TextCacheStore>(ValueKind::kText,
                                                     Reopenable(layered)));
  }
  ValueKind kind = format == "json"   ? ValueKind::kJson
                   : format == "text" ? ValueKind::kText
                                      : ValueKind::kRaw;
  if (in_memory) return MakeKinded<MemoryStore>(kind, OpenOnce(bytes), {});
  if (scheme == "file")
    return MakeKinded<FileStore>(kind, {}, Reopenable(bytes));
  if (scheme == "s3") return MakeKinded<S3Store>(kind, {}, Reopenable(bytes));
  if (scheme == "sqlite") {
    return MakeKinded<SqliteStore>(kind, {}, Reopenable(bytes));
  }
  // An unknown scheme: OpenBackend's own error.
  OpenOnce(bytes);
  Raise(InternalError("OpenBackend accepted an unknown scheme " + scheme));
}

}  // namespace

void BindOpen(py::module_& m) {
  m.def("_open", &OpenUrl, py::arg("url"), py::arg("format"), py::arg("cache"),
        py::arg("timeout"),
        "The store `url` names, typed by format (raw, text, json) or "
        "wrapped in a cache (json, text) with the default timeout. Use "
        "backends.open().");
}

}  // namespace backends::python

// backends._open: the typed store a URL names, read by the library's
// StoreUrl / OpenStore (open.h), as C++ and the tool read it.

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

py::object OpenUrl(const std::string& url) {
  // The library's URL language: format=, cache=, timeout= as in C++ and
  // the tool.
  StoreUrl parsed = Check(StoreUrl::Parse(url));
  // A redis URL may hold a password, which Url::Parse's errors could
  // repeat: its scheme is read by hand.
  const std::string& store = parsed.store_url;
  bool redis = store.starts_with("redis://") ||
               store.starts_with("rediss://") ||
               store.starts_with("redis+unix://");
  std::string scheme = redis ? "redis" : Check(Url::Parse(store)).scheme;
  // A memory store is made once: its values live in this process, so a
  // forked child keeps them rather than reopening an empty one.
  bool in_memory = scheme == "memory";
  ByteOpener layered = [parsed]() -> Result<std::unique_ptr<Backend>> {
    BACKENDS_ASSIGN_OR_RETURN(OpenedStore opened, OpenStore(parsed));
    return std::move(opened.backend);
  };
  if (parsed.cache == CacheKind::kJson) {
    if (in_memory) {
      return py::cast(std::make_unique<JsonCacheStore>(ValueKind::kJson,
                                                       OpenOnce(layered)));
    }
    return py::cast(std::make_unique<JsonCacheStore>(ValueKind::kJson,
                                                     Reopenable(layered)));
  }
  if (parsed.cache == CacheKind::kText) {
    if (in_memory) {
      return py::cast(std::make_unique<TextCacheStore>(ValueKind::kText,
                                                       OpenOnce(layered)));
    }
    return py::cast(std::make_unique<TextCacheStore>(ValueKind::kText,
                                                     Reopenable(layered)));
  }
  ValueKind kind = parsed.format == ValueFormat::kJson   ? ValueKind::kJson
                   : parsed.format == ValueFormat::kText ? ValueKind::kText
                                                         : ValueKind::kRaw;
  py::object made;
  if (in_memory) {
    made = MakeKinded<MemoryStore>(kind, OpenOnce(layered), {});
  } else if (scheme == "file") {
    made = MakeKinded<FileStore>(kind, {}, Reopenable(layered));
  } else if (scheme == "s3") {
    made = MakeKinded<S3Store>(kind, {}, Reopenable(layered));
  } else if (redis) {
    made = MakeKinded<RedisStore>(kind, {}, Reopenable(layered));
  } else if (scheme == "sqlite") {
    made = MakeKinded<SqliteStore>(kind, {}, Reopenable(layered));
  } else {
    // An unknown scheme: OpenStore's own error.
    OpenOnce(layered);
    Raise(InternalError("OpenStore accepted the unknown scheme " + scheme));
  }
  made.cast<Store&>().SetJsonFormat(parsed.json_format);
  return made;
}

}  // namespace

void BindOpen(py::module_& m) {
  m.def("_open", &OpenUrl, py::arg("url"),
        "The store `url` names, as backends::OpenStore reads it: typed by "
        "format= (raw, text, json) or wrapped in a cache (cache=json|text, "
        "timeout=N). Use backends.open().");
}

}  // namespace backends::python

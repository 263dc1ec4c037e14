// The original's in-memory and filesystem classes.

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>

#include "backends/memory.h"
#include "backends/open.h"
#if BACKENDS_WITH_SQLITE
#include "backends/sqlite.h"
#endif
#include "bind.h"
#include "classes.h"
#include "opening.h"

namespace backends::python {

Opener Reopenable(ByteOpener open) {
  return [open = std::move(open)] { return OpenWithoutGil(open); };
}

std::shared_ptr<Backend> OpenOnce(const ByteOpener& open) {
  return OpenWithoutGil(open);
}

ByteOpener FileOpener(std::filesystem::path root, FileOptions options) {
  return
      [root = std::move(root), options]() -> Result<std::unique_ptr<Backend>> {
        BACKENDS_ASSIGN_OR_RETURN(auto file, FileBackend::Open(root, options));
        return std::unique_ptr<Backend>(std::move(file));
      };
}

ByteOpener UrlOpener(std::string url) {
  return [url = std::move(url)] { return OpenBackend(url); };
}

ByteOpener SqliteOpener(std::filesystem::path path, std::string table,
                        bool durable) {
  return [path = std::move(path), table = std::move(table),
          durable]() -> Result<std::unique_ptr<Backend>> {
#if BACKENDS_WITH_SQLITE
    BACKENDS_ASSIGN_OR_RETURN(
        auto store,
        NewSqliteBackend(path, {.table = table, .durable = durable}));
    return std::unique_ptr<Backend>(std::move(store));
#else
    return UnimplementedError("sqlite " + path.string() +
                              ": built without SQLite");
#endif
  };
}

std::string FileStore::path(const std::string& key) {
  return Check(static_cast<FileBackend&>(*Acquire()).path(key)).string();
}

std::string FileStore::root() {
  return static_cast<FileBackend&>(*Acquire()).root().string();
}

namespace {

template <ValueKind kKind>
void BindMemory(py::module_& m, const char* name, const char* doc) {
  using Class = Kinded<MemoryStore, kKind>;
  py::class_<Class, MemoryStore>(m, name, doc).def(py::init([] {
    return std::make_unique<Class>(kKind, std::make_shared<VolatileBackend>());
  }));
}

template <ValueKind kKind>
void BindFile(py::module_& m, const char* name, const char* doc) {
  using Class = Kinded<FileStore, kKind>;
  py::class_<Class, FileStore>(m, name, doc)
      .def(py::init([](std::filesystem::path root, bool durable) {
             return std::make_unique<Class>(
                 kKind,
                 Reopenable(FileOpener(std::move(root), {.durable = durable})));
           }),
           py::arg("path"), py::kw_only(), py::arg("durable") = false);
}

template <ValueKind kKind>
void BindSqlite(py::module_& m, const char* name, const char* doc) {
  using Class = Kinded<SqliteStore, kKind>;
  py::class_<Class, SqliteStore>(m, name, doc)
      .def(py::init([](std::filesystem::path path, std::string table,
                       bool durable) {
             return std::make_unique<Class>(
                 kKind, Reopenable(SqliteOpener(std::move(path),
                                                std::move(table), durable)));
           }),
           py::arg("path"), py::kw_only(), py::arg("table") = "backends",
           py::arg("durable") = false);
}

}  // namespace

void BindLocalStores(py::module_& m) {
  py::class_<MemoryStore, Store>(m, "MemoryBackend",
                                 "Base of the in-memory classes.");
  BindMemory<ValueKind::kJson>(m, "VolatileBackend", R"doc(
VolatileBackend(): JSON values in this process's memory (the original's
class). Values are dict, list, str, int, float, bool or None, kept as the
original's JSON text; they vanish with the object. url() is "memory://".
)doc");
  BindMemory<ValueKind::kText>(m, "VolatileTextBackend",
                               "VolatileTextBackend(): str values in memory.");
  BindMemory<ValueKind::kRaw>(m, "VolatileRawBackend",
                              "VolatileRawBackend(): bytes values in memory.");

  py::class_<FileStore, Store>(m, "FileSystemBackend", R"doc(
A store in a folder (base of the FileSystem*Backend classes): the value of
key K is the file ROOT/K, "/" in a key makes sub-folders, no extension is
added. Keys that would leave the folder ("..", absolute) are refused with
InvalidArgumentError. Writes are atomic (temporary file + rename); with
durable=True they are also fsynced. Safe for many threads and processes.
)doc")
      .def("path", &FileStore::path, py::arg("key"),
           "The file that holds (or would hold) key. Does not touch the disk.")
      .def_property_readonly("root", &FileStore::root,
                             "The absolute root folder.");
  BindFile<ValueKind::kJson>(m, "FileSystemJsonBackend", R"doc(
FileSystemJsonBackend(path, *, durable=False): JSON values in a folder,
written as the original does (keys sorted, indent 4, non-ASCII as \uXXXX, no
trailing newline); any valid JSON loads. The folder is created if needed.
)doc");
  BindFile<ValueKind::kText>(m, "FileSystemTextBackend", R"doc(
FileSystemTextBackend(path, *, durable=False): str values in a folder, one
UTF-8 file per key. Stored bytes that are not UTF-8 raise DataLossError.
)doc");
  BindFile<ValueKind::kRaw>(m, "FileSystemRawBackend", R"doc(
FileSystemRawBackend(path, *, durable=False): bytes values in a folder.
)doc");

  py::class_<SqliteStore, Store>(m, "SqliteBackend", R"doc(
A table of a SQLite database file (base of the Sqlite*Backend classes; URL
sqlite:///abs/app.db?table=NAME). Schema in docs/backends/sqlite.md. Safe
for many threads and processes; WAL; durable=True also survives power loss.
)doc");
  BindSqlite<ValueKind::kJson>(m, "SqliteJsonBackend", R"doc(
SqliteJsonBackend(path, *, table="backends", durable=False): JSON values in
a table of the database file `path` (created if needed).
)doc");
  BindSqlite<ValueKind::kText>(m, "SqliteTextBackend", R"doc(
SqliteTextBackend(path, *, table="backends", durable=False): str values.
)doc");
  BindSqlite<ValueKind::kRaw>(m, "SqliteRawBackend", R"doc(
SqliteRawBackend(path, *, table="backends", durable=False): bytes values.
)doc");
}

}  // namespace backends::python

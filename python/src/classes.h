#pragma once

// The Store subclasses behind the Python classes. Each family adds its
// extras; Kinded<Family, kind> gives one Python class per kind of value
// (FileSystemJsonBackend is Kinded<FileStore, kJson>, ...).

#include <pybind11/pybind11.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "backends/backend.h"
#include "backends/cache.h"
#include "backends/file.h"
#include "backends/s3.h"
#include "store.h"

namespace backends::python {

/// Opens a byte store; runs without the GIL.
using ByteOpener = std::function<Result<std::unique_ptr<Backend>>()>;

/// An Opener (GIL held on entry) that runs `open` without the GIL.
Opener Reopenable(ByteOpener open);
/// Opens the store now (without the GIL); raises its error.
std::shared_ptr<Backend> OpenOnce(const ByteOpener& open);

template <typename Family, ValueKind kKind>
class Kinded final : public Family {
 public:
  using Family::Family;
};

class MemoryStore : public Store {
 public:
  using Store::Store;
};

class FileStore : public Store {
 public:
  using Store::Store;
  std::string path(const std::string& key);
  std::string root();
};

/// A table of a SQLite database (sqlite.h).
class SqliteStore : public Store {
 public:
  using Store::Store;
};

class CacheStore : public Store {
 public:
  using Store::Store;
  std::size_t prune();
  pybind11::dict stats();
  bool set(const std::string& key, pybind11::handle value,
           pybind11::handle timeout);
};

class JsonCacheStore final : public CacheStore {
 public:
  using CacheStore::CacheStore;
  bool set_json(const std::string& key, pybind11::handle value,
                pybind11::handle timeout);

 protected:
  pybind11::object LoadJsonObject(const std::string& key) override;
  Status DumpJson(Backend& backend, std::string_view key,
                  const Json& value) override;
};

class TextCacheStore final : public CacheStore {
 public:
  using CacheStore::CacheStore;
};

class ReadThroughStore final : public Store {
 public:
  using Store::Store;
  pybind11::dict stats();
  bool invalidate(const std::string& key);
};

class S3Store : public Store {
 public:
  using Store::Store;

 protected:
  std::vector<Result<std::optional<std::string>>> LoadBatch(
      Backend& backend, std::span<const std::string> keys) override;
  std::vector<Status> DumpBatch(
      Backend& backend,
      std::span<const std::pair<std::string, std::string>> items) override;
};

/// The byte openers of the constructors.
ByteOpener FileOpener(std::filesystem::path root, FileOptions options);
ByteOpener UrlOpener(std::string url);
ByteOpener S3Opener(S3Options options);
/// A table of a SQLite database; raises UnimplementedError when the
/// library was built without SQLite.
ByteOpener SqliteOpener(std::filesystem::path path, std::string table,
                        bool durable);

/// Wraps the store `inner` opens in a JsonCache / TextCache layer (on a
/// SQLite table: the SQLite cache layers, expiry in the row).
ByteOpener JsonCacheOpener(ByteOpener inner, ExpiryOptions options);
ByteOpener TextCacheOpener(ByteOpener inner, ExpiryOptions options);

/// CacheStats as a dict.
pybind11::dict StatsDict(const CacheStats& stats);

}  // namespace backends::python

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
#include <optional>
#include <string>

#include "backends/backend.h"
#include "backends/cache.h"
#include "backends/file.h"
#include "backends/s3.h"
#if BACKENDS_WITH_REDIS
#include "backends/redis.h"
#endif
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

/// A store whose backend (of type Batched, unless a layer wraps it) sends
/// batches its own way: S3's parallel requests, Redis's pipelines.
template <typename Batched>
class BatchingStore : public Store {
 public:
  using Store::Store;

 protected:
  std::vector<Result<std::optional<std::string>>> LoadBatch(
      Backend& backend, std::span<const std::string> keys) override {
    if (auto* batched = dynamic_cast<Batched*>(&backend)) {
      return batched->load_many(keys);
    }
    return Store::LoadBatch(backend, keys);
  }
  std::vector<Status> DumpBatch(
      Backend& backend,
      std::span<const std::pair<std::string, std::string>> items) override {
    if (auto* batched = dynamic_cast<Batched*>(&backend)) {
      return batched->dump_many(items);
    }
    return Store::DumpBatch(backend, items);
  }
};

class S3Store : public BatchingStore<S3Backend> {
 public:
  using BatchingStore::BatchingStore;
};

/// A Redis database or cluster (redis.h).
#if BACKENDS_WITH_REDIS
class RedisStore : public BatchingStore<RedisBackend> {
 public:
  using BatchingStore::BatchingStore;
};
#else
class RedisStore : public Store {
 public:
  using Store::Store;
};
#endif

/// The byte openers of the constructors.
ByteOpener FileOpener(std::filesystem::path root, FileOptions options);
ByteOpener UrlOpener(std::string url);
ByteOpener S3Opener(S3Options options);
/// A table of a SQLite database; raises UnimplementedError when the
/// library was built without SQLite.
ByteOpener SqliteOpener(std::filesystem::path path, std::string table,
                        bool durable);

/// The store a redis:// URL names; `prefix` replaces the URL's. Raises
/// UnimplementedError when the library was built without Redis.
ByteOpener RedisOpener(std::string url, std::optional<std::string> prefix);

/// Wraps the store `inner` opens in a JsonCache / TextCache layer (on a
/// SQLite table: the SQLite cache layers, expiry in the row; on Redis:
/// the Redis caches, expiry kept by Redis).
ByteOpener JsonCacheOpener(ByteOpener inner, ExpiryOptions options);
ByteOpener TextCacheOpener(ByteOpener inner, ExpiryOptions options);

/// CacheStats as a dict.
pybind11::dict StatsDict(const CacheStats& stats);

}  // namespace backends::python

// The original's JsonCache and TextCache, and the read-through layer.

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <optional>

#include "backends/memory.h"
#if BACKENDS_WITH_REDIS
#include "backends/redis.h"
#endif
#if BACKENDS_WITH_SQLITE
#include "backends/sqlite_cache.h"
#endif
#include "bind.h"
#include "classes.h"
#include "json_convert.h"
#include "opening.h"

namespace backends::python {
namespace {

// A store that shares another Store's backend, so the read-through layer
// (which owns its front and back) can sit on stores Python also holds.
class SharedRef final : public Backend {
 public:
  explicit SharedRef(std::shared_ptr<Backend> inner)
      : inner_(std::move(inner)) {}
  Result<std::optional<std::string>> load(std::string_view key) override {
    return inner_->load(key);
  }
  Status dump(std::string_view key, std::string_view value) override {
    return inner_->dump(key, value);
  }
  Status dump_stream(std::string_view key, ByteSource& source) override {
    return inner_->dump_stream(key, source);
  }
  Result<bool> load_stream(std::string_view key, ByteSink& sink) override {
    return inner_->load_stream(key, sink);
  }
  Result<bool> remove(std::string_view key) override {
    return inner_->remove(key);
  }
  Result<bool> remove_if(std::string_view key,
                         const RemovalCheck& should_remove) override {
    return inner_->remove_if(key, should_remove);
  }
  Result<std::vector<std::string>> list(std::string_view prefix) override {
    return inner_->list(prefix);
  }
  Result<std::optional<KeyInfo>> stat(std::string_view key) override {
    return inner_->stat(key);
  }
  Result<bool> contains(std::string_view key) override {
    return inner_->contains(key);
  }
  Result<std::size_t> size() override { return inner_->size(); }
  Result<std::vector<Entry>> items() override { return inner_->items(); }
  Status clear() override { return inner_->clear(); }
  std::string url() const override { return inner_->url(); }

 private:
  std::shared_ptr<Backend> inner_;
};

ExpiryOptions CacheOptionsOf(py::handle timeout, std::uint64_t max_entries,
                             std::uint64_t max_bytes,
                             std::uint64_t decoded_bytes) {
  return ExpiryOptions{
      .timeout = timeout.is_none() ? kDefaultTimeout : ToSeconds(timeout),
      .limits = {.max_entries = max_entries, .max_bytes = max_bytes},
      .decoded_bytes = decoded_bytes};
}

#if BACKENDS_WITH_SQLITE
// `store` as a SQLite table (taken from it), or null when it is not one.
std::unique_ptr<SqliteBackend> AsSqlite(std::unique_ptr<Backend>& store) {
  if (dynamic_cast<SqliteBackend*>(store.get()) == nullptr) return nullptr;
  return std::unique_ptr<SqliteBackend>(
      static_cast<SqliteBackend*>(store.release()));
}
#endif

#if BACKENDS_WITH_REDIS
// `store` as a Redis store (taken from it), or null when it is not one.
std::unique_ptr<RedisBackend> AsRedis(std::unique_ptr<Backend>& store) {
  if (dynamic_cast<RedisBackend*>(store.get()) == nullptr) return nullptr;
  return std::unique_ptr<RedisBackend>(
      static_cast<RedisBackend*>(store.release()));
}
#endif

ByteOpener MemoryOpener() {
  return []() -> Result<std::unique_ptr<Backend>> {
    return std::unique_ptr<Backend>(std::make_unique<VolatileBackend>());
  };
}

template <typename Class>
std::unique_ptr<Class> MakeCache(
    ValueKind kind, const std::optional<std::filesystem::path>& path,
    bool durable, ExpiryOptions options,
    ByteOpener (*layer)(ByteOpener, ExpiryOptions)) {
  if (!path) {
    // In memory: nothing to reopen after a fork (the entries live here).
    options.track_write_times = true;
    return std::make_unique<Class>(kind,
                                   OpenOnce(layer(MemoryOpener(), options)));
  }
  return std::make_unique<Class>(
      kind,
      Reopenable(layer(FileOpener(*path, {.durable = durable}), options)));
}

}  // namespace

ByteOpener JsonCacheOpener(ByteOpener inner, ExpiryOptions options) {
  return [inner = std::move(inner),
          options]() -> Result<std::unique_ptr<Backend>> {
    BACKENDS_ASSIGN_OR_RETURN(auto store, inner());
#if BACKENDS_WITH_SQLITE
    if (auto table = AsSqlite(store)) {
      BACKENDS_ASSIGN_OR_RETURN(
          auto cache, NewSqliteJsonCacheBackend(std::move(table), options));
      return std::unique_ptr<Backend>(std::move(cache));
    }
#endif
#if BACKENDS_WITH_REDIS
    if (auto redis = AsRedis(store)) {
      BACKENDS_ASSIGN_OR_RETURN(auto cache,
                                NewRedisJsonCache(std::move(redis), options));
      return std::unique_ptr<Backend>(std::move(cache));
    }
#endif
    BACKENDS_ASSIGN_OR_RETURN(
        auto cache, NewJsonEnvelopeBackend(std::move(store), options));
    return std::unique_ptr<Backend>(std::move(cache));
  };
}

ByteOpener TextCacheOpener(ByteOpener inner, ExpiryOptions options) {
  return [inner = std::move(inner),
          options]() -> Result<std::unique_ptr<Backend>> {
    BACKENDS_ASSIGN_OR_RETURN(auto store, inner());
#if BACKENDS_WITH_SQLITE
    if (auto table = AsSqlite(store)) {
      BACKENDS_ASSIGN_OR_RETURN(
          auto cache, NewSqliteTextCacheBackend(std::move(table), options));
      return std::unique_ptr<Backend>(std::move(cache));
    }
#endif
#if BACKENDS_WITH_REDIS
    if (auto redis = AsRedis(store)) {
      BACKENDS_ASSIGN_OR_RETURN(auto cache,
                                NewRedisTextCache(std::move(redis), options));
      return std::unique_ptr<Backend>(std::move(cache));
    }
#endif
    BACKENDS_ASSIGN_OR_RETURN(
        auto cache, NewModifiedTimeBackend(std::move(store), options));
    return std::unique_ptr<Backend>(std::move(cache));
  };
}

py::dict StatsDict(const CacheStats& stats) {
  py::dict out;
  out["hits"] = stats.hits;
  out["misses"] = stats.misses;
  out["expirations"] = stats.expirations;
  out["evictions"] = stats.evictions;
  out["stale_served"] = stats.stale_served;
  out["decoded_hits"] = stats.decoded_hits;
  return out;
}

std::size_t CacheStore::prune() {
  return Check(Run([](Backend& backend) {
    return static_cast<ExpiringBackend&>(backend).prune();
  }));
}

py::dict CacheStore::stats() {
  auto backend = Acquire();
  return StatsDict(static_cast<ExpiringBackend&>(*backend).stats());
}

bool CacheStore::set(const std::string& key, py::handle value,
                     py::handle timeout) {
  if (!timeout.is_none()) {
    Check(UnimplementedError(
        "set " + QuoteKey(key) +
        ": a TextCache entry expires by its file's age; it takes no "
        "per-entry timeout"));
  }
  return dump(key, value);
}

bool JsonCacheStore::set_json(const std::string& key, py::handle value,
                              py::handle timeout) {
  if (timeout.is_none()) return dump(key, value);
  std::chrono::seconds seconds = ToSeconds(timeout);
  Json json = PythonToJson(value, "dump", key);
  Check(Run([&](Backend& backend) {
    return static_cast<JsonEnvelopeBackend&>(backend).dump_json(key, json,
                                                                seconds);
  }));
  return true;
}

py::object JsonCacheStore::LoadJsonObject(const std::string& key) {
  // Shares the cache's decoded copy: no copy of the tree.
  auto json = Check(Run([&](Backend& backend) {
    return static_cast<JsonEnvelopeBackend&>(backend).load_json_shared(key);
  }));
  return json ? JsonToPython(*json) : py::none();
}

Status JsonCacheStore::DumpJson(Backend& backend, std::string_view key,
                                const Json& value) {
  auto& envelope = static_cast<JsonEnvelopeBackend&>(backend);
  return envelope.dump_json(key, value, envelope.timeout());
}

py::dict ReadThroughStore::stats() {
  auto backend = Acquire();
  return StatsDict(static_cast<ReadThroughBackend&>(*backend).stats());
}

bool ReadThroughStore::invalidate(const std::string& key) {
  return Check(Run([&](Backend& backend) {
    return static_cast<ReadThroughBackend&>(backend).invalidate(key);
  }));
}

void BindCaches(py::module_& m) {
  py::class_<CacheStore, Store>(m, "Cache", R"doc(
Base of JsonCache and TextCache: a store whose entries expire. Every access
checks expiry: an expired entry is removed and reported missing; keys(),
len() and iteration show live entries only. Nothing is kept in the process
that could outlive an entry's expiry or survive clear().
)doc")
      .def("prune", &CacheStore::prune,
           "Removes every expired entry; returns how many.")
      .def("stats", &CacheStore::stats,
           "Counters since the cache was made: hits, misses, expirations, "
           "evictions, stale_served, decoded_hits.");

  py::class_<JsonCacheStore, CacheStore>(m, "JsonCache", R"doc(
JsonCache(path=None, timeout=300, *, max_entries=0, max_bytes=0,
durable=False, decoded_bytes=4 MiB): the original's JSON cache, in the folder
`path` or, without one, in memory. Each entry is stored in the original's
envelope {"content": value, "expiration": "YYYY-MM-DDTHH:MM:SS"} (UTC) in
its JSON format, so folders are shared with the original both ways. An
entry lives `timeout` seconds (0: already expired; math.inf: forever).
With max_entries / max_bytes the least recently used entries are evicted.
In a folder, decoded copies of entries read (up to decoded_bytes of stored
bytes) are served again after a stat shows the file unchanged.
)doc")
      .def(py::init([](std::optional<std::filesystem::path> path,
                       py::object timeout, std::uint64_t max_entries,
                       std::uint64_t max_bytes, bool durable,
                       std::uint64_t decoded_bytes) {
             return MakeCache<JsonCacheStore>(
                 ValueKind::kJson, path, durable,
                 CacheOptionsOf(timeout, max_entries, max_bytes, decoded_bytes),
                 &JsonCacheOpener);
           }),
           py::arg("path") = py::none(), py::arg("timeout") = 300,
           py::kw_only(), py::arg("max_entries") = 0, py::arg("max_bytes") = 0,
           py::arg("durable") = false,
           py::arg("decoded_bytes") = kDefaultDecodedBytes)
      .def_static(
          "sqlite",
          [](std::filesystem::path path, py::object timeout, std::string table,
             std::uint64_t max_entries, std::uint64_t max_bytes, bool durable,
             std::uint64_t decoded_bytes) {
            return std::make_unique<JsonCacheStore>(
                ValueKind::kJson,
                Reopenable(JsonCacheOpener(
                    SqliteOpener(std::move(path), std::move(table), durable),
                    CacheOptionsOf(timeout, max_entries, max_bytes,
                                   decoded_bytes))));
          },
          py::arg("path"), py::arg("timeout") = 300, py::kw_only(),
          py::arg("table") = "backends", py::arg("max_entries") = 0,
          py::arg("max_bytes") = 0, py::arg("durable") = false,
          py::arg("decoded_bytes") = kDefaultDecodedBytes,
          "JsonCache.sqlite(path, timeout=300, *, table='backends', ...): the "
          "cache in a table of the SQLite database `path`; each row keeps its "
          "expiry (docs/backends/sqlite.md), limits are the table's.")
      .def_static(
          "redis",
          [](const std::string& url, py::object timeout,
             std::optional<std::string> prefix) {
            return std::make_unique<JsonCacheStore>(
                ValueKind::kJson,
                Reopenable(JsonCacheOpener(RedisOpener(url, std::move(prefix)),
                                           CacheOptionsOf(timeout, 0, 0, 0))));
          },
          py::arg("url"), py::arg("timeout") = 300, py::kw_only(),
          py::arg("prefix") = py::none(),
          "JsonCache.redis(url, timeout=300, *, prefix=None): the cache in "
          "Redis (a redis:// URL, as RedisJsonBackend takes), each entry "
          "expired by Redis itself (SET ... PX), for every reader; prune() "
          "has nothing to do. Values are JSON text, readable by redis-cli.")
      .def("set", &JsonCacheStore::set_json, py::arg("key"), py::arg("value"),
           py::arg("timeout") = py::none(),
           "Stores value for timeout seconds (None: the cache's default). "
           "Returns True.")
      .def("dump", &JsonCacheStore::set_json, py::arg("key"), py::arg("value"),
           py::arg("timeout") = py::none(), "As set().");

  py::class_<TextCacheStore, CacheStore>(m, "TextCache", R"doc(
TextCache(path=None, timeout=300, *, max_entries=0, max_bytes=0,
durable=False): the original's text cache, in the folder `path` or in
memory. Values are str stored as UTF-8, unchanged; an entry expires
`timeout` seconds after its file's modification time (in memory: its write).
There is no per-entry timeout.
)doc")
      .def(py::init([](std::optional<std::filesystem::path> path,
                       py::object timeout, std::uint64_t max_entries,
                       std::uint64_t max_bytes, bool durable) {
             return MakeCache<TextCacheStore>(
                 ValueKind::kText, path, durable,
                 CacheOptionsOf(timeout, max_entries, max_bytes, 0),
                 &TextCacheOpener);
           }),
           py::arg("path") = py::none(), py::arg("timeout") = 300,
           py::kw_only(), py::arg("max_entries") = 0, py::arg("max_bytes") = 0,
           py::arg("durable") = false)
      .def_static(
          "sqlite",
          [](std::filesystem::path path, py::object timeout, std::string table,
             std::uint64_t max_entries, std::uint64_t max_bytes, bool durable) {
            return std::make_unique<TextCacheStore>(
                ValueKind::kText,
                Reopenable(TextCacheOpener(
                    SqliteOpener(std::move(path), std::move(table), durable),
                    CacheOptionsOf(timeout, max_entries, max_bytes, 0))));
          },
          py::arg("path"), py::arg("timeout") = 300, py::kw_only(),
          py::arg("table") = "backends", py::arg("max_entries") = 0,
          py::arg("max_bytes") = 0, py::arg("durable") = false,
          "TextCache.sqlite(path, timeout=300, *, table='backends', ...): the "
          "cache in a table of the SQLite database `path`; an entry expires "
          "timeout seconds after its write (kept in its row).")
      .def_static(
          "redis",
          [](const std::string& url, py::object timeout,
             std::optional<std::string> prefix) {
            return std::make_unique<TextCacheStore>(
                ValueKind::kText,
                Reopenable(TextCacheOpener(RedisOpener(url, std::move(prefix)),
                                           CacheOptionsOf(timeout, 0, 0, 0))));
          },
          py::arg("url"), py::arg("timeout") = 300, py::kw_only(),
          py::arg("prefix") = py::none(),
          "TextCache.redis(url, timeout=300, *, prefix=None): the cache in "
          "Redis; each entry is expired by Redis timeout seconds after its "
          "write.")
      .def("set", &CacheStore::set, py::arg("key"), py::arg("value"),
           py::arg("timeout") = py::none(),
           "Stores value. Returns True. A timeout other than None raises "
           "UnimplementedError (entries expire by file age).");

  py::class_<ReadThroughStore, Store>(m, "ReadThroughBackend", R"doc(
ReadThroughBackend(front, back, *, max_age=None, serve_stale=False,
max_entries=0, max_bytes=0): a fast store (memory, a folder, a cache) in
front of a slow one. load returns a fresh front copy without touching the
back, else loads from the back and copies into the front; a back failure
raises (never "missing") unless serve_stale applies (the back unavailable
or timing out, and a stale copy in front). dump and delete go to the back
first, then update the front. keys(), len(), `in` and items() are the
back's. Values are of the back's kind. max_age: seconds a front copy counts
as fresh (None: until the front drops it).
)doc")
      .def(py::init([](py::object front, py::object back, py::object max_age,
                       bool serve_stale, std::uint64_t max_entries,
                       std::uint64_t max_bytes) {
             auto& back_store = back.cast<Store&>();
             front.cast<Store&>();  // A TypeError for anything else.
             ReadThroughOptions options{
                 .max_age =
                     max_age.is_none() ? kNeverExpires : ToSeconds(max_age),
                 .limits = {.max_entries = max_entries, .max_bytes = max_bytes},
                 .serve_stale = serve_stale};
             // Reopened in a forked child from the (reopened) front and back.
             Opener opener = [front, back, options] {
               auto front_ref =
                   std::make_unique<SharedRef>(front.cast<Store&>().Acquire());
               auto back_ref =
                   std::make_unique<SharedRef>(back.cast<Store&>().Acquire());
               return OpenWithoutGil([&] {
                 return NewReadThroughBackend(std::move(front_ref),
                                              std::move(back_ref), options);
               });
             };
             auto layer = std::make_unique<ReadThroughStore>(back_store.kind(),
                                                             std::move(opener));
             layer->AddPart(&front.cast<Store&>());
             layer->AddPart(&back_store);
             return layer;
           }),
           py::arg("front"), py::arg("back"), py::kw_only(),
           py::arg("max_age") = py::none(), py::arg("serve_stale") = false,
           py::arg("max_entries") = 0, py::arg("max_bytes") = 0)
      .def("stats", &ReadThroughStore::stats,
           "Counters: hits (fresh front copies), misses (loads from the "
           "back), expirations, evictions, stale_served.")
      .def("invalidate", &ReadThroughStore::invalidate, py::arg("key"),
           "Drops the front copy of key; returns whether there was one.");
}

}  // namespace backends::python

// The Redis classes (issue 15): RedisJsonBackend, RedisTextBackend,
// RedisRawBackend, and the caches JsonCache.redis / TextCache.redis, whose
// expiry Redis keeps.

#include <pybind11/stl.h>

#include <optional>

#include "bind.h"
#include "classes.h"
#include "opening.h"

namespace backends::python {
namespace {

template <ValueKind kKind>
void BindRedisClass(py::module_& m, const char* name, const char* doc) {
  using Class = Kinded<RedisStore, kKind>;
  py::class_<Class, RedisStore>(m, name, doc)
      .def(py::init(
               [](const std::string& url, std::optional<std::string> prefix) {
                 return std::make_unique<Class>(
                     kKind, Reopenable(RedisOpener(url, std::move(prefix))));
               }),
           py::arg("url") = "redis://127.0.0.1:6379", py::kw_only(),
           py::arg("prefix") = py::none());
}

}  // namespace

ByteOpener RedisOpener(std::string url, std::optional<std::string> prefix) {
  return [url = std::move(url),
          prefix = std::move(prefix)]() -> Result<std::unique_ptr<Backend>> {
#if BACKENDS_WITH_REDIS
    BACKENDS_ASSIGN_OR_RETURN(RedisOptions options, ParseRedisUrl(url));
    if (prefix) options.prefix = *prefix;
    BACKENDS_ASSIGN_OR_RETURN(auto store, NewRedisBackend(std::move(options)));
    return std::unique_ptr<Backend>(std::move(store));
#else
    (void)prefix;
    return UnimplementedError("redis: built without Redis");
#endif
  };
}

void BindRedis(py::module_& m) {
  py::class_<RedisStore, Store>(m, "RedisBackend", R"doc(
Base of the Redis classes: a Redis database (or Redis Cluster) seen as a
dict. Key K is the Redis key PREFIX+K, a value a Redis string (readable by
redis-cli). The URL: redis://[user[:password]@]host[:port][/db][?prefix=P],
rediss://...[?cacert=PATH&cert=PATH&key=PATH] (TLS),
redis+unix:///path/to/redis.sock[?db=N&prefix=P], ?cluster=1 for a Redis
Cluster (docs/backends/redis.md); the password may also come from
REDISCLI_AUTH and never appears in repr(), url() or an error. Batches
(load_many, dump_many) are pipelines; keys() and len() SCAN the prefix.
Safe for many threads (pooled connections); reopened in a forked child.
)doc");
  BindRedisClass<ValueKind::kJson>(m, "RedisJsonBackend", R"doc(
RedisJsonBackend(url="redis://127.0.0.1:6379", *, prefix=None): JSON values
in Redis, written in the original's format. prefix overrides the URL's.
)doc");
  BindRedisClass<ValueKind::kText>(m, "RedisTextBackend", R"doc(
RedisTextBackend(url="redis://127.0.0.1:6379", *, prefix=None): str values
(UTF-8) in Redis.
)doc");
  BindRedisClass<ValueKind::kRaw>(m, "RedisRawBackend", R"doc(
RedisRawBackend(url="redis://127.0.0.1:6379", *, prefix=None): bytes values
in Redis.
)doc");
}

}  // namespace backends::python

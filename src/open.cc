// The scheme table: one row per store family. S3 (and later stores with
// dependencies) sit behind their BACKENDS_WITH_<NAME> switch.

#include "backends/open.h"

#include <algorithm>

#include "backends/file.h"
#include "backends/memory.h"
#if BACKENDS_WITH_S3
#include "s3/s3_url.h"
#endif
#if BACKENDS_WITH_SQLITE
#include "backends/sqlite.h"
#endif
#if BACKENDS_WITH_REDIS
#include "backends/redis.h"
#endif

namespace backends {
namespace {

Status CheckParams(const Url& url,
                   std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : url.query) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return InvalidArgumentError("URL " + url.scheme +
                                  "://...: unknown parameter \"" + name + "\"");
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<Backend>> OpenMemory(const Url& url) {
  BACKENDS_RETURN_IF_ERROR(CheckParams(url, {}));
  if (!url.authority.empty() || (!url.path.empty() && url.path != "/")) {
    return InvalidArgumentError("memory:// takes no name or path");
  }
  return std::unique_ptr<Backend>(std::make_unique<VolatileBackend>());
}

Result<std::unique_ptr<Backend>> OpenFile(const Url& url) {
  BACKENDS_RETURN_IF_ERROR(CheckParams(url, {"durable"}));
  // file:///abs/dir and file://localhost/abs/dir are absolute;
  // file://rel/dir is relative to the working folder.
  std::string root;
  if (url.authority.empty() || url.authority == "localhost") {
    root = url.path;
  } else {
    root = url.authority + url.path;
  }
  if (root.empty()) return InvalidArgumentError("file:// needs a folder");
  FileOptions options;
  if (auto durable = url.Param("durable")) {
    options.durable = *durable == "1" || *durable == "true";
  }
  BACKENDS_ASSIGN_OR_RETURN(auto store, FileBackend::Open(root, options));
  return std::unique_ptr<Backend>(std::move(store));
}

#if BACKENDS_WITH_SQLITE
Result<std::unique_ptr<Backend>> OpenSqlite(const Url& url) {
  BACKENDS_RETURN_IF_ERROR(CheckParams(url, {"table", "durable"}));
  // sqlite:///abs/file.db is absolute; sqlite://rel/file.db is relative.
  std::string path = url.authority.empty() || url.authority == "localhost"
                         ? url.path
                         : url.authority + url.path;
  if (path.empty()) return InvalidArgumentError("sqlite:// needs a file");
  SqliteOptions options;
  if (auto table = url.Param("table")) options.table = *table;
  if (auto durable = url.Param("durable")) {
    options.durable = *durable == "1" || *durable == "true";
  }
  BACKENDS_ASSIGN_OR_RETURN(auto store,
                            NewSqliteBackend(path, std::move(options)));
  return std::unique_ptr<Backend>(std::move(store));
}
#endif

}  // namespace

Result<std::unique_ptr<Backend>> OpenBackend(std::string_view text) {
#if BACKENDS_WITH_REDIS
  // Before Url::Parse: a redis URL may hold a password, which no error
  // message may repeat (ParseRedisUrl never does).
  if (text.starts_with("redis://") || text.starts_with("redis+unix://")) {
    BACKENDS_ASSIGN_OR_RETURN(auto options, ParseRedisUrl(text));
    BACKENDS_ASSIGN_OR_RETURN(auto store, NewRedisBackend(std::move(options)));
    return std::unique_ptr<Backend>(std::move(store));
  }
#endif
  BACKENDS_ASSIGN_OR_RETURN(Url url, Url::Parse(text));
  if (url.scheme == "memory") return OpenMemory(url);
  if (url.scheme == "file") return OpenFile(url);
#if BACKENDS_WITH_S3
  if (url.scheme == "s3") return s3::OpenS3Url(url);
#endif
#if BACKENDS_WITH_SQLITE
  if (url.scheme == "sqlite") return OpenSqlite(url);
#endif
  return InvalidArgumentError("URL \"" + std::string(text) +
                              "\": unknown scheme \"" + url.scheme +
                              "\" (known: memory, file, s3, sqlite, redis)");
}

}  // namespace backends

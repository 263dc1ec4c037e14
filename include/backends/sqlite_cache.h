#pragma once

// The caches of cache.h on a SQLite table: JsonCache and TextCache whose
// entries keep their expiry (and, for limits, their order of use) in
// indexed columns of the row, so several threads and processes share one
// cache, bounded or not, in one database file.
//
// A cache table is a store table (sqlite.h) with two more columns:
//
//   expires_ns INTEGER   -- ns since 1970 UTC; NULL: never expires
//   accessed   INTEGER   -- order of last use (limits only); NULL: unknown
//
// plus partial indexes on both. Opening a cache on an existing store table
// adds them (its rows then never expire). A JsonCache row's value is the
// content's JSON text (no envelope); a TextCache row's is the text.
//
// Expiry: an entry is live while now < expires_ns, with now from the
// injected Clock; expires_ns is fixed when the entry is written (write time
// plus its timeout: the per-object one or the cache's default). Loads,
// contains and stat remove an expired entry they meet (only if it is still
// the row they read); listings, size() and items() show live rows only,
// each one query; prune() is one DELETE of every expired row. No value is
// read or parsed to learn its expiry.
//
// Limits (CacheLimits): each write and hit stamps the row with the next
// number in `accessed`; a write past a limit deletes the least recently
// used rows (never the one just written) in one statement, so every
// process sharing the table enforces one bound. The cost is a scan of the
// table per write past the bound and a write per hit.
//
// A JsonCache keeps the entries it has read decoded in this process (up to
// CacheOptions::decoded_bytes of values) and serves one again while
// `PRAGMA data_version` on the connection that read it shows no commit by
// any other connection or process since (this cache's own writes drop their
// copies), or else after a query of the row's version shows it unchanged:
// no value read, no parse.

#include <filesystem>
#include <memory>

#include "backends/cache.h"
#include "backends/sqlite.h"

namespace backends {

/// The JsonCache layer on `table`'s rows (ExpiryOptions: timeout, clock,
/// limits, format, decoded_bytes). Errors: kInvalidArgument for a negative
/// timeout; kFailedPrecondition when the table's cache columns cannot be
/// added; SQLite's errors (sqlite.h).
Result<std::unique_ptr<JsonEnvelopeBackend>> NewSqliteJsonCacheBackend(
    std::unique_ptr<SqliteBackend> table, ExpiryOptions options = {});

/// The TextCache layer: values are stored as given (any bytes at this
/// level; TextCache checks UTF-8). Errors as above.
Result<std::unique_ptr<ExpiringBackend>> NewSqliteTextCacheBackend(
    std::unique_ptr<SqliteBackend> table, ExpiryOptions options = {});

/// JsonCache / TextCache in table store.table of the database at `path`
/// (created if allowed). CacheOptions::file is not used. Errors: as
/// NewSqliteBackend's and NewSqliteJsonCacheBackend's.
///@{
Result<JsonCache> OpenSqliteJsonCache(std::filesystem::path path,
                                      SqliteOptions store = {},
                                      CacheOptions cache = {});
Result<TextCache> OpenSqliteTextCache(std::filesystem::path path,
                                      SqliteOptions store = {},
                                      CacheOptions cache = {});
///@}

}  // namespace backends

#pragma once

// The embedded single-file store: keys and values in a table of a SQLite
// database file. Several stores share one file, each in its own table.
//
//   sqlite:///var/lib/app.db?table=users   an absolute path and a table
//   sqlite://app.db                        relative, in the default table
//   ...&durable=1                          synchronous=FULL
//
// Schema (docs/backends/sqlite.md), readable by any SQLite program:
//
//   CREATE TABLE "<table>" (key TEXT PRIMARY KEY NOT NULL,
//                           modified_ns INTEGER NOT NULL,
//                           version INTEGER NOT NULL,
//                           value BLOB NOT NULL);
//
// Keys must pass ValidateKey (backend.h) and are always bound as
// parameters, never spliced into SQL. Listings are in the key's BINARY
// collation, which is bytewise.
//
// Durability: the database runs in WAL mode. By default (synchronous=NORMAL)
// an acknowledged write survives the process being killed; with `durable`
// (synchronous=FULL) it also survives power loss. A file that is not a
// SQLite database, or a corrupt one, is reported (kDataLoss naming the
// path) and never written to.
//
// Thread and process safety: safe for concurrent use by many threads (each
// uses a pooled connection of its own) and by many processes sharing the
// file; contention waits (busy timeout) rather than failing.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "backends/backend.h"

namespace backends {

/// The table a store uses when none is named.
inline constexpr std::string_view kSqliteDefaultTable = "backends";

/// The largest value SQLite stores by default (SQLITE_MAX_LENGTH). A
/// larger value, or a stream that turns out larger, is refused with
/// kInvalidArgument before anything is written.
inline constexpr std::uint64_t kSqliteMaxValueBytes = 1'000'000'000;

/// How NewSqliteBackend opens a store.
struct SqliteOptions {
  /// The table: 1 to 64 of [A-Za-z0-9_], not starting with a digit and not
  /// starting with "sqlite_". Created if missing.
  std::string table = std::string(kSqliteDefaultTable);
  /// synchronous=FULL: every write also survives power loss (slower).
  bool durable = false;
  /// Create the database file if it does not exist.
  bool create = true;
};

/// The store, with what SQLite adds to the Backend contract.
class SqliteBackend : public Backend {
 public:
  /// Stores every pair in one transaction: after an error none of them is
  /// stored, and on success all are, each replacing its key's value. A key
  /// given twice keeps its last value. Every key and size is checked before
  /// anything is written. Errors: as dump's (kInvalidArgument naming the
  /// first bad key or value too large).
  virtual Status dump_many(
      std::span<const std::pair<std::string, std::string>> items) = 0;

  /// The database file (absolute) and the options the store was opened
  /// with (the caches of sqlite_cache.h open the same table).
  ///@{
  virtual const std::filesystem::path& path() const = 0;
  virtual const SqliteOptions& options() const = 0;
  ///@}
};

/// Opens (creating if allowed) the store in table options.table of the
/// database file at `path`. Errors: kInvalidArgument for a bad table name;
/// kNotFound if the file is missing and options.create is false; kDataLoss
/// if the file is not a SQLite database or is corrupt; kFailedPrecondition
/// if the table exists with other columns; kPermissionDenied if the file
/// or its folder cannot be written; kIOError for other filesystem failures.
Result<std::unique_ptr<SqliteBackend>> NewSqliteBackend(
    std::filesystem::path path, SqliteOptions options = {});

}  // namespace backends

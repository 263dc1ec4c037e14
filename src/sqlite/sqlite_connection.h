#pragma once

// SQLite connections for SqliteBackend: opening with our pragmas, the
// prepared statements each connection keeps, a pool handing one
// connection to one thread at a time, and the mapping of SQLite's result
// codes to Status.

#include <sqlite3.h>

#include <array>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/sqlite.h"
#include "backends/status.h"

namespace backends::sqlite {

/// The statements a connection prepares once and reuses.
enum class Sql {
  kLoad,
  kDump,
  kInsertZeroBlob,
  kRemove,
  kStat,
  kContains,
  kSize,
  kClear,
  kListKeys,
  kListEntries,
  kItems,
  kLocate,
  kBeginRead,
  kBeginWrite,
  kCommit,
  kRollback,
  kCount,  // not a statement: the number of them
};

struct DbDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbDeleter>;

struct StmtDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

struct BlobDeleter {
  void operator()(sqlite3_blob* blob) const { sqlite3_blob_close(blob); }
};
using BlobPtr = std::unique_ptr<sqlite3_blob, BlobDeleter>;

/// A prepared statement in use: reset when this goes away, so an idle
/// connection never keeps a read transaction (an old snapshot) open.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (stmt_ != nullptr) sqlite3_reset(stmt_);
  }
  sqlite3_stmt* get() const { return stmt_; }
  operator sqlite3_stmt*() const { return stmt_; }  // NOLINT

 private:
  sqlite3_stmt* stmt_;
};

/// sqlite3_step, retried (with growing sleeps, for up to the busy timeout)
/// while it fails with SQLITE_BUSY or SQLITE_LOCKED: SQLite returns those
/// without calling the busy handler in some cases (a journal mode change,
/// WAL recovery by another process), and the contract is that contention
/// waits. Only for a statement's first step, where its locks are taken.
int Step(sqlite3_stmt* stmt);

/// Binds text (UTF-8) or bytes without copying them; empty binds an empty
/// value, never NULL.
void BindText(sqlite3_stmt* stmt, int index, std::string_view text);
void BindBlob(sqlite3_stmt* stmt, int index, std::string_view bytes);
/// A column's bytes (a BLOB's, or a TEXT's UTF-8).
std::string ColumnBytes(sqlite3_stmt* stmt, int column);
inline std::string ColumnText(sqlite3_stmt* stmt, int column) {
  return ColumnBytes(stmt, column);
}

/// Steps a key listing (the key its first column, LIMIT limit + 1 or -1)
/// into `page`: at most `limit` keys (0: all), page.more if there are more.
/// Returns the last result code (SQLITE_ROW or SQLITE_DONE when fine).
int ReadKeys(sqlite3_stmt* stmt, std::size_t limit, KeyPage& page);

/// A Status for result code `rc` of an operation on `path`:
/// "<context>: sqlite <path>: <message>". Corruption and "not a database"
/// are kDataLoss, busy/locked kUnavailable, read-only kPermissionDenied,
/// disk and I/O failures kIOError, too big kInvalidArgument.
Status SqliteError(std::string_view context, const std::filesystem::path& path,
                   sqlite3* db, int rc);

/// Checks a table name (see SqliteOptions::table).
Status ValidateTableName(std::string_view table);

class Connection {
 public:
  /// Opens `path`; `first` also sets WAL mode and creates the table.
  static Result<std::unique_ptr<Connection>> Open(
      const std::filesystem::path& path, const SqliteOptions& options,
      bool first);

  sqlite3* db() const { return db_.get(); }

  /// The prepared statement `which`, reset and with its bindings cleared.
  Result<Stmt> Get(Sql which);

  /// Runs `which` to completion (BEGIN, COMMIT...).
  Status Run(Sql which, std::string_view context);

  /// As Get, for SQL text of a layer's own (the caches'), prepared on first
  /// use and kept with the connection.
  Result<Stmt> Prepared(const std::string& sql);

 private:
  static Result<std::unique_ptr<Connection>> OpenWithPragmas(
      const std::filesystem::path& path, const SqliteOptions& options,
      bool first);
  Status Prepare(const std::string& sql, StmtPtr& slot);
  Connection(DbPtr db, std::filesystem::path path, std::string table)
      : db_(std::move(db)), path_(std::move(path)), table_(std::move(table)) {}

  DbPtr db_;
  std::filesystem::path path_;
  std::string table_;
  std::array<StmtPtr, static_cast<std::size_t>(Sql::kCount)> statements_;
  std::unordered_map<std::string, StmtPtr> prepared_;
};

/// Hands each caller a connection of its own, opening one when none is
/// free; connections return to the pool when the Lease ends.
class ConnectionPool {
 public:
  ConnectionPool(std::filesystem::path path, SqliteOptions options,
                 std::unique_ptr<Connection> first);

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Connection* operator->() const { return connection_.get(); }
    Connection& operator*() const { return *connection_; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> connection_;
  };

  Result<Lease> Acquire();

  const std::filesystem::path& path() const { return path_; }
  const SqliteOptions& options() const { return options_; }

 private:
  const std::filesystem::path path_;
  const SqliteOptions options_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;  // Guarded by mutex_.
};

}  // namespace backends::sqlite

// Opening a SQLite database for SqliteBackend.
//
// The table name is the only text ever put into SQL, and only after
// ValidateTableName; keys and values are always bound parameters.
//
// WAL mode lets readers run beside one writer and makes a commit one append
// to the -wal file: with synchronous=NORMAL that append reaches the kernel
// before the commit returns, so it survives the process being killed (not
// power loss: synchronous=FULL adds an fsync per commit). Every connection
// waits up to kBusyTimeout for a lock another connection or process holds,
// and writers that read first begin with BEGIN IMMEDIATE, so they wait for
// the lock up front instead of failing to upgrade a read.
//
// A file that is not a database fails the first read of its header with
// SQLITE_NOTADB; SQLite writes nothing to it. Opening checks that before
// anything that could write (journal mode, CREATE TABLE).

#include "sqlite/sqlite_connection.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "backends/backend.h"

namespace backends::sqlite {
namespace {

constexpr int kBusyTimeoutMs = 60'000;

std::string Quoted(std::string_view table) {
  // Appended rather than "\"" + ... + "\"", which g++ 12 at -O3 flags with
  // a false -Wrestrict (GCC bug 105329).
  std::string out;
  out.reserve(table.size() + 2);
  out += '"';
  out += table;
  out += '"';
  return out;
}

std::string SqlText(Sql which, std::string_view table) {
  const std::string t = Quoted(table);
  // Ranges: ?1 <= key < ?2 and key != ?3 (the page's start_after) use the
  // key index in bytewise order; LIMIT -1 is no limit.
  const std::string range =
      " WHERE key >= ?1 AND key < ?2 AND key != ?3 ORDER BY key LIMIT ?4";
  switch (which) {
    case Sql::kLoad:
      return "SELECT value FROM " + t + " WHERE key = ?1";
    case Sql::kDump:
      return "INSERT INTO " + t +
             " (key, modified_ns, version, value) VALUES (?1, ?2, ?3, ?4)"
             " ON CONFLICT (key) DO UPDATE SET modified_ns ="
             " excluded.modified_ns, version = excluded.version,"
             " value = excluded.value";
    case Sql::kInsertZeroBlob:
      // A new row (REPLACE deletes the old one): zeroblob as the last
      // column is written without allocating the value.
      return "INSERT OR REPLACE INTO " + t +
             " (key, modified_ns, version, value)"
             " VALUES (?1, ?2, ?3, zeroblob(?4)) RETURNING rowid";
    case Sql::kRemove:
      return "DELETE FROM " + t + " WHERE key = ?1";
    case Sql::kStat:
      return "SELECT length(value), modified_ns, version FROM " + t +
             " WHERE key = ?1";
    case Sql::kContains:
      return "SELECT 1 FROM " + t + " WHERE key = ?1";
    case Sql::kSize:
      return "SELECT count(*) FROM " + t;
    case Sql::kClear:
      return "DELETE FROM " + t;
    case Sql::kListKeys:
      return "SELECT key FROM " + t + range;
    case Sql::kListEntries:
      return "SELECT key, length(value), modified_ns, version FROM " + t +
             range;
    case Sql::kItems:
      return "SELECT key, value FROM " + t + " ORDER BY key";
    case Sql::kLocate:
      return "SELECT rowid, length(value) FROM " + t + " WHERE key = ?1";
    case Sql::kBeginRead:
      return "BEGIN";
    case Sql::kBeginWrite:
      return "BEGIN IMMEDIATE";
    case Sql::kCommit:
      return "COMMIT";
    case Sql::kRollback:
      return "ROLLBACK";
    case Sql::kCount:
      break;
  }
  return "";
}

// One statement outside the cache, stepped to completion. Returns the
// first column of the first row, if any, as text.
Result<std::string> ExecOnce(sqlite3* db, const std::filesystem::path& path,
                             const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return SqliteError("open", path, db, rc);
  std::string first;
  bool have_first = false;
  for (rc = Step(stmt.get()); rc == SQLITE_ROW; rc = sqlite3_step(stmt.get())) {
    if (!have_first && sqlite3_column_count(stmt.get()) > 0) {
      const auto* text = sqlite3_column_text(stmt.get(), 0);
      if (text != nullptr) first = reinterpret_cast<const char*>(text);
      have_first = true;
    }
  }
  if (rc != SQLITE_DONE) return SqliteError("open", path, db, rc);
  return first;
}

const char* KindOf(int rc) {
  switch (rc & 0xFF) {
    case SQLITE_CORRUPT:
      return "the database is corrupt";
    case SQLITE_NOTADB:
      return "not a SQLite database";
    default:
      return nullptr;
  }
}

// Why `path` cannot be written, if it cannot: SQLite reports a read-only
// file or filesystem as "unable to open" with whatever errno came last.
std::optional<std::string> ReadOnlyReason(const std::filesystem::path& path) {
  struct statvfs fs;
  const auto folder = path.parent_path();
  if (::statvfs(folder.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0) {
    return "the filesystem of " + folder.string() + " is read-only";
  }
  if (::access(path.c_str(), F_OK) == 0 && ::access(path.c_str(), W_OK) != 0) {
    return "the database file cannot be written (" +
           std::string(std::strerror(errno)) + ")";
  }
  if (::access(folder.c_str(), W_OK) != 0 && errno != ENOENT) {
    return "the folder " + folder.string() + " cannot be written (" +
           std::string(std::strerror(errno)) + ")";
  }
  return std::nullopt;
}

}  // namespace

void BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text64(stmt, index, text.empty() ? "" : text.data(), text.size(),
                      SQLITE_STATIC, SQLITE_UTF8);
}

void BindBlob(sqlite3_stmt* stmt, int index, std::string_view bytes) {
  // A null pointer would bind NULL, not an empty blob.
  sqlite3_bind_blob64(stmt, index, bytes.empty() ? "" : bytes.data(),
                      bytes.size(), SQLITE_STATIC);
}

std::string ColumnBytes(sqlite3_stmt* stmt, int column) {
  const void* data = sqlite3_column_blob(stmt, column);
  const int size = sqlite3_column_bytes(stmt, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data),
                     static_cast<std::size_t>(size));
}

int ReadKeys(sqlite3_stmt* stmt, std::size_t limit, KeyPage& page) {
  int rc;
  for (rc = Step(stmt); rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
    if (limit != 0 && page.keys.size() == limit) {
      page.more = true;
      break;
    }
    page.keys.push_back(ColumnBytes(stmt, 0));
  }
  return rc;
}

int Step(sqlite3_stmt* stmt) {
  int rc = sqlite3_step(stmt);
  auto busy = [](int code) {
    return (code & 0xFF) == SQLITE_BUSY || (code & 0xFF) == SQLITE_LOCKED;
  };
  if (!busy(rc)) return rc;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(kBusyTimeoutMs);
  auto pause = std::chrono::microseconds(500);
  while (busy(rc) && std::chrono::steady_clock::now() < deadline) {
    sqlite3_reset(stmt);
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2,
                                                std::chrono::milliseconds(50));
    rc = sqlite3_step(stmt);
  }
  return rc;
}

Status SqliteError(std::string_view context, const std::filesystem::path& path,
                   sqlite3* db, int rc) {
  std::string message =
      std::string(context) + ": sqlite " + path.string() + ": ";
  if (const char* kind = KindOf(rc)) {
    message += kind;
    message += " (left as it is)";
  } else {
    const bool from_db = db != nullptr && (sqlite3_extended_errcode(db) == rc ||
                                           sqlite3_errcode(db) == rc);
    message += from_db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const int err = db != nullptr ? sqlite3_system_errno(db) : 0;
    if ((rc & 0xFF) == SQLITE_IOERR || (rc & 0xFF) == SQLITE_CANTOPEN ||
        (rc & 0xFF) == SQLITE_FULL) {
      if (err != 0) message += std::string(" (") + std::strerror(err) + ")";
    }
  }
  switch (rc & 0xFF) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(std::move(message));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return PermissionDeniedError(std::move(message));
    case SQLITE_CANTOPEN: {
      const int err = db != nullptr ? sqlite3_system_errno(db) : 0;
      if (err == EACCES || err == EROFS || err == EPERM) {
        return PermissionDeniedError(std::move(message));
      }
      return IOError(std::move(message));
    }
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
      return IOError(std::move(message));
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return InvalidArgumentError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

Status ValidateTableName(std::string_view table) {
  auto invalid = [&](std::string_view why) {
    return InvalidArgumentError("sqlite table " + QuoteKey(table) + ": " +
                                std::string(why));
  };
  if (table.empty() || table.size() > 64) return invalid("not 1 to 64 bytes");
  if (table[0] >= '0' && table[0] <= '9') return invalid("starts with a digit");
  for (char c : table) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_';
    if (!ok) return invalid("holds a character other than A-Z a-z 0-9 _");
  }
  std::string lower(table.substr(0, 7));
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower == "sqlite_") return invalid("starts with sqlite_ (reserved)");
  return Status::OK();
}

Result<std::unique_ptr<Connection>> Connection::Open(
    const std::filesystem::path& path, const SqliteOptions& options,
    bool first) {
  auto opened = OpenWithPragmas(path, options, first);
  if (opened.ok() || opened.status().code() == ErrorCode::kDataLoss ||
      opened.status().code() == ErrorCode::kNotFound) {
    return opened;
  }
  if (auto reason = ReadOnlyReason(path)) {
    return PermissionDeniedError("open: sqlite " + path.string() + ": " +
                                 *reason);
  }
  return opened;
}

Result<std::unique_ptr<Connection>> Connection::OpenWithPragmas(
    const std::filesystem::path& path, const SqliteOptions& options,
    bool first) {
  if (sqlite3_threadsafe() == 0) {
    return InternalError("sqlite: the library was built without threads");
  }
  int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (options.create) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    if (!options.create && (rc & 0xFF) == SQLITE_CANTOPEN &&
        sqlite3_system_errno(db.get()) == ENOENT) {
      return NotFoundError("open: sqlite " + path.string() +
                           ": no such database file (nothing was created)");
    }
    return SqliteError("open", path, db.get(), rc);
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  // Reads the header (and the schema): SQLITE_NOTADB / SQLITE_CORRUPT here
  // stop us before anything writes.
  BACKENDS_RETURN_IF_ERROR(
      ExecOnce(db.get(), path, "SELECT count(*) FROM sqlite_schema").status());
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    return PermissionDeniedError("open: sqlite " + path.string() +
                                 ": the database file cannot be written");
  }
  if (first) {
    BACKENDS_ASSIGN_OR_RETURN(
        std::string mode,
        ExecOnce(db.get(), path, "PRAGMA journal_mode = WAL"));
    if (mode != "wal") {
      return FailedPreconditionError("open: sqlite " + path.string() +
                                     ": cannot use WAL mode (journal mode " +
                                     mode + ")");
    }
  }
  BACKENDS_RETURN_IF_ERROR(ExecOnce(db.get(), path,
                                    options.durable
                                        ? "PRAGMA synchronous = FULL"
                                        : "PRAGMA synchronous = NORMAL")
                               .status());
  if (first) {
    BACKENDS_RETURN_IF_ERROR(
        ExecOnce(db.get(), path,
                 "CREATE TABLE IF NOT EXISTS " + Quoted(options.table) +
                     " (key TEXT PRIMARY KEY NOT NULL,"
                     " modified_ns INTEGER NOT NULL,"
                     " version INTEGER NOT NULL, value BLOB NOT NULL)")
            .status());
  }
  auto connection = std::unique_ptr<Connection>(
      new Connection(std::move(db), path, options.table));
  if (first) {
    // A table of that name made by someone else: say so once, here.
    auto probe = connection->Get(Sql::kLocate);
    if (!probe.ok()) {
      return FailedPreconditionError(
          "open: sqlite " + path.string() + ": table " + options.table +
          " exists without the columns key, modified_ns, version, value (" +
          probe.status().message() + ")");
    }
  }
  return connection;
}

Result<Stmt> Connection::Get(Sql which) {
  auto& slot = statements_[static_cast<std::size_t>(which)];
  if (slot == nullptr) {
    BACKENDS_RETURN_IF_ERROR(Prepare(SqlText(which, table_), slot));
  }
  sqlite3_reset(slot.get());
  sqlite3_clear_bindings(slot.get());
  return Stmt(slot.get());
}

Result<Stmt> Connection::Prepared(const std::string& sql) {
  auto& slot = prepared_[sql];
  if (slot == nullptr) BACKENDS_RETURN_IF_ERROR(Prepare(sql, slot));
  sqlite3_reset(slot.get());
  sqlite3_clear_bindings(slot.get());
  return Stmt(slot.get());
}

Status Connection::Prepare(const std::string& sql, StmtPtr& slot) {
  sqlite3_stmt* raw = nullptr;
  int rc =
      sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return SqliteError("prepare", path_, db_.get(), rc);
  }
  slot.reset(raw);
  return Status::OK();
}

Status Connection::Run(Sql which, std::string_view context) {
  BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, Get(which));
  int rc = Step(stmt);
  while (rc == SQLITE_ROW) rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) return SqliteError(context, path_, db_.get(), rc);
  return Status::OK();
}

ConnectionPool::ConnectionPool(std::filesystem::path path,
                               SqliteOptions options,
                               std::unique_ptr<Connection> first)
    : path_(std::move(path)), options_(std::move(options)) {
  idle_.push_back(std::move(first));
}

ConnectionPool::Lease::~Lease() {
  if (connection_ == nullptr) return;
  std::scoped_lock lock(pool_->mutex_);
  pool_->idle_.push_back(std::move(connection_));
}

Result<ConnectionPool::Lease> ConnectionPool::Acquire() {
  {
    std::scoped_lock lock(mutex_);
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection));
    }
  }
  BACKENDS_ASSIGN_OR_RETURN(auto connection,
                            Connection::Open(path_, options_, false));
  return Lease(this, std::move(connection));
}

}  // namespace backends::sqlite

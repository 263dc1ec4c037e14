// SqliteStore, the SqliteBackend: one table of a SQLite database (schema in
// sqlite.h and docs/backends/sqlite.md).
//
// Every call borrows a pooled connection, so threads never share one and
// each keeps its prepared statements. A single statement is its own
// transaction; remove_if and the streams use explicit ones. version is a
// random 63-bit integer drawn on every write, so a value replaced (even
// after being removed and written again) gets another one.
//
// Streams: SQLite's incremental blob I/O writes into a blob reserved with
// zeroblob(n), so the size must be known first and the writer's lock held
// while writing. dump_stream therefore keeps a value of up to kInlineBytes
// in memory and stores it as dump does; a longer one is first spooled to an
// unnamed temporary file next to the database (never held whole), checked
// against the size limit, and then copied into the blob in one short
// transaction, so a slow source never holds the database's write lock.

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "backends/open.h"
#include "backends/sqlite.h"
#include "sqlite/sqlite_connection.h"
#include "write_condition.h"

namespace backends {
namespace {

using sqlite::BindBlob;
using sqlite::BindText;
using sqlite::ColumnBytes;
using sqlite::ColumnText;
using sqlite::Connection;
using sqlite::ConnectionPool;
using sqlite::Sql;
using sqlite::Step;
using sqlite::Stmt;

constexpr std::size_t kInlineBytes = 1 << 20;
constexpr std::size_t kChunkBytes = 256 * 1024;
// SQLITE_MAX_LENGTH bounds a whole row; this much of it is kept for the
// key and the other columns.
constexpr std::uint64_t kRowReserve = 1'000'000;

// Sorts after every key that starts with what precedes it: keys are UTF-8,
// which never holds the byte 0xFF.
constexpr char kAfterEveryKey = '\xff';

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t NewVersion() {
  thread_local std::mt19937_64 random(std::random_device{}());
  std::int64_t version;
  do {
    version = static_cast<std::int64_t>(random() >> 1);
  } while (version == 0);
  return version;
}

KeyInfo InfoFrom(sqlite3_stmt* stmt, int first_column) {
  KeyInfo info;
  info.size = static_cast<std::uint64_t>(
      std::max<sqlite3_int64>(0, sqlite3_column_int64(stmt, first_column)));
  info.modified = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(
              sqlite3_column_int64(stmt, first_column + 1))));
  info.version = std::to_string(sqlite3_column_int64(stmt, first_column + 2));
  return info;
}

struct FdCloser {
  int fd = -1;
  FdCloser() = default;
  explicit FdCloser(int f) : fd(f) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

class SqliteStore final : public SqliteBackend {
 public:
  SqliteStore(std::filesystem::path path, SqliteOptions options,
              std::unique_ptr<Connection> first)
      : pool_(std::move(path), std::move(options), std::move(first)) {}

  Result<std::optional<std::string>> load(std::string_view key) override;
  Status dump(std::string_view key, std::string_view value) override;
  Status dump_many(
      std::span<const std::pair<std::string, std::string>> items) override;
  Status dump_stream(std::string_view key, ByteSource& source) override;
  Result<bool> load_stream(std::string_view key, ByteSink& sink) override;
  Result<bool> remove(std::string_view key) override;
  Result<std::optional<std::string>> load_range(std::string_view key,
                                                std::uint64_t offset,
                                                std::uint64_t length) override;
  Result<bool> copy(std::string_view src_key,
                    std::string_view dst_key) override;
  Result<bool> rename(std::string_view src_key,
                      std::string_view dst_key) override;
  Result<std::string> dump_if(std::string_view key, std::string_view value,
                              const WriteCondition& condition) override;
  Result<bool> remove_if(std::string_view key,
                         const RemovalCheck& should_remove) override;
  Result<std::vector<std::string>> list(std::string_view prefix) override;
  Result<KeyPage> list_page(std::string_view prefix,
                            std::string_view start_after,
                            std::size_t limit) override;
  Result<EntryPage> list_entries(const ListRequest& request) override;
  Result<std::optional<KeyInfo>> stat(std::string_view key) override;
  Result<bool> contains(std::string_view key) override;
  Result<std::size_t> size() override;
  Result<std::vector<Entry>> items() override;
  Status clear() override;
  std::string url() const override;
  const std::filesystem::path& path() const override { return pool_.path(); }
  const SqliteOptions& options() const override { return pool_.options(); }

 private:
  // A transaction that rolls back unless committed.
  class Transaction {
   public:
    Transaction(Connection& connection, std::string context)
        : connection_(connection), context_(std::move(context)) {}
    ~Transaction() {
      // A failed rollback leaves nothing to do: SQLite rolls back on close.
      if (open_) static_cast<void>(connection_.Run(Sql::kRollback, context_));
    }
    Status Begin(Sql which) {
      BACKENDS_RETURN_IF_ERROR(connection_.Run(which, context_));
      open_ = true;
      return Status::OK();
    }
    Status Commit() {
      open_ = false;
      return connection_.Run(Sql::kCommit, context_);
    }

   private:
    Connection& connection_;
    std::string context_;
    bool open_ = false;
  };

  Status Error(std::string_view operation, std::string_view key,
               Connection& connection, int rc) const {
    return sqlite::SqliteError(std::string(operation) + " " + QuoteKey(key),
                               pool_.path(), connection.db(), rc);
  }
  Status Error(std::string_view operation, Connection& connection,
               int rc) const {
    return sqlite::SqliteError(operation, pool_.path(), connection.db(), rc);
  }

  std::uint64_t MaxValueBytes(Connection& connection) const {
    const auto limit = static_cast<std::uint64_t>(
        sqlite3_limit(connection.db(), SQLITE_LIMIT_LENGTH, -1));
    return std::min(kSqliteMaxValueBytes,
                    limit > kRowReserve ? limit - kRowReserve : 0);
  }

  Status TooBig(std::string_view operation, std::string_view key,
                std::uint64_t size, std::uint64_t max) const {
    return InvalidArgumentError(
        std::string(operation) + " " + QuoteKey(key) + ": a value of " +
        std::to_string(size) + " bytes is larger than the largest " +
        std::to_string(max) + " bytes a sqlite store holds (nothing written)");
  }

  // list_page, where limit 0 means every key.
  Result<KeyPage> ListKeys(std::string_view prefix,
                           std::string_view start_after, std::size_t limit);
  Status DumpSpooled(std::string_view key, int fd, std::uint64_t size);
  // copy (keep_source) or rename, in one write transaction.
  Result<bool> Move(std::string_view operation, std::string_view src_key,
                    std::string_view dst_key, bool keep_source);
  // Writes one row with `version` inside the caller's transaction.
  Status PutRow(std::string_view operation, Connection& connection,
                std::string_view key, std::string_view value,
                std::int64_t version);

  ConnectionPool pool_;
};

Result<std::optional<std::string>> SqliteStore::load(std::string_view key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("load", key));
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kLoad));
  BindText(stmt, 1, key);
  const int rc = Step(stmt);
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return Error("load", key, *connection, rc);
  return std::optional<std::string>(ColumnBytes(stmt, 0));
}

Status SqliteStore::dump(std::string_view key, std::string_view value) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  if (value.size() > MaxValueBytes(*connection)) {
    return TooBig("dump", key, value.size(), MaxValueBytes(*connection));
  }
  BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kDump));
  BindText(stmt, 1, key);
  sqlite3_bind_int64(stmt, 2, NowNs());
  sqlite3_bind_int64(stmt, 3, NewVersion());
  BindBlob(stmt, 4, value);
  const int rc = Step(stmt);
  if (rc != SQLITE_DONE) return Error("dump", key, *connection, rc);
  return Status::OK();
}

Status SqliteStore::dump_many(
    std::span<const std::pair<std::string, std::string>> items) {
  for (const auto& [key, value] : items) {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
  }
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  const std::uint64_t max = MaxValueBytes(*connection);
  for (const auto& [key, value] : items) {
    if (value.size() > max) return TooBig("dump", key, value.size(), max);
  }
  Transaction transaction(*connection, "dump_many");
  BACKENDS_RETURN_IF_ERROR(transaction.Begin(Sql::kBeginWrite));
  const std::int64_t now = NowNs();
  for (const auto& [key, value] : items) {
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kDump));
    BindText(stmt, 1, key);
    sqlite3_bind_int64(stmt, 2, now);
    sqlite3_bind_int64(stmt, 3, NewVersion());
    BindBlob(stmt, 4, value);
    const int rc = Step(stmt);
    if (rc != SQLITE_DONE) return Error("dump", key, *connection, rc);
  }
  return transaction.Commit();
}

Status SqliteStore::dump_stream(std::string_view key, ByteSource& source) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
  std::uint64_t max = 0;
  {
    BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
    max = MaxValueBytes(*connection);
  }
  if (auto size = source.size(); size && *size > max) {
    return TooBig("dump", key, *size, max);
  }
  std::string head(kInlineBytes, '\0');
  std::size_t used = 0;
  while (used < head.size()) {
    BACKENDS_ASSIGN_OR_RETURN(std::size_t n,
                              source.Read(std::span(head).subspan(used)));
    if (n == 0) {
      head.resize(used);
      return dump(key, head);
    }
    used += n;
  }
  // Longer than kInlineBytes: spool it next to the database.
  const auto folder = pool_.path().parent_path();
  FdCloser spool(::open(folder.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (spool.fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
    // A filesystem without unnamed files: a named one, unlinked at once.
    std::string name = (folder / ".backends-sqlite-spool.XXXXXX").string();
    spool.fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (spool.fd >= 0) ::unlink(name.c_str());
  }
  if (spool.fd < 0) {
    return IOError("dump " + QuoteKey(key) + ": temporary file in " +
                   folder.string() + ": " + std::strerror(errno));
  }
  std::vector<char> buffer(kChunkBytes);
  std::uint64_t total = 0;
  std::string_view pending = head;
  while (true) {
    while (!pending.empty()) {
      const ssize_t wrote = ::write(spool.fd, pending.data(), pending.size());
      if (wrote < 0) {
        if (errno == EINTR) continue;
        return IOError("dump " + QuoteKey(key) + ": temporary file in " +
                       folder.string() + ": " + std::strerror(errno));
      }
      pending.remove_prefix(static_cast<std::size_t>(wrote));
    }
    BACKENDS_ASSIGN_OR_RETURN(std::size_t n, source.Read(buffer));
    if (n == 0) break;
    total += n;
    if (total + head.size() > max) {
      return TooBig("dump", key, total + head.size(), max);
    }
    pending = std::string_view(buffer.data(), n);
  }
  return DumpSpooled(key, spool.fd, total + head.size());
}

Status SqliteStore::DumpSpooled(std::string_view key, int fd,
                                std::uint64_t size) {
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  Transaction transaction(*connection, "dump " + QuoteKey(key));
  BACKENDS_RETURN_IF_ERROR(transaction.Begin(Sql::kBeginWrite));
  sqlite3_int64 rowid = 0;
  {
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kInsertZeroBlob));
    BindText(stmt, 1, key);
    sqlite3_bind_int64(stmt, 2, NowNs());
    sqlite3_bind_int64(stmt, 3, NewVersion());
    sqlite3_bind_int64(stmt, 4, static_cast<sqlite3_int64>(size));
    int rc = Step(stmt);
    if (rc != SQLITE_ROW) return Error("dump", key, *connection, rc);
    rowid = sqlite3_column_int64(stmt, 0);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return Error("dump", key, *connection, rc);
  }
  sqlite3_blob* raw = nullptr;
  const std::string table = pool_.options().table;
  int rc = sqlite3_blob_open(connection->db(), "main", table.c_str(), "value",
                             rowid, 1, &raw);
  sqlite::BlobPtr blob(raw);
  if (rc != SQLITE_OK) return Error("dump", key, *connection, rc);
  std::vector<char> buffer(kChunkBytes);
  std::uint64_t offset = 0;
  while (offset < size) {
    const std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(buffer.size(), size - offset));
    const ssize_t got =
        ::pread(fd, buffer.data(), want, static_cast<off_t>(offset));
    if (got <= 0) {
      if (got < 0 && errno == EINTR) continue;
      return IOError("dump " + QuoteKey(key) +
                     ": reading the temporary file: " +
                     (got < 0 ? std::strerror(errno) : "short file"));
    }
    rc = sqlite3_blob_write(blob.get(), buffer.data(), static_cast<int>(got),
                            static_cast<int>(offset));
    if (rc != SQLITE_OK) return Error("dump", key, *connection, rc);
    offset += static_cast<std::uint64_t>(got);
  }
  blob.reset();
  return transaction.Commit();
}

Result<bool> SqliteStore::load_stream(std::string_view key, ByteSink& sink) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("load", key));
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  // One read transaction: the row found is the row read.
  Transaction transaction(*connection, "load " + QuoteKey(key));
  BACKENDS_RETURN_IF_ERROR(transaction.Begin(Sql::kBeginRead));
  sqlite3_int64 rowid = 0;
  std::uint64_t size = 0;
  {
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kLocate));
    BindText(stmt, 1, key);
    const int rc = Step(stmt);
    if (rc == SQLITE_DONE) return false;
    if (rc != SQLITE_ROW) return Error("load", key, *connection, rc);
    rowid = sqlite3_column_int64(stmt, 0);
    size = static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 1));
  }
  if (size == 0) {
    BACKENDS_RETURN_IF_ERROR(sink.Write(""));
    BACKENDS_RETURN_IF_ERROR(transaction.Commit());
    return true;
  }
  sqlite3_blob* raw = nullptr;
  const std::string table = pool_.options().table;
  int rc = sqlite3_blob_open(connection->db(), "main", table.c_str(), "value",
                             rowid, 0, &raw);
  sqlite::BlobPtr blob(raw);
  if (rc != SQLITE_OK) return Error("load", key, *connection, rc);
  std::vector<char> buffer(kChunkBytes);
  for (std::uint64_t offset = 0; offset < size;) {
    const auto n =
        static_cast<int>(std::min<std::uint64_t>(buffer.size(), size - offset));
    rc = sqlite3_blob_read(blob.get(), buffer.data(), n,
                           static_cast<int>(offset));
    if (rc != SQLITE_OK) return Error("load", key, *connection, rc);
    BACKENDS_RETURN_IF_ERROR(sink.Write(
        std::string_view(buffer.data(), static_cast<std::size_t>(n))));
    offset += static_cast<std::uint64_t>(n);
  }
  blob.reset();
  BACKENDS_RETURN_IF_ERROR(transaction.Commit());
  return true;
}

Result<bool> SqliteStore::remove(std::string_view key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("remove", key));
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kRemove));
  BindText(stmt, 1, key);
  const int rc = Step(stmt);
  if (rc != SQLITE_DONE) return Error("remove", key, *connection, rc);
  return sqlite3_changes(connection->db()) > 0;
}

Result<bool> SqliteStore::remove_if(std::string_view key,
                                    const RemovalCheck& should_remove) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("remove", key));
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  // The write lock is taken first, so no value can arrive between the check
  // and the removal.
  Transaction transaction(*connection, "remove " + QuoteKey(key));
  BACKENDS_RETURN_IF_ERROR(transaction.Begin(Sql::kBeginWrite));
  bool approved = false;
  {
    BACKENDS_ASSIGN_OR_RETURN(Stmt stat, connection->Get(Sql::kStat));
    BindText(stat, 1, key);
    int rc = Step(stat);
    if (rc == SQLITE_DONE) return false;
    if (rc != SQLITE_ROW) return Error("remove", key, *connection, rc);
    const KeyInfo info = InfoFrom(stat, 0);
    BACKENDS_ASSIGN_OR_RETURN(Stmt load, connection->Get(Sql::kLoad));
    BindText(load, 1, key);
    rc = Step(load);
    if (rc != SQLITE_ROW) return Error("remove", key, *connection, rc);
    approved = should_remove(ColumnBytes(load, 0), info);
  }
  if (approved) {
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kRemove));
    BindText(stmt, 1, key);
    const int rc = Step(stmt);
    if (rc != SQLITE_DONE) return Error("remove", key, *connection, rc);
  }
  BACKENDS_RETURN_IF_ERROR(transaction.Commit());
  return approved;
}

Result<std::vector<std::string>> SqliteStore::list(std::string_view prefix) {
  BACKENDS_ASSIGN_OR_RETURN(KeyPage page, ListKeys(prefix, "", 0));
  return std::move(page.keys);
}

Result<KeyPage> SqliteStore::list_page(std::string_view prefix,
                                       std::string_view start_after,
                                       std::size_t limit) {
  return ListKeys(prefix, start_after, std::max<std::size_t>(limit, 1));
}

Result<KeyPage> SqliteStore::ListKeys(std::string_view prefix,
                                      std::string_view start_after,
                                      std::size_t limit) {
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kListKeys));
  const std::string upper = std::string(prefix) + kAfterEveryKey;
  BindText(stmt, 1, std::max(prefix, start_after));
  BindText(stmt, 2, upper);
  BindText(stmt, 3, start_after);
  sqlite3_bind_int64(stmt, 4,
                     limit == 0 ? -1 : static_cast<sqlite3_int64>(limit) + 1);
  KeyPage page;
  const int rc = sqlite::ReadKeys(stmt, limit, page);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return Error("list " + QuoteKey(prefix), *connection, rc);
  }
  return page;
}

Result<EntryPage> SqliteStore::list_entries(const ListRequest& request) {
  const std::size_t limit = std::max<std::size_t>(request.limit, 1);
  const std::string& prefix = request.prefix;
  const std::string upper = prefix + kAfterEveryKey;
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  EntryPage page;
  std::string after = request.start_after;
  std::size_t count = 0;
  bool restart = true;
  while (restart) {
    restart = false;
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kListEntries));
    const std::string lower = std::max(prefix, after);
    BindText(stmt, 1, lower);
    BindText(stmt, 2, upper);
    BindText(stmt, 3, after);
    sqlite3_bind_int64(stmt, 4, static_cast<sqlite3_int64>(limit - count) + 1);
    int rc;
    for (rc = Step(stmt); rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
      if (count == limit) {
        page.more = true;
        break;
      }
      std::string key = ColumnText(stmt, 0);
      const auto cut = request.delimiter.empty()
                           ? std::string::npos
                           : key.find(request.delimiter, prefix.size());
      if (cut != std::string::npos) {
        // Roll the rest of this common prefix up: query again past it.
        std::string common = key.substr(0, cut + request.delimiter.size());
        after = common + kAfterEveryKey;
        page.resume_after = after;
        page.common_prefixes.push_back(std::move(common));
        ++count;
        restart = true;
        break;
      }
      page.entries.push_back(ListEntry{key, InfoFrom(stmt, 1)});
      page.resume_after = std::move(key);
      ++count;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return Error("list " + QuoteKey(prefix), *connection, rc);
    }
  }
  return page;
}

Result<std::optional<KeyInfo>> SqliteStore::stat(std::string_view key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("stat", key));
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kStat));
  BindText(stmt, 1, key);
  const int rc = Step(stmt);
  if (rc == SQLITE_DONE) return std::optional<KeyInfo>();
  if (rc != SQLITE_ROW) return Error("stat", key, *connection, rc);
  return std::optional<KeyInfo>(InfoFrom(stmt, 0));
}

Result<bool> SqliteStore::contains(std::string_view key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("contains", key));
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kContains));
  BindText(stmt, 1, key);
  const int rc = Step(stmt);
  if (rc == SQLITE_DONE) return false;
  if (rc != SQLITE_ROW) return Error("contains", key, *connection, rc);
  return true;
}

Result<std::size_t> SqliteStore::size() {
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kSize));
  const int rc = Step(stmt);
  if (rc != SQLITE_ROW) return Error("size", *connection, rc);
  return static_cast<std::size_t>(sqlite3_column_int64(stmt, 0));
}

Result<std::vector<Backend::Entry>> SqliteStore::items() {
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kItems));
  std::vector<Entry> out;
  int rc;
  for (rc = Step(stmt); rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
    out.emplace_back(ColumnText(stmt, 0), ColumnBytes(stmt, 1));
  }
  if (rc != SQLITE_DONE) return Error("items", *connection, rc);
  return out;
}

Status SqliteStore::clear() {
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  return connection->Run(Sql::kClear, "clear");
}

std::string SqliteStore::url() const {
  std::string url = "sqlite://" + PercentEncode(pool_.path().string(), "/");
  char separator = '?';
  if (pool_.options().table != kSqliteDefaultTable) {
    url += separator + std::string("table=") + PercentEncode(pool_.options().table);
    separator = '&';
  }
  if (pool_.options().durable) url += separator + std::string("durable=1");
  return url;
}

}  // namespace

// Ranges read the blob in place (sqlite3_blob_read), in one read
// transaction like load_stream.
Result<std::optional<std::string>> SqliteStore::load_range(
    std::string_view key, std::uint64_t offset, std::uint64_t length) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("load_range", key));
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  Transaction transaction(*connection, "load_range " + QuoteKey(key));
  BACKENDS_RETURN_IF_ERROR(transaction.Begin(Sql::kBeginRead));
  sqlite3_int64 rowid = 0;
  std::uint64_t size = 0;
  {
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Get(Sql::kLocate));
    BindText(stmt, 1, key);
    const int rc = Step(stmt);
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return Error("load_range", key, *connection, rc);
    rowid = sqlite3_column_int64(stmt, 0);
    size = static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 1));
  }
  std::string out(offset < size ? std::min(length, size - offset) : 0, '\0');
  if (!out.empty()) {
    sqlite3_blob* raw = nullptr;
    const std::string table = pool_.options().table;
    int rc = sqlite3_blob_open(connection->db(), "main", table.c_str(),
                               "value", rowid, 0, &raw);
    sqlite::BlobPtr blob(raw);
    if (rc != SQLITE_OK) return Error("load_range", key, *connection, rc);
    rc = sqlite3_blob_read(blob.get(), out.data(), static_cast<int>(out.size()),
                           static_cast<int>(offset));
    if (rc != SQLITE_OK) return Error("load_range", key, *connection, rc);
  }
  BACKENDS_RETURN_IF_ERROR(transaction.Commit());
  return std::optional<std::string>(std::move(out));
}

Status SqliteStore::PutRow(std::string_view operation, Connection& connection,
                           std::string_view key, std::string_view value,
                           std::int64_t version) {
  if (value.size() > MaxValueBytes(connection)) {
    return TooBig(operation, key, value.size(), MaxValueBytes(connection));
  }
  BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection.Get(Sql::kDump));
  BindText(stmt, 1, key);
  sqlite3_bind_int64(stmt, 2, NowNs());
  sqlite3_bind_int64(stmt, 3, version);
  BindBlob(stmt, 4, value);
  const int rc = Step(stmt);
  if (rc != SQLITE_DONE) return Error(operation, key, connection, rc);
  return Status::OK();
}

Result<bool> SqliteStore::copy(std::string_view src_key,
                               std::string_view dst_key) {
  return Move("copy", src_key, dst_key, /*keep_source=*/true);
}

Result<bool> SqliteStore::rename(std::string_view src_key,
                                 std::string_view dst_key) {
  return Move("rename", src_key, dst_key, /*keep_source=*/false);
}

Result<bool> SqliteStore::Move(std::string_view operation,
                               std::string_view src_key,
                               std::string_view dst_key, bool keep_source) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey(operation, src_key));
  BACKENDS_RETURN_IF_ERROR(ValidateKey(operation, dst_key));
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  Transaction transaction(*connection,
                          std::string(operation) + " " + QuoteKey(src_key));
  BACKENDS_RETURN_IF_ERROR(transaction.Begin(Sql::kBeginWrite));
  std::string value;
  {
    BACKENDS_ASSIGN_OR_RETURN(Stmt load, connection->Get(Sql::kLoad));
    BindText(load, 1, src_key);
    const int rc = Step(load);
    if (rc == SQLITE_DONE) return false;
    if (rc != SQLITE_ROW) return Error(operation, src_key, *connection, rc);
    value = ColumnBytes(load, 0);
  }
  if (src_key == dst_key) return true;
  BACKENDS_RETURN_IF_ERROR(
      PutRow(operation, *connection, dst_key, value, NewVersion()));
  if (!keep_source) {
    BACKENDS_ASSIGN_OR_RETURN(Stmt remove, connection->Get(Sql::kRemove));
    BindText(remove, 1, src_key);
    const int rc = Step(remove);
    if (rc != SQLITE_DONE) return Error(operation, src_key, *connection, rc);
  }
  BACKENDS_RETURN_IF_ERROR(transaction.Commit());
  return true;
}

// The version is read and the row written in one write transaction.
Result<std::string> SqliteStore::dump_if(std::string_view key,
                                         std::string_view value,
                                         const WriteCondition& condition) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey("dump_if", key));
  BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
  Transaction transaction(*connection, "dump_if " + QuoteKey(key));
  BACKENDS_RETURN_IF_ERROR(transaction.Begin(Sql::kBeginWrite));
  std::optional<std::string> current;
  {
    BACKENDS_ASSIGN_OR_RETURN(Stmt stat, connection->Get(Sql::kStat));
    BindText(stat, 1, key);
    const int rc = Step(stat);
    if (rc == SQLITE_ROW) {
      current = InfoFrom(stat, 0).version;
    } else if (rc != SQLITE_DONE) {
      return Error("dump_if", key, *connection, rc);
    }
  }
  BACKENDS_RETURN_IF_ERROR(CheckWriteCondition(key, condition, current));
  const std::int64_t version = NewVersion();
  BACKENDS_RETURN_IF_ERROR(PutRow("dump_if", *connection, key, value, version));
  BACKENDS_RETURN_IF_ERROR(transaction.Commit());
  return std::to_string(version);
}

Result<std::unique_ptr<SqliteBackend>> NewSqliteBackend(
    std::filesystem::path path, SqliteOptions options) {
  BACKENDS_RETURN_IF_ERROR(sqlite::ValidateTableName(options.table));
  if (path.empty()) return InvalidArgumentError("sqlite: empty database path");
  std::error_code error;
  path = std::filesystem::absolute(path, error).lexically_normal();
  if (error) {
    return IOError("sqlite " + path.string() + ": " + error.message());
  }
  BACKENDS_ASSIGN_OR_RETURN(auto first,
                            Connection::Open(path, options, /*first=*/true));
  return std::unique_ptr<SqliteBackend>(std::make_unique<SqliteStore>(
      std::move(path), std::move(options), std::move(first)));
}

}  // namespace backends

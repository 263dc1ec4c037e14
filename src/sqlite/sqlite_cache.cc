// JsonCache and TextCache on a SQLite table (sqlite_cache.h): the expiry
// and the order of use live in columns, so liveness is a WHERE clause.
//
// Every statement binds "now" from the injected Clock rather than asking
// SQLite for the time, so tests with a fake clock see what production does.
// A row found expired is deleted only if its version is still the one read
// (DELETE ... AND version = ?): a fresh value written meanwhile by another
// thread or process is never lost.

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "backends/sqlite_cache.h"
#include "cache/cache_core.h"
#include "sqlite/sqlite_connection.h"
#include "write_condition.h"

namespace backends {
namespace {

using cache_internal::Counters;
using cache_internal::UseOrder;
using sqlite::BindBlob;
using sqlite::BindText;
using sqlite::ColumnBytes;
using sqlite::Connection;
using sqlite::ConnectionPool;
using sqlite::Step;
using sqlite::Stmt;

constexpr char kAfterEveryKey = '\xff';  // UTF-8 keys never hold 0xFF.

std::int64_t Ns(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             t.time_since_epoch())
      .count();
}

std::int64_t RandomVersion() {
  thread_local std::mt19937_64 random(std::random_device{}());
  std::int64_t version = 0;
  while (version == 0) version = static_cast<std::int64_t>(random() >> 1);
  return version;
}

std::optional<std::int64_t> NullableInt(sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt, column);
}

// The SQL of one cache table; only the (validated) table name is spliced.
struct CacheSql {
  explicit CacheSql(const std::string& table) {
    const std::string t = "\"" + table + "\"";
    const std::string live = "(expires_ns IS NULL OR expires_ns > ?9)";
    const std::string next_use =
        "(SELECT coalesce(max(accessed), 0) + 1 FROM " + t +
        " WHERE accessed IS NOT NULL)";
    row = "SELECT value, expires_ns, version FROM " + t + " WHERE key = ?1";
    check = "SELECT expires_ns, version, length(value), modified_ns FROM " + t +
            " WHERE key = ?1";
    drop_if = "DELETE FROM " + t + " WHERE key = ?1 AND version = ?2";
    const std::string upsert =
        " ON CONFLICT (key) DO UPDATE SET modified_ns = excluded.modified_ns,"
        " version = excluded.version, value = excluded.value,"
        " expires_ns = excluded.expires_ns, accessed = excluded.accessed";
    const std::string insert =
        "INSERT INTO " + t +
        " (key, modified_ns, version, value, expires_ns, accessed)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ";
    dump = insert + "NULL)" + upsert;
    dump_used = insert + next_use + ")" + upsert;
    // dump_if: create-only replaces only an expired row; replace-if-version
    // updates only a live row of version ?6. Either changes no row when the
    // condition fails, checked and written in one statement.
    const std::string old_expired =
        " WHERE " + t + ".expires_ns IS NOT NULL AND " + t +
        ".expires_ns <= ?9";
    dump_absent = dump + old_expired;
    dump_absent_used = dump_used + old_expired;
    const std::string set =
        "UPDATE " + t +
        " SET modified_ns = ?2, version = ?3, value = ?4, expires_ns = ?5,"
        " accessed = ";
    const std::string match = " WHERE key = ?1 AND version = ?6 AND " + live;
    dump_version = set + "NULL" + match;
    dump_version_used = set + next_use + match;
    touch = "UPDATE " + t + " SET accessed = " + next_use + " WHERE key = ?1";
    // The newest rows first; a row goes when it is past max_entries (?2) or
    // the running total of sizes is past max_bytes (?3). 0 is no bound.
    evict = "DELETE FROM " + t +
            " WHERE key IN (SELECT key FROM (SELECT key,"
            " row_number() OVER w AS n, sum(length(value)) OVER w AS total"
            " FROM " +
            t +
            " WINDOW w AS (ORDER BY accessed DESC NULLS LAST"
            " ROWS UNBOUNDED PRECEDING))"
            " WHERE key != ?1 AND ((?2 > 0 AND n > ?2) OR (?3 > 0 AND total > "
            "?3)))";
    remove = "DELETE FROM " + t + " WHERE key = ?1 RETURNING " + live;
    list = "SELECT key FROM " + t +
           " WHERE key >= ?1 AND key < ?2 AND key != ?3 AND " + live +
           " ORDER BY key LIMIT ?4";
    size = "SELECT count(*) FROM " + t + " WHERE " + live;
    items = "SELECT key, value FROM " + t + " WHERE " + live + " ORDER BY key";
    clear = "DELETE FROM " + t;
    prune = "DELETE FROM " + t + " WHERE expires_ns <= ?9";
  }

  std::string row, check, drop_if, dump, dump_used, dump_absent,
      dump_absent_used, dump_version, dump_version_used, touch, evict, remove,
      list, size, items, clear, prune;
};

// Adds the cache columns and indexes to `table` if it lacks them.
Status AddCacheColumns(Connection& connection, const std::string& table,
                       const std::filesystem::path& path) {
  const std::string t = "\"" + table + "\"";
  auto exec = [&](const std::string& sql) -> Status {
    char* error = nullptr;
    const int rc =
        sqlite3_exec(connection.db(), sql.c_str(), nullptr, nullptr, &error);
    sqlite3_free(error);
    if (rc != SQLITE_OK) {
      return sqlite::SqliteError("open cache", path, connection.db(), rc);
    }
    return Status::OK();
  };
  auto has_columns = [&] {
    sqlite3_stmt* raw = nullptr;
    const std::string probe =
        "SELECT expires_ns, accessed FROM " + t + " LIMIT 0";
    const int rc =
        sqlite3_prepare_v2(connection.db(), probe.c_str(), -1, &raw, nullptr);
    sqlite3_finalize(raw);
    return rc == SQLITE_OK;
  };
  if (!has_columns()) {
    BACKENDS_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    Status added = Status::OK();
    if (!has_columns()) {  // Another process may have added them meanwhile.
      added = exec("ALTER TABLE " + t + " ADD COLUMN expires_ns INTEGER");
      if (added.ok()) {
        added = exec("ALTER TABLE " + t + " ADD COLUMN accessed INTEGER");
      }
    }
    if (!added.ok()) {
      static_cast<void>(exec("ROLLBACK"));
      return FailedPreconditionError(
          "open cache: sqlite " + path.string() + ": table " + table +
          ": cannot add the columns expires_ns, accessed (" +
          added.message() + ")");
    }
    BACKENDS_RETURN_IF_ERROR(exec("COMMIT"));
  }
  return exec("CREATE INDEX IF NOT EXISTS \"" + table + "_expires\" ON " + t +
              " (expires_ns) WHERE expires_ns IS NOT NULL;"
              "CREATE INDEX IF NOT EXISTS \"" +
              table + "_accessed\" ON " + t +
              " (accessed) WHERE accessed IS NOT NULL");
}

// What a lookup of one key found.
struct Found {
  enum State { kAbsent, kLive, kExpired } state = kAbsent;
  std::string value;  // When live and asked for.
  std::int64_t version = 0;
  std::optional<std::int64_t> expires_ns;
  KeyInfo info;  // When live, from Check.
};

// What both caches share: the rows, their expiry, limits and counters.
template <typename Base>
class SqliteExpiring : public Base {
 public:
  SqliteExpiring(std::unique_ptr<SqliteBackend> table, ExpiryOptions options,
                 std::unique_ptr<Connection> first)
      : Base(std::move(table)),
        clock_(options.clock ? std::move(options.clock) : DefaultClock()),
        timeout_(options.timeout),
        limits_(options.limits),
        settings_(cache_internal::WithoutClock(options)),
        sql_(Table().options().table),
        pool_(Table().path(), Table().options(), std::move(first)) {}

  Result<bool> remove(std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("remove", key));
    Forget(key);
    BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Prepared(sql_.remove));
    BindText(stmt, 1, key);
    sqlite3_bind_int64(stmt, 9, Now());
    int rc = Step(stmt);
    if (rc == SQLITE_DONE) return false;
    if (rc != SQLITE_ROW) return Error("remove", key, *connection, rc);
    const bool live = sqlite3_column_int(stmt, 0) != 0;
    rc = sqlite3_step(stmt);
    Forget(key);
    if (rc != SQLITE_DONE) return Error("remove", key, *connection, rc);
    return live;
  }

  Result<std::vector<std::string>> list(std::string_view prefix) override {
    BACKENDS_ASSIGN_OR_RETURN(KeyPage page, ListKeys(prefix, "", 0));
    return std::move(page.keys);
  }

  Result<KeyPage> list_page(std::string_view prefix,
                            std::string_view start_after,
                            std::size_t limit) override {
    return ListKeys(prefix, start_after, std::max<std::size_t>(limit, 1));
  }

  Result<EntryPage> list_entries(const ListRequest& request) override {
    return Backend::list_entries(request);  // From this layer's list, stat.
  }

  Result<std::optional<KeyInfo>> stat(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(Found found, Check("stat", key));
    if (found.state != Found::kLive) return std::optional<KeyInfo>();
    return std::optional<KeyInfo>(found.info);
  }

  Result<bool> contains(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(Found found, Check("contains", key));
    return found.state == Found::kLive;
  }

  Result<std::size_t> size() override {
    BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Prepared(sql_.size));
    sqlite3_bind_int64(stmt, 9, Now());
    const int rc = Step(stmt);
    if (rc != SQLITE_ROW) return Error("size", "", *connection, rc);
    return static_cast<std::size_t>(sqlite3_column_int64(stmt, 0));
  }

  Status clear() override {
    ForgetAll();
    BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Prepared(sql_.clear));
    const int rc = Step(stmt);
    ForgetAll();
    if (rc != SQLITE_DONE) return Error("clear", "", *connection, rc);
    return Status::OK();
  }

  Result<std::size_t> prune() override {
    BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Prepared(sql_.prune));
    sqlite3_bind_int64(stmt, 9, Now());
    const int rc = Step(stmt);
    if (rc != SQLITE_DONE) return Error("prune", "", *connection, rc);
    const auto pruned =
        static_cast<std::size_t>(sqlite3_changes64(connection->db()));
    counters_.expirations += pruned;
    return pruned;
  }

  CacheStats stats() const override { return counters_.Snapshot(); }
  std::chrono::seconds timeout() const override { return timeout_; }
  ExpiryOptions settings() const override { return settings_; }

 protected:
  SqliteBackend& Table() const {
    return static_cast<SqliteBackend&>(this->inner());
  }
  std::int64_t Now() const { return Ns(clock_->now()); }
  bool limited() const {
    return limits_.max_entries != 0 || limits_.max_bytes != 0;
  }

  // Called when a key's row goes away or changes (decoded copies).
  virtual void Forget(std::string_view) {}
  virtual void ForgetAll() {}

  Status Error(std::string_view operation, std::string_view key,
               Connection& connection, int rc) const {
    std::string context(operation);
    if (!key.empty()) {
      // Appended: " " + QuoteKey(key) draws g++ 12's false -Wrestrict at -O3.
      context += ' ';
      context += QuoteKey(key);
    }
    return sqlite::SqliteError(context, Table().path(), connection.db(), rc);
  }

  // The row under `key`: live (with its value if `with_value`), absent, or
  // expired (then deleted if unchanged, and counted).
  Result<Found> Lookup(Connection& connection, std::string_view operation,
                       std::string_view key, bool with_value) {
    BACKENDS_RETURN_IF_ERROR(ValidateKey(operation, key));
    Found found;
    {
      BACKENDS_ASSIGN_OR_RETURN(
          Stmt stmt, connection.Prepared(with_value ? sql_.row : sql_.check));
      BindText(stmt, 1, key);
      const int rc = Step(stmt);
      if (rc == SQLITE_DONE) return found;
      if (rc != SQLITE_ROW) return Error(operation, key, connection, rc);
      if (with_value) {
        found.expires_ns = NullableInt(stmt, 1);
        found.version = sqlite3_column_int64(stmt, 2);
      } else {
        found.expires_ns = NullableInt(stmt, 0);
        found.version = sqlite3_column_int64(stmt, 1);
        found.info.size = static_cast<std::uint64_t>(
            std::max<sqlite3_int64>(0, sqlite3_column_int64(stmt, 2)));
        found.info.modified = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::nanoseconds(sqlite3_column_int64(stmt, 3))));
        found.info.version = std::to_string(found.version);
      }
      if (!found.expires_ns || *found.expires_ns > Now()) {
        found.state = Found::kLive;
        if (with_value) found.value = ColumnBytes(stmt, 0);
        return found;
      }
    }
    BACKENDS_ASSIGN_OR_RETURN(Stmt drop, connection.Prepared(sql_.drop_if));
    BindText(drop, 1, key);
    sqlite3_bind_int64(drop, 2, found.version);
    const int rc = Step(drop);
    if (rc != SQLITE_DONE) return Error(operation, key, connection, rc);
    Forget(key);
    if (sqlite3_changes(connection.db()) > 0) {
      ++counters_.expirations;
      found.state = Found::kExpired;
      return found;
    }
    return Found{};  // Changed meanwhile: as if absent now.
  }

  Result<Found> Check(std::string_view operation, std::string_view key) {
    BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
    return Lookup(*connection, operation, key, false);
  }

  // A load's row, counted as a hit (and marked used) or a miss.
  Result<Found> LoadRow(Connection& connection, std::string_view key) {
    BACKENDS_ASSIGN_OR_RETURN(Found found,
                              Lookup(connection, "load", key, true));
    Counted(key, found);
    return found;
  }

  void Counted(std::string_view key, const Found& found) {
    if (found.state != Found::kLive) {
      ++counters_.misses;
      return;
    }
    ++counters_.hits;
    if (limited()) static_cast<void>(Touch(key));
  }

  // Marks `key` as just used (limits only).
  Status Touch(std::string_view key) {
    BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Prepared(sql_.touch));
    BindText(stmt, 1, key);
    const int rc = Step(stmt);
    if (rc != SQLITE_DONE) return Error("load", key, *connection, rc);
    return Status::OK();
  }

  // Writes `stored` under `key` expiring `timeout` from now; returns the
  // row's version.
  Result<std::int64_t> Write(std::string_view key, std::string_view stored,
                             std::chrono::seconds timeout,
                             const WriteCondition& condition = {}) {
    if (timeout < std::chrono::seconds::zero()) {
      return InvalidArgumentError("dump " + QuoteKey(key) +
                                  ": negative timeout " +
                                  std::to_string(timeout.count()) + " s");
    }
    BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
    const auto max = static_cast<std::uint64_t>(
        sqlite3_limit(connection->db(), SQLITE_LIMIT_LENGTH, -1));
    if (stored.size() + 1'000'000 > max) {
      return InvalidArgumentError(
          "dump " + QuoteKey(key) + ": a value of " +
          std::to_string(stored.size()) +
          " bytes is larger than a sqlite cache holds (nothing written)");
    }
    const std::int64_t now = Now();
    const std::int64_t version = RandomVersion();
    const std::string& sql =
        condition.if_absent
            ? (limited() ? sql_.dump_absent_used : sql_.dump_absent)
        : condition.if_version
            ? (limited() ? sql_.dump_version_used : sql_.dump_version)
            : (limited() ? sql_.dump_used : sql_.dump);
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Prepared(sql));
    BindText(stmt, 1, key);
    sqlite3_bind_int64(stmt, 2, now);
    sqlite3_bind_int64(stmt, 3, version);
    BindBlob(stmt, 4, stored);
    if (condition.if_absent || condition.if_version) {
      // A version we did not make (not a number) matches no row.
      std::int64_t wanted = -1;
      if (condition.if_version) {
        const std::string& text = *condition.if_version;
        std::from_chars(text.data(), text.data() + text.size(), wanted);
      }
      sqlite3_bind_int64(stmt, 6, wanted);
      sqlite3_bind_int64(stmt, 9, now);
    }
    const auto nanos =
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::min(timeout, std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::nanoseconds::max())))
            .count();
    if (timeout != kNeverExpires &&
        nanos <= std::numeric_limits<std::int64_t>::max() - now) {
      sqlite3_bind_int64(stmt, 5, now + nanos);
    }  // Else NULL: never expires.
    int rc = Step(stmt);
    // Again after the commit: a copy made meanwhile on this connection
    // would not see this write change its data_version.
    Forget(key);
    if (rc != SQLITE_DONE) return Error("dump", key, *connection, rc);
    if ((condition.if_absent || condition.if_version) &&
        sqlite3_changes64(connection->db()) == 0) {
      return ConditionFailed(*connection, key, condition);
    }
    if (!limited()) return version;
    BACKENDS_ASSIGN_OR_RETURN(Stmt evict, connection->Prepared(sql_.evict));
    BindText(evict, 1, key);
    sqlite3_bind_int64(evict, 2, static_cast<sqlite3_int64>(limits_.max_entries));
    sqlite3_bind_int64(evict, 3, static_cast<sqlite3_int64>(limits_.max_bytes));
    rc = Step(evict);
    if (rc != SQLITE_DONE) return Error("dump", key, *connection, rc);
    counters_.evictions += static_cast<std::uint64_t>(
        sqlite3_changes64(connection->db()));
    // The evicted keys are not known here: drop every decoded copy.
    if (sqlite3_changes64(connection->db()) > 0) ForgetAll();
    return version;
  }

  // The error of a conditional write that changed no row, naming what the
  // key holds now.
  Status ConditionFailed(Connection& connection, std::string_view key,
                         const WriteCondition& condition) {
    BACKENDS_ASSIGN_OR_RETURN(Found found,
                              Lookup(connection, "dump_if", key, false));
    std::optional<std::string> current;
    if (found.state == Found::kLive) current = found.info.version;
    Status status = CheckWriteCondition(key, condition, current);
    if (!status.ok()) return status;
    // It changed again since: still, this write did not happen.
    return FailedPreconditionError("dump_if " + QuoteKey(key) +
                                   ": precondition failed: the value changed");
  }

  // Live rows' keys and values, one query.
  Result<std::vector<Backend::Entry>> LiveRows() {
    BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Prepared(sql_.items));
    sqlite3_bind_int64(stmt, 9, Now());
    std::vector<Backend::Entry> out;
    int rc;
    for (rc = Step(stmt); rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
      out.emplace_back(ColumnBytes(stmt, 0), ColumnBytes(stmt, 1));
    }
    if (rc != SQLITE_DONE) return Error("items", "", *connection, rc);
    return out;
  }

  const std::shared_ptr<Clock> clock_;
  const std::chrono::seconds timeout_;
  const CacheLimits limits_;
  const ExpiryOptions settings_;
  const CacheSql sql_;
  ConnectionPool pool_;
  Counters counters_;

 private:
  Result<KeyPage> ListKeys(std::string_view prefix,
                           std::string_view start_after, std::size_t limit) {
    BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt, connection->Prepared(sql_.list));
    const std::string upper = std::string(prefix) + kAfterEveryKey;
    BindText(stmt, 1, std::max(prefix, start_after));
    BindText(stmt, 2, upper);
    BindText(stmt, 3, start_after);
    sqlite3_bind_int64(stmt, 4,
                       limit == 0 ? -1 : static_cast<sqlite3_int64>(limit) + 1);
    sqlite3_bind_int64(stmt, 9, Now());
    KeyPage page;
    const int rc = sqlite::ReadKeys(stmt, limit, page);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return Error("list", prefix, *connection, rc);
    }
    return page;
  }
};

class SqliteTextCache final : public SqliteExpiring<ExpiringBackend> {
 public:
  using SqliteExpiring::SqliteExpiring;

  Result<std::optional<std::string>> load(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
    BACKENDS_ASSIGN_OR_RETURN(Found found, LoadRow(*connection, key));
    if (found.state != Found::kLive) return std::optional<std::string>();
    return std::optional<std::string>(std::move(found.value));
  }

  Status dump(std::string_view key, std::string_view value) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
    return Write(key, value, timeout_).status();
  }

  Result<std::string> dump_if(std::string_view key, std::string_view value,
                              const WriteCondition& condition) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump_if", key));
    BACKENDS_ASSIGN_OR_RETURN(std::int64_t version,
                              Write(key, value, timeout_, condition));
    return std::to_string(version);
  }

  Result<std::vector<Entry>> items() override { return LiveRows(); }
};

class SqliteJsonCache final : public SqliteExpiring<JsonEnvelopeBackend> {
 public:
  SqliteJsonCache(std::unique_ptr<SqliteBackend> table, ExpiryOptions options,
                  std::unique_ptr<Connection> first)
      : SqliteExpiring(std::move(table), options, std::move(first)),
        format_(options.format),
        copy_bytes_(options.decoded_bytes) {}
  using JsonEnvelopeBackend::dump;

  Result<std::optional<Json>> load_json(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(auto shared, load_json_shared(key));
    if (!shared) return std::optional<Json>();
    return std::optional<Json>(*shared);
  }

  Result<std::shared_ptr<const Json>> load_json_shared(
      std::string_view key) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("load", key));
    BACKENDS_ASSIGN_OR_RETURN(auto connection, pool_.Acquire());
    // Read before the row: a commit after it changes what it reads next.
    std::int64_t seen = 0;
    if (copy_bytes_ != 0) {
      BACKENDS_ASSIGN_OR_RETURN(seen, DataVersion(*connection));
    }
    if (auto copy = FindCopy(key)) {
      const bool unchanged = copy->connection == &*connection &&
                             copy->data_version == seen &&
                             (!copy->expires_ns || *copy->expires_ns > Now());
      Found found;
      if (!unchanged) {
        BACKENDS_ASSIGN_OR_RETURN(found,
                                  Lookup(*connection, "load", key, false));
      }
      if (unchanged ||
          (found.state == Found::kLive && found.version == copy->version)) {
        Counted(key, Found{.state = Found::kLive});
        ++counters_.decoded_hits;
        if (!unchanged) {
          KeepCopy(key,
                   {copy->version, found.expires_ns, &*connection, seen,
                    copy->content},
                   copy->size);
        }
        return std::move(copy->content);
      }
    }
    BACKENDS_ASSIGN_OR_RETURN(Found found, LoadRow(*connection, key));
    if (found.state != Found::kLive) return std::shared_ptr<const Json>();
    BACKENDS_ASSIGN_OR_RETURN(auto content, Decode(key, found.value));
    auto shared = std::make_shared<const Json>(std::move(content));
    KeepCopy(key,
             {found.version, found.expires_ns, &*connection, seen, shared,
              found.value.size()},
             found.value.size());
    return shared;
  }

  Status dump_json(std::string_view key, const Json& value,
                   std::chrono::seconds timeout) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
    auto text = DumpJson(value, format_);
    if (!text.ok()) return text.status().WithContext("dump " + QuoteKey(key));
    Forget(key);
    return Write(key, *text, timeout).status();
  }

  Result<std::optional<std::string>> load(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(auto value, load_json_shared(key));
    if (!value) return std::optional<std::string>();
    auto text = DumpJson(*value, format_);
    if (!text.ok()) return text.status().WithContext("load " + QuoteKey(key));
    return std::optional<std::string>(std::move(text).value());
  }

  Status dump(std::string_view key, std::string_view value) override {
    return dump(key, value, timeout_);
  }

  Result<std::string> dump_if(std::string_view key, std::string_view value,
                              const WriteCondition& condition) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump_if", key));
    BACKENDS_ASSIGN_OR_RETURN(
        std::string text,
        cache_internal::ReformatJsonValue("dump_if", key, value, format_));
    Forget(key);
    BACKENDS_ASSIGN_OR_RETURN(std::int64_t version,
                              Write(key, text, timeout_, condition));
    return std::to_string(version);
  }

  Status dump(std::string_view key, std::string_view value,
              std::chrono::seconds timeout) override {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("dump", key));
    BACKENDS_ASSIGN_OR_RETURN(
        Json parsed, cache_internal::ParseJsonValue("dump", key, value));
    return dump_json(key, parsed, timeout);
  }

  Result<std::vector<Entry>> items() override {
    BACKENDS_ASSIGN_OR_RETURN(auto rows, LiveRows());
    for (auto& [key, value] : rows) {
      BACKENDS_ASSIGN_OR_RETURN(Json content, Decode(key, value));
      BACKENDS_ASSIGN_OR_RETURN(value, DumpJson(content, format_));
    }
    return rows;
  }

 protected:
  void Forget(std::string_view key) override {
    std::scoped_lock lock(mutex_);
    copies_.Erase(key);
  }
  void ForgetAll() override {
    std::scoped_lock lock(mutex_);
    copies_.Clear();
  }

 private:
  // A decoded row. Current while its connection's data_version (which
  // every commit by another connection, in any process, changes) is
  // unchanged, or else while the row's version is.
  struct Copy {
    std::int64_t version = 0;
    std::optional<std::int64_t> expires_ns;
    const Connection* connection = nullptr;
    std::int64_t data_version = 0;
    std::shared_ptr<const Json> content;
    std::uint64_t size = 0;
  };

  Result<std::int64_t> DataVersion(Connection& connection) {
    BACKENDS_ASSIGN_OR_RETURN(Stmt stmt,
                              connection.Prepared("PRAGMA data_version"));
    const int rc = Step(stmt);
    if (rc != SQLITE_ROW) return Error("load", "", connection, rc);
    return sqlite3_column_int64(stmt, 0);
  }

  static Result<Json> Decode(std::string_view key, std::string_view stored) {
    auto content = ParseJson(stored);
    if (!content.ok()) {
      return DataLossError("load " + QuoteKey(key) +
                           ": stored value is not JSON: " +
                           content.status().message());
    }
    return std::move(content).value();
  }

  std::optional<Copy> FindCopy(std::string_view key) {
    std::scoped_lock lock(mutex_);
    auto* item = copies_.Use(key);
    if (item == nullptr) return std::nullopt;
    return item->value;
  }

  void KeepCopy(std::string_view key, Copy copy, std::uint64_t size) {
    if (size > copy_bytes_) return;
    copy.size = size;
    std::scoped_lock lock(mutex_);
    copies_.Insert(key, std::move(copy), size);
    while (copies_.bytes() > copy_bytes_) copies_.PopOldest();
  }

  const JsonFormat format_;
  const std::uint64_t copy_bytes_;
  std::mutex mutex_;
  UseOrder<Copy> copies_;  // Guarded by mutex_.
};

template <typename Layer, typename Interface>
Result<std::unique_ptr<Interface>> NewLayer(
    std::unique_ptr<SqliteBackend> table, ExpiryOptions options) {
  if (table == nullptr) return InvalidArgumentError("sqlite cache: no table");
  if (options.timeout < std::chrono::seconds::zero()) {
    return InvalidArgumentError("sqlite cache: negative timeout " +
                                std::to_string(options.timeout.count()) + " s");
  }
  BACKENDS_ASSIGN_OR_RETURN(
      auto first, Connection::Open(table->path(), table->options(), false));
  BACKENDS_RETURN_IF_ERROR(
      AddCacheColumns(*first, table->options().table, table->path()));
  return std::unique_ptr<Interface>(std::make_unique<Layer>(
      std::move(table), std::move(options), std::move(first)));
}

ExpiryOptions ToExpiry(CacheOptions options) {
  return ExpiryOptions{.timeout = options.timeout,
                       .clock = std::move(options.clock),
                       .limits = options.limits,
                       .format = options.format,
                       .decoded_bytes = options.decoded_bytes};
}

}  // namespace

Result<std::unique_ptr<JsonEnvelopeBackend>> NewSqliteJsonCacheBackend(
    std::unique_ptr<SqliteBackend> table, ExpiryOptions options) {
  return NewLayer<SqliteJsonCache, JsonEnvelopeBackend>(std::move(table),
                                                        std::move(options));
}

Result<std::unique_ptr<ExpiringBackend>> NewSqliteTextCacheBackend(
    std::unique_ptr<SqliteBackend> table, ExpiryOptions options) {
  return NewLayer<SqliteTextCache, ExpiringBackend>(std::move(table),
                                                    std::move(options));
}

Result<JsonCache> OpenSqliteJsonCache(std::filesystem::path path,
                                      SqliteOptions store,
                                      CacheOptions cache) {
  BACKENDS_ASSIGN_OR_RETURN(auto table,
                            NewSqliteBackend(std::move(path), std::move(store)));
  const JsonFormat format = cache.format;
  BACKENDS_ASSIGN_OR_RETURN(
      auto layer,
      NewSqliteJsonCacheBackend(std::move(table), ToExpiry(std::move(cache))));
  return JsonCache::Over(std::move(layer), format);
}

Result<TextCache> OpenSqliteTextCache(std::filesystem::path path,
                                      SqliteOptions store,
                                      CacheOptions cache) {
  BACKENDS_ASSIGN_OR_RETURN(auto table,
                            NewSqliteBackend(std::move(path), std::move(store)));
  BACKENDS_ASSIGN_OR_RETURN(
      auto layer,
      NewSqliteTextCacheBackend(std::move(table), ToExpiry(std::move(cache))));
  return TextCache::Over(std::move(layer));
}

}  // namespace backends

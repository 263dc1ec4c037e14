// SqliteBackend: the conformance suite, then what is the store's own: URLs,
// shared files, the documented schema read by Python's sqlite3, bad files
// left untouched, large streams, hostile keys and listings with delimiters.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "backends/open.h"
#include "backends/sqlite.h"
#include "backends/view.h"
#include "conformance/backend_conformance.h"
#include "conformance/view_adapter.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

FactoryResult MakeSqlite(const fs::path& dir, SqliteOptions options = {}) {
  BACKENDS_ASSIGN_OR_RETURN(
      auto store, NewSqliteBackend(dir / "store.db", std::move(options)));
  return std::unique_ptr<Backend>(std::move(store));
}

INSTANTIATE_TEST_SUITE_P(
    Sqlite, BackendConformanceTest,
    ::testing::Values(
        BackendFactory{
            .name = "Bytes",
            .make = [](const fs::path& dir) { return MakeSqlite(dir); },
            .extra_valid_keys = {"a//b", "./x", "x/../y", "/abs", "..",
                                 "'; DROP TABLE backends; --", "\"quoted\""},
        },
        BackendFactory{
            .name = "BytesDurableNamedTable",
            .make =
                [](const fs::path& dir) {
                  return MakeSqlite(dir, {.table = "t2", .durable = true});
                },
            .operations_per_thread = 50,
        },
        BackendFactory{
            .name = "Json",
            .make = [](const fs::path& dir) -> FactoryResult {
              BACKENDS_ASSIGN_OR_RETURN(auto store, MakeSqlite(dir));
              return std::unique_ptr<Backend>(
                  std::make_unique<ViewAsBackend<JsonCodec>>(
                      JsonBackend(std::move(store))));
            },
            .make_value = CanonicalJsonValue,
            .binary_values = false,
        }),
    BackendFactoryName);

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteBytes(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Detaches a mount when the test ends, however it ends.
struct Unmount {
  fs::path path;
  ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
};

class SqliteTest : public ::testing::Test {
 protected:
  ScopedTempDir temp_;
  fs::path db_ = temp_.path() / "data.db";
};

TEST_F(SqliteTest, UrlReopensTheSameTable) {
  auto opened = OpenBackend("sqlite://" + db_.string() + "?table=users");
  BACKENDS_ASSERT_OK(opened);
  BACKENDS_ASSERT_OK((*opened)->dump("k", "v"));
  const std::string url = (*opened)->url();
  EXPECT_EQ(url, "sqlite://" + db_.string() + "?table=users");
  auto again = OpenBackend(url);
  BACKENDS_ASSERT_OK(again);
  EXPECT_THAT((*again)->load("k"), IsOkAndHolds(Optional(std::string("v"))));
}

TEST_F(SqliteTest, RelativeUrlUsesTheWorkingFolderAndDefaultTable) {
  const fs::path before = fs::current_path();
  fs::current_path(temp_.path());
  auto opened = OpenBackend("sqlite://rel.db?durable=1");
  fs::current_path(before);
  BACKENDS_ASSERT_OK(opened);
  EXPECT_EQ((*opened)->url(),
            "sqlite://" + (temp_.path() / "rel.db").string() + "?durable=1");
  EXPECT_TRUE(fs::exists(temp_.path() / "rel.db"));
}

TEST_F(SqliteTest, BadUrlsAndTablesAreRefused) {
  EXPECT_THAT(OpenBackend("sqlite://" + db_.string() + "?tabel=x"),
              StatusIs(ErrorCode::kInvalidArgument));
  for (const std::string& table :
       std::vector<std::string>{"", "1x", "a-b", "a\"b", "sqlite_master",
                                std::string(65, 'a'), "x y"}) {
    EXPECT_THAT(NewSqliteBackend(db_, {.table = table}),
                StatusIs(ErrorCode::kInvalidArgument))
        << table;
  }
  EXPECT_FALSE(fs::exists(db_));
}

TEST_F(SqliteTest, TablesInOneFileAreSeparateStores) {
  auto a = NewSqliteBackend(db_, {.table = "a"});
  auto b = NewSqliteBackend(db_, {.table = "b"});
  BACKENDS_ASSERT_OK(a);
  BACKENDS_ASSERT_OK(b);
  BACKENDS_ASSERT_OK((*a)->dump("k", "in a"));
  BACKENDS_ASSERT_OK((*b)->dump("k", "in b"));
  BACKENDS_ASSERT_OK((*b)->dump("only-b", "x"));
  EXPECT_THAT((*a)->load("k"), IsOkAndHolds(Optional(std::string("in a"))));
  EXPECT_THAT((*a)->size(), IsOkAndHolds(1u));
  BACKENDS_ASSERT_OK((*b)->clear());
  EXPECT_THAT((*a)->size(), IsOkAndHolds(1u));
}

TEST_F(SqliteTest, MissingFileIsNotFoundWithoutCreate) {
  EXPECT_THAT(NewSqliteBackend(db_, {.create = false}),
              StatusIs(ErrorCode::kNotFound));
  EXPECT_FALSE(fs::exists(db_));
}

TEST_F(SqliteTest, NotADatabaseIsDataLossAndLeftByteIdentical) {
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "not a database, line " + std::to_string(i) + "\n";
  WriteBytes(db_, text);
  auto opened = NewSqliteBackend(db_);
  EXPECT_THAT(opened, StatusIs(ErrorCode::kDataLoss));
  EXPECT_THAT(opened.status().message(), HasSubstr(db_.string()));
  EXPECT_EQ(ReadBytes(db_), text);
  EXPECT_FALSE(fs::exists(db_.string() + "-wal"));
}

TEST_F(SqliteTest, CorruptDatabaseIsDataLossAndLeftByteIdentical) {
  {
    auto store = NewSqliteBackend(db_);
    BACKENDS_ASSERT_OK(store);
    for (int i = 0; i < 200; ++i) {
      BACKENDS_ASSERT_OK(
          (*store)->dump("k" + std::to_string(i), std::string(3000, 'v')));
    }
  }  // closing checkpoints the WAL into the file
  std::string bytes = ReadBytes(db_);
  ASSERT_GT(bytes.size(), 8192u);
  // Garbage over the schema page, past the 100-byte file header.
  for (std::size_t i = 100; i < 4096; ++i) bytes[i] = static_cast<char>(i * 7);
  WriteBytes(db_, bytes);
  auto opened = NewSqliteBackend(db_);
  EXPECT_THAT(opened, StatusIs(ErrorCode::kDataLoss));
  EXPECT_THAT(opened.status().message(), HasSubstr("corrupt"));
  EXPECT_EQ(ReadBytes(db_), bytes);
}

TEST_F(SqliteTest, CorruptTablePagesAreDataLossOnRead) {
  {
    auto store = NewSqliteBackend(db_);
    BACKENDS_ASSERT_OK(store);
    for (int i = 0; i < 200; ++i) {
      BACKENDS_ASSERT_OK(
          (*store)->dump("k" + std::to_string(i), std::string(3000, 'v')));
    }
  }
  std::string bytes = ReadBytes(db_);
  // Every page but the first (the schema) filled with garbage.
  for (std::size_t i = 4096; i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>(0xA5 ^ (i % 251));
  }
  WriteBytes(db_, bytes);
  auto store = NewSqliteBackend(db_);
  BACKENDS_ASSERT_OK(store);
  EXPECT_THAT((*store)->keys(), StatusIs(ErrorCode::kDataLoss));
  EXPECT_THAT((*store)->load("k1"), StatusIs(ErrorCode::kDataLoss));
  store->reset();
  EXPECT_EQ(ReadBytes(db_), bytes);
}

TEST_F(SqliteTest, ReadOnlyFileIsReported) {
  {
    auto store = NewSqliteBackend(db_);
    BACKENDS_ASSERT_OK(store);
    BACKENDS_ASSERT_OK((*store)->dump("k", "v"));
  }
  const std::string bytes = ReadBytes(db_);
  // As root, permission bits do not stop writes; the immutable-file open
  // flag does what a read-only file does for everyone else.
  ASSERT_EQ(::chmod(db_.c_str(), 0444), 0);
  if (::geteuid() == 0) {
    GTEST_SKIP() << "root ignores file permissions; read-only mounts are "
                    "covered by ReadOnlyFilesystemIsReported";
  }
  auto opened = NewSqliteBackend(db_);
  EXPECT_THAT(opened, StatusIs(ErrorCode::kPermissionDenied));
  EXPECT_THAT(opened.status().message(), HasSubstr(db_.string()));
  EXPECT_EQ(ReadBytes(db_), bytes);
}

TEST_F(SqliteTest, ReadOnlyFilesystemIsReported) {
  const fs::path mnt = temp_.path() / "mnt";
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=4m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                 << ")";
  }
  Unmount unmount{mnt};
  const fs::path db = mnt / "ro.db";
  {
    auto store = NewSqliteBackend(db);
    BACKENDS_ASSERT_OK(store);
    BACKENDS_ASSERT_OK((*store)->dump("k", "v"));
  }
  const std::string bytes = ReadBytes(db);
  ASSERT_EQ(
      ::mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, "size=4m"),
      0)
      << std::strerror(errno);
  auto opened = NewSqliteBackend(db);
  auto fresh = NewSqliteBackend(mnt / "new.db");
  EXPECT_THAT(opened, StatusIs(ErrorCode::kPermissionDenied))
      << opened.status().ToString();
  EXPECT_THAT(opened.status().message(), HasSubstr(db.string()));
  EXPECT_THAT(fresh, StatusIs(ErrorCode::kPermissionDenied))
      << fresh.status().ToString();
  EXPECT_THAT(fresh.status().message(), HasSubstr("new.db"));
}

TEST_F(SqliteTest, FullFilesystemIsIOErrorAndKeepsEveryValue) {
  const fs::path mnt = temp_.path() / "mnt";
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                 << ")";
  }
  Unmount unmount{mnt};
  auto store = NewSqliteBackend(mnt / "full.db");
  BACKENDS_ASSERT_OK(store);
  // A batch that does not fit fails as a whole: nothing of it is stored.
  std::vector<std::pair<std::string, std::string>> batch;
  for (int i = 0; i < 400; ++i) {
    batch.emplace_back("batch" + std::to_string(i), std::string(4000, 'b'));
  }
  EXPECT_THAT((*store)->dump_many(batch), StatusIs(ErrorCode::kIOError));
  EXPECT_THAT((*store)->size(), IsOkAndHolds(0u));
  Status failed;
  int written = 0;
  for (; written < 10000; ++written) {
    failed = (*store)->dump(
        "k" + std::to_string(written),
        std::string(4000, static_cast<char>('a' + written % 26)));
    if (!failed.ok()) break;
  }
  EXPECT_THAT(failed, StatusIs(ErrorCode::kIOError));
  EXPECT_THAT(failed.message(), HasSubstr("full.db"));
  for (int i = 0; i < written; ++i) {
    EXPECT_THAT((*store)->load("k" + std::to_string(i)),
                IsOkAndHolds(Optional(
                    std::string(4000, static_cast<char>('a' + i % 26)))));
  }
  EXPECT_THAT((*store)->contains("k" + std::to_string(written)),
              IsOkAndHolds(false));
}

TEST_F(SqliteTest, MissingFolderIsReported) {
  auto opened = NewSqliteBackend(temp_.path() / "no" / "such" / "x.db");
  EXPECT_THAT(opened, StatusIs(ErrorCode::kIOError));
  EXPECT_THAT(opened.status().message(), HasSubstr("x.db"));
}

TEST_F(SqliteTest, TableWithOtherColumnsIsRefused) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE backends (a, b)", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THAT(NewSqliteBackend(db_), StatusIs(ErrorCode::kFailedPrecondition));
}

TEST_F(SqliteTest, HostileKeysAreStoredExactly) {
  auto store = NewSqliteBackend(db_);
  BACKENDS_ASSERT_OK(store);
  const std::vector<std::string> keys = {"'",
                                         "''",
                                         "\"",
                                         "'); DROP TABLE backends; --",
                                         "%",
                                         "_",
                                         "a%b_c",
                                         "\\",
                                         "?1",
                                         ":name",
                                         "@x",
                                         "$y",
                                         "é",
                                         "日本語",
                                         "🙂",
                                         std::string(kMaxKeyBytes, 'k'),
                                         "key with spaces ",
                                         " "};
  for (const auto& key : keys) {
    BACKENDS_ASSERT_OK((*store)->dump(key, "value of " + key));
  }
  for (const auto& key : keys) {
    EXPECT_THAT((*store)->load(key), IsOkAndHolds(Optional("value of " + key)));
  }
  auto listed = (*store)->keys();
  BACKENDS_ASSERT_OK(listed);
  auto sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(*listed, sorted);
  // LIKE-style characters in a prefix are plain bytes.
  EXPECT_THAT((*store)->list("a%"), IsOkAndHolds(ElementsAre("a%b_c")));
  EXPECT_THAT((*store)->list("_"), IsOkAndHolds(ElementsAre("_")));
}

TEST_F(SqliteTest, StatAndListEntriesCarrySizeTimeAndVersion) {
  auto store = NewSqliteBackend(db_);
  BACKENDS_ASSERT_OK(store);
  const auto before = std::chrono::system_clock::now();
  BACKENDS_ASSERT_OK((*store)->dump("a/1", "12345"));
  auto first = (*store)->stat("a/1");
  BACKENDS_ASSERT_OK(first);
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->size, 5u);
  ASSERT_TRUE((*first)->modified.has_value());
  EXPECT_GE(*(*first)->modified, before);
  EXPECT_FALSE((*first)->version.empty());
  BACKENDS_ASSERT_OK((*store)->dump("a/1", "12345"));
  auto second = (*store)->stat("a/1");
  BACKENDS_ASSERT_OK(second);
  EXPECT_NE((*second)->version, (*first)->version);

  for (const char* key : {"a/2", "a/b/1", "a/b/2", "a/c/1", "b"}) {
    BACKENDS_ASSERT_OK((*store)->dump(key, key));
  }
  auto page = (*store)->list_entries({.prefix = "a/", .delimiter = "/"});
  BACKENDS_ASSERT_OK(page);
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].key, "a/1");
  EXPECT_EQ(page->entries[0].info.version, (*second)->version);
  EXPECT_EQ(page->entries[1].key, "a/2");
  EXPECT_EQ(page->entries[1].info.size, 3u);
  EXPECT_THAT(page->common_prefixes, ElementsAre("a/b/", "a/c/"));
  EXPECT_FALSE(page->more);

  // Page by page, one item each: the same order.
  std::vector<std::string> seen;
  ListRequest request{.prefix = "a/", .limit = 1, .delimiter = "/"};
  while (true) {
    auto one = (*store)->list_entries(request);
    BACKENDS_ASSERT_OK(one);
    for (const auto& e : one->entries) seen.push_back(e.key);
    for (const auto& p : one->common_prefixes) seen.push_back(p);
    if (!one->more) break;
    request.start_after = one->resume_after;
  }
  EXPECT_THAT(seen, ElementsAre("a/1", "a/2", "a/b/", "a/c/"));
}

// A source of `size` bytes made on the fly; declares its size or not.
class PatternSource : public ByteSource {
 public:
  PatternSource(std::uint64_t size, bool declare)
      : size_(size), declare_(declare) {}
  Result<std::size_t> Read(std::span<char> buffer) override {
    const auto n = static_cast<std::size_t>(
        std::min<std::uint64_t>(buffer.size(), size_ - offset_));
    for (std::size_t i = 0; i < n; ++i) {
      buffer[i] = static_cast<char>((offset_ + i) * 131 % 251);
    }
    offset_ += n;
    reads_++;
    return n;
  }
  std::optional<std::uint64_t> size() const override {
    if (declare_) return size_;
    return std::nullopt;
  }
  int reads_ = 0;

 private:
  std::uint64_t size_;
  bool declare_;
  std::uint64_t offset_ = 0;
};

class CheckingSink : public ByteSink {
 public:
  Status Write(std::string_view piece) override {
    for (char c : piece) {
      if (c != static_cast<char>(offset_ * 131 % 251)) ok_ = false;
      ++offset_;
    }
    largest_ = std::max(largest_, piece.size());
    return Status::OK();
  }
  std::uint64_t offset_ = 0;
  std::size_t largest_ = 0;
  bool ok_ = true;
};

TEST_F(SqliteTest, LargeStreamsRoundTripInPieces) {
  auto store = NewSqliteBackend(db_);
  BACKENDS_ASSERT_OK(store);
  for (bool declare : {true, false}) {
    const std::uint64_t size = (24u << 20) + 17;
    PatternSource source(size, declare);
    BACKENDS_ASSERT_OK((*store)->dump_stream("big", source));
    CheckingSink sink;
    EXPECT_THAT((*store)->load_stream("big", sink), IsOkAndHolds(true));
    EXPECT_EQ(sink.offset_, size);
    EXPECT_TRUE(sink.ok_);
    EXPECT_LT(sink.largest_, size);  // delivered in pieces
    auto info = (*store)->stat("big");
    BACKENDS_ASSERT_OK(info);
    EXPECT_EQ((*info)->size, size);
  }
}

TEST_F(SqliteTest, StreamLargerThanTheLimitIsRefusedBeforeReading) {
  auto store = NewSqliteBackend(db_);
  BACKENDS_ASSERT_OK(store);
  BACKENDS_ASSERT_OK((*store)->dump("big", "old"));
  PatternSource source(kSqliteMaxValueBytes + 1, true);
  auto status = (*store)->dump_stream("big", source);
  EXPECT_THAT(status, StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(status.message(), HasSubstr("larger than"));
  EXPECT_EQ(source.reads_, 0);
  EXPECT_THAT((*store)->load("big"),
              IsOkAndHolds(Optional(std::string("old"))));
}

TEST_F(SqliteTest, DumpManyStoresAllOrNothing) {
  auto store = NewSqliteBackend(db_);
  BACKENDS_ASSERT_OK(store);
  BACKENDS_ASSERT_OK((*store)->dump("a", "old"));
  std::vector<std::pair<std::string, std::string>> items = {
      {"a", "1"}, {"b", "2"}, {"a", "3"}};
  BACKENDS_ASSERT_OK((*store)->dump_many(items));
  EXPECT_THAT((*store)->load("a"), IsOkAndHolds(Optional(std::string("3"))));
  EXPECT_THAT((*store)->load("b"), IsOkAndHolds(Optional(std::string("2"))));
  items = {{"c", "x"}, {"bad\n", "y"}};
  EXPECT_THAT((*store)->dump_many(items),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT((*store)->contains("c"), IsOkAndHolds(false));
  EXPECT_THAT((*store)->size(), IsOkAndHolds(2u));
}

TEST_F(SqliteTest, PythonReadsTheDocumentedSchema) {
  {
    auto store = NewSqliteBackend(db_, {.table = "shared"});
    BACKENDS_ASSERT_OK(store);
    BACKENDS_ASSERT_OK((*store)->dump("b/é", std::string("\0\xff\x01", 3)));
    BACKENDS_ASSERT_OK((*store)->dump("a", "hello"));
    BACKENDS_ASSERT_OK((*store)->dump("empty", ""));
  }
  const fs::path script = temp_.path() / "read.py";
  WriteBytes(script,
             "import sqlite3, sys\n"
             "db = sqlite3.connect(sys.argv[1])\n"
             "rows = db.execute('SELECT key, modified_ns, version, value '\n"
             "                  'FROM shared ORDER BY key').fetchall()\n"
             "for key, mtime, version, value in rows:\n"
             "    assert isinstance(key, str) and isinstance(value, bytes)\n"
             "    assert mtime > 1.6e18 and version != 0\n"
             "    print(key, value.hex())\n");
  const std::string command =
      "/usr/bin/python3 " + script.string() + " " + db_.string();
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
  EXPECT_EQ(::pclose(pipe), 0);
  EXPECT_EQ(out, "a 68656c6c6f\nb/é 00ff01\nempty \n");
}

}  // namespace
}  // namespace backends::testing

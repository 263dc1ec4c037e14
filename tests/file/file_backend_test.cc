#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "backends/file.h"
#include "backends/open.h"
#include "conformance/backend_conformance.h"
#include "conformance/view_adapter.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;

// Keys the filesystem store rejects beyond ValidateKey.
const std::vector<std::string> kFileInvalidKeys = {
    "/abs",
    "..",
    ".",
    "a/..",
    "../escape",
    "a/../../b",
    "a//b",
    "trailing/",
    "./x",
    "x/./y",
    std::string(256, 's'),
    "ok/" + std::string(256, 's'),
    ".backends-tmp.1234",
    "d/.backends-tmp.x"};

template <typename Codec>
FactoryResult MakeView(const fs::path& root, FileOptions options = {}) {
  BACKENDS_ASSIGN_OR_RETURN(auto view,
                            FileSystemBackend<Codec>::Open(root, options));
  return std::unique_ptr<Backend>(
      std::make_unique<ViewAsBackend<Codec>>(std::move(view)));
}

INSTANTIATE_TEST_SUITE_P(
    File, BackendConformanceTest,
    ::testing::Values(
        BackendFactory{
            .name = "Bytes",
            .make = [](const fs::path& dir) -> FactoryResult {
              BACKENDS_ASSIGN_OR_RETURN(auto store,
                                        FileBackend::Open(dir / "root"));
              return std::unique_ptr<Backend>(std::move(store));
            },
            .extra_invalid_keys = kFileInvalidKeys,
        },
        BackendFactory{
            .name = "BytesDurable",
            .make = [](const fs::path& dir) -> FactoryResult {
              BACKENDS_ASSIGN_OR_RETURN(
                  auto store,
                  FileBackend::Open(dir / "root", {.durable = true}));
              return std::unique_ptr<Backend>(std::move(store));
            },
            .extra_invalid_keys = kFileInvalidKeys,
            .operations_per_thread = 50,
        },
        BackendFactory{
            .name = "Raw",
            .make = [](const fs::path& dir) { return MakeView<RawCodec>(dir); },
            .extra_invalid_keys = kFileInvalidKeys,
        },
        BackendFactory{
            .name = "Text",
            .make =
                [](const fs::path& dir) { return MakeView<TextCodec>(dir); },
            .make_value = Utf8TextValue,
            .binary_values = false,
            .extra_invalid_keys = kFileInvalidKeys,
        },
        BackendFactory{
            .name = "Json",
            .make =
                [](const fs::path& dir) { return MakeView<JsonCodec>(dir); },
            .make_value = CanonicalJsonValue,
            .binary_values = false,
            .extra_invalid_keys = kFileInvalidKeys,
        }),
    BackendFactoryName);

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const fs::path& path, std::string_view data) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << data;
}

std::string ToHex(std::uint64_t n) {
  char text[24];
  std::snprintf(text, sizeof text, "%llx", static_cast<unsigned long long>(n));
  return text;
}

class FileBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = temp_.path() / "root";
    outside_ = temp_.path() / "outside";
    fs::create_directories(outside_);
    WriteFile(outside_ / "secret", "outside");
    auto opened = FileBackend::Open(root_);
    ASSERT_THAT(opened, IsOk());
    store_ = std::move(opened).value();
  }

  // Everything under `outside_`, to prove nothing there changed.
  std::vector<std::string> OutsideListing() {
    std::vector<std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(outside_)) {
      out.push_back(entry.path().string() + "=" +
                    (entry.is_regular_file() ? ReadFile(entry.path()) : ""));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  ScopedTempDir temp_;
  fs::path root_;
  fs::path outside_;
  std::unique_ptr<FileBackend> store_;
};

TEST_F(FileBackendTest, KeyMapsToFileUnderRootWithoutExtension) {
  BACKENDS_ASSERT_OK(store_->dump("users/42", "v"));
  EXPECT_EQ(ReadFile(root_ / "users" / "42"), "v");
  EXPECT_THAT(store_->path("users/42"), IsOkAndHolds(root_ / "users" / "42"));
  EXPECT_THAT(store_->path("../x"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_EQ(store_->root(), root_);
}

TEST_F(FileBackendTest, FreshInstanceSeesExistingNestedKeys) {
  BACKENDS_ASSERT_OK(store_->dump("a/b/c", "1"));
  BACKENDS_ASSERT_OK(store_->dump("top", "2"));
  ASSERT_OK_AND_ASSIGN(auto other, FileBackend::Open(root_));
  EXPECT_THAT(other->keys(), IsOkAndHolds(ElementsAre("a/b/c", "top")));
  EXPECT_THAT(other->size(), IsOkAndHolds(2u));
  EXPECT_THAT(other->contains("a/b/c"), IsOkAndHolds(true));
  EXPECT_THAT(other->remove("a/b/c"), IsOkAndHolds(true));
  EXPECT_THAT(store_->keys(), IsOkAndHolds(ElementsAre("top")));
}

TEST_F(FileBackendTest, KeysWrittenByOtherProgramsAppear) {
  WriteFile(root_ / "external" / "file", "x");
  EXPECT_THAT(store_->keys(), IsOkAndHolds(ElementsAre("external/file")));
  EXPECT_THAT(store_->load("external/file"),
              IsOkAndHolds(Optional(std::string("x"))));
}

TEST_F(FileBackendTest, ValueWhereFolderIsNeededIsAConflict) {
  BACKENDS_ASSERT_OK(store_->dump("a", "value"));
  EXPECT_THAT(store_->dump("a/b", "x"),
              StatusIs(ErrorCode::kFailedPrecondition, HasSubstr("\"a\"")));
  EXPECT_THAT(store_->load("a"), IsOkAndHolds(Optional(std::string("value"))));
  EXPECT_THAT(store_->load("a/b"), IsOkAndHolds(::testing::Eq(std::nullopt)));
  EXPECT_THAT(store_->remove("a/b"), IsOkAndHolds(false));
}

TEST_F(FileBackendTest, FolderWhereValueIsNeededIsAConflict) {
  BACKENDS_ASSERT_OK(store_->dump("x/y", "value"));
  EXPECT_THAT(store_->dump("x", "v"), StatusIs(ErrorCode::kFailedPrecondition));
  EXPECT_THAT(store_->load("x/y"),
              IsOkAndHolds(Optional(std::string("value"))));
  EXPECT_THAT(store_->load("x"), IsOkAndHolds(::testing::Eq(std::nullopt)));
  EXPECT_THAT(store_->remove("x"), IsOkAndHolds(false));
  EXPECT_THAT(store_->keys(), IsOkAndHolds(ElementsAre("x/y")));
}

TEST_F(FileBackendTest, RemovePrunesEmptyFoldersButNeverTheRoot) {
  BACKENDS_ASSERT_OK(store_->dump("a/b/c", "1"));
  BACKENDS_ASSERT_OK(store_->dump("a/keep", "2"));
  EXPECT_THAT(store_->remove("a/b/c"), IsOkAndHolds(true));
  EXPECT_FALSE(fs::exists(root_ / "a" / "b"));
  EXPECT_TRUE(fs::exists(root_ / "a" / "keep"));
  EXPECT_THAT(store_->remove("a/keep"), IsOkAndHolds(true));
  EXPECT_FALSE(fs::exists(root_ / "a"));
  EXPECT_TRUE(fs::is_directory(root_));
  EXPECT_TRUE(fs::is_empty(root_));
}

TEST_F(FileBackendTest, TemporaryFilesAreNeverKeysAndClearRemovesThem) {
  BACKENDS_ASSERT_OK(store_->dump("k", "v"));
  WriteFile(root_ / ".backends-tmp.deadbeef", "half a val");
  WriteFile(root_ / "d" / ".backends-tmp.0123", "debris");
  EXPECT_THAT(store_->keys(), IsOkAndHolds(ElementsAre("k")));
  EXPECT_THAT(store_->size(), IsOkAndHolds(1u));
  BACKENDS_ASSERT_OK(store_->clear());
  EXPECT_TRUE(fs::is_empty(root_));
}

TEST_F(FileBackendTest, FoldersWithoutKeysAreNoCommonPrefixes) {
  BACKENDS_ASSERT_OK(store_->dump("full/deep/k", "v"));
  fs::create_directories(root_ / "empty" / "nested");
  WriteFile(root_ / "debris" / ".backends-tmp.0123", "half");
  fs::create_symlink(outside_ / "secret", root_ / "linked");
  fs::create_directories(root_ / "only-link");
  fs::create_symlink(outside_ / "secret", root_ / "only-link" / "x");
  ASSERT_OK_AND_ASSIGN(auto page, store_->list_entries({.delimiter = "/"}));
  EXPECT_THAT(page.entries, ::testing::IsEmpty());
  EXPECT_THAT(page.common_prefixes, ElementsAre("full/"));
  ASSERT_OK_AND_ASSIGN(auto flat, store_->list_entries({}));
  ASSERT_EQ(flat.entries.size(), 1u);
  EXPECT_EQ(flat.entries[0].key, "full/deep/k");
  // The version follows the file's stamp.
  ASSERT_OK_AND_ASSIGN(auto stamp, store_->stamp("full/deep/k"));
  ASSERT_TRUE(stamp.has_value());
  EXPECT_THAT(flat.entries[0].info.version,
              ::testing::HasSubstr("-" + ToHex(stamp->inode) + "-"));
}

TEST_F(FileBackendTest, DumpLeavesNoTemporaryFiles) {
  for (int i = 0; i < 20; ++i) {
    BACKENDS_ASSERT_OK(store_->dump("n/k" + std::to_string(i % 3), "v"));
  }
  for (const auto& entry : fs::recursive_directory_iterator(root_)) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".backends-tmp"))
        << entry.path();
  }
}

// A stamp changes with every write, by us or in place by another program;
// load_stamped hands one out only once the file's change time has settled.
TEST_F(FileBackendTest, StampsFollowEveryChange) {
  EXPECT_THAT(store_->stamp("k"), IsOkAndHolds(std::nullopt));
  BACKENDS_ASSERT_OK(store_->dump("d/k", "v1"));
  EXPECT_THAT(store_->stamp("d"), IsOkAndHolds(std::nullopt));  // A folder.
  ASSERT_OK_AND_ASSIGN(auto first, store_->stamp("d/k"));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->size, 2u);
  std::optional<FileStamp> settled;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!settled && std::chrono::steady_clock::now() < deadline) {
    ASSERT_OK_AND_ASSIGN(auto value, store_->load_stamped("d/k", settled));
    EXPECT_THAT(value, Optional(std::string("v1")));
  }
  ASSERT_TRUE(settled.has_value()) << "not settled in 5 s";
  EXPECT_EQ(*settled, *first);
  EXPECT_THAT(store_->stamp("d/k"), IsOkAndHolds(Optional(*first)));
  // In place: same inode, same size.
  WriteFile(root_ / "d" / "k", "v2");
  ASSERT_OK_AND_ASSIGN(auto second, store_->stamp("d/k"));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->inode, first->inode);
  EXPECT_NE(*second, *first);
  BACKENDS_ASSERT_OK(store_->dump("d/k", "v3"));
  EXPECT_THAT(store_->stamp("d/k"),
              IsOkAndHolds(::testing::Not(Optional(*second))));
  ASSERT_EQ(::symlink("k", (root_ / "d" / "link").c_str()), 0);
  EXPECT_THAT(store_->stamp("d/link"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->stamp("../outside/secret"),
              StatusIs(ErrorCode::kInvalidArgument));
}

// Fails after yielding some bytes.
class BrokenSource final : public ByteSource {
 public:
  Result<std::size_t> Read(std::span<char> buffer) override {
    if (calls_++ > 2) return IOError("source broke");
    std::fill(buffer.begin(), buffer.begin() + 1000, 'x');
    return std::size_t{1000};
  }

 private:
  int calls_ = 0;
};

TEST_F(FileBackendTest, FailedStreamedDumpLeavesNoTemporaryFile) {
  BACKENDS_ASSERT_OK(store_->dump("d/k", "old"));
  BrokenSource source;
  EXPECT_THAT(store_->dump_stream("d/k", source),
              StatusIs(ErrorCode::kIOError));
  EXPECT_EQ(ReadFile(root_ / "d" / "k"), "old");
  std::vector<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(root_)) {
    names.push_back(entry.path().lexically_relative(root_).string());
  }
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("d", "d/k"));
}

TEST_F(FileBackendTest, CorruptJsonIsReportedAndNeverDeleted) {
  WriteFile(root_ / "half", "{\"content\": [1, 2,");
  ASSERT_OK_AND_ASSIGN(auto json, FileSystemJsonBackend::Open(root_));
  EXPECT_THAT(json.load("half"),
              StatusIs(ErrorCode::kDataLoss, HasSubstr("load \"half\"")));
  EXPECT_EQ(ReadFile(root_ / "half"), "{\"content\": [1, 2,");
  EXPECT_THAT(json.contains("half"), IsOkAndHolds(true));
}

TEST_F(FileBackendTest, InvalidUtf8TextIsCorruptOnLoadAndRejectedOnDump) {
  WriteFile(root_ / "bad", "ok \xff\xfe");
  ASSERT_OK_AND_ASSIGN(auto text, FileSystemTextBackend::Open(root_));
  EXPECT_THAT(text.load("bad"), StatusIs(ErrorCode::kDataLoss));
  EXPECT_THAT(text.dump("new", "\xc3"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_FALSE(fs::exists(root_ / "new"));
  EXPECT_EQ(ReadFile(root_ / "bad"), "ok \xff\xfe");
}

TEST_F(FileBackendTest, PlantedSymlinkToOutsideIsNeverFollowed) {
  auto before = OutsideListing();
  fs::create_directory_symlink(outside_, root_ / "link");
  fs::create_symlink(outside_ / "secret", root_ / "leaf");
  EXPECT_THAT(
      store_->dump("link/secret", "pwned"),
      StatusIs(ErrorCode::kInvalidArgument, HasSubstr("symbolic link")));
  EXPECT_THAT(store_->dump("link/new/deeper", "pwned"),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(store_->load("leaf"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(store_->remove("leaf"), StatusIs(ErrorCode::kInvalidArgument));
  auto loaded = store_->load("link/secret");
  EXPECT_TRUE(!loaded.ok() || !loaded->has_value())
      << "read a file outside the root through a link";
  auto removed = store_->remove("link/secret");
  EXPECT_TRUE(!removed.ok() || !*removed);
  EXPECT_THAT(store_->keys(), IsOkAndHolds(IsEmpty()));
  BACKENDS_ASSERT_OK(store_->clear());
  EXPECT_EQ(OutsideListing(), before);
  EXPECT_TRUE(fs::exists(outside_ / "secret"));
}

TEST_F(FileBackendTest, FifoInRootDoesNotHangLoad) {
  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
  EXPECT_THAT(store_->load("fifo"), StatusIs(ErrorCode::kFailedPrecondition));
  // Short ranges learn the type from the read, longer ones from an fstat.
  for (std::uint64_t length : {std::uint64_t{1}, std::uint64_t{4096},
                               std::uint64_t{1} << 30, std::uint64_t{0}}) {
    EXPECT_THAT(store_->load_range("fifo", 0, length),
                StatusIs(ErrorCode::kFailedPrecondition,
                         HasSubstr("not a regular file")))
        << length;
  }
  EXPECT_THAT(store_->keys(), IsOkAndHolds(IsEmpty()));
}

TEST_F(FileBackendTest, RangesOfAFolderOrPastTheEndAreWhatLoadSays) {
  BACKENDS_ASSERT_OK(store_->dump("dir/inner", "0123456789"));
  for (std::uint64_t length : {std::uint64_t{1}, std::uint64_t{65536},
                               std::uint64_t{65537}, std::uint64_t{0}}) {
    EXPECT_THAT(store_->load_range("dir", 0, length),
                IsOkAndHolds(std::nullopt))
        << length;
    EXPECT_THAT(
        store_->load_range("dir/inner", 8, length),
        IsOkAndHolds(Optional(std::string("89").substr(
            0, static_cast<std::size_t>(std::min<std::uint64_t>(length, 2))))))
        << length;
    EXPECT_THAT(store_->load_range("dir/inner", 20, length),
                IsOkAndHolds(Optional(std::string())))
        << length;
  }
  // A short value read with a long short range keeps no spare capacity.
  ASSERT_OK_AND_ASSIGN(auto got, store_->load_range("dir/inner", 0, 65536));
  ASSERT_TRUE(got.has_value());
  EXPECT_LT(got->capacity(), 4096u);
}

TEST_F(FileBackendTest, OpenReportsBadRoots) {
  EXPECT_THAT(
      FileBackend::Open(temp_.path() / "missing", {.create_root = false}),
      StatusIs(ErrorCode::kNotFound));
  WriteFile(temp_.path() / "plain", "x");
  EXPECT_THAT(FileBackend::Open(temp_.path() / "plain"),
              StatusIs(ErrorCode::kInvalidArgument));
}

TEST_F(FileBackendTest, ReadOnlyFolderGivesPermissionErrorAndKeepsValue) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "root ignores folder permissions; the reliability suite "
                    "covers read-only filesystems";
  }
  BACKENDS_ASSERT_OK(store_->dump("k", "old"));
  fs::permissions(root_, fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THAT(store_->dump("k", "new"), StatusIs(ErrorCode::kPermissionDenied));
  fs::permissions(root_, fs::perms::owner_all);
  EXPECT_THAT(store_->load("k"), IsOkAndHolds(Optional(std::string("old"))));
}

TEST_F(FileBackendTest, UrlReopensTheSameStore) {
  BACKENDS_ASSERT_OK(store_->dump("k", "v"));
  ASSERT_OK_AND_ASSIGN(auto reopened, OpenBackend(store_->url()));
  EXPECT_THAT(reopened->load("k"), IsOkAndHolds(Optional(std::string("v"))));
  EXPECT_EQ(reopened->url(), store_->url());
}

TEST_F(FileBackendTest, StatGivesSizeAndModificationTime) {
  BACKENDS_ASSERT_OK(store_->dump("k", "12345"));
  ASSERT_OK_AND_ASSIGN(auto info, store_->stat("k"));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, 5u);
  ASSERT_TRUE(info->modified.has_value());
  auto age = std::chrono::system_clock::now() - *info->modified;
  EXPECT_LT(std::chrono::abs(age), std::chrono::minutes(5));
}

// The compatibility promise: a folder the original wrote loads unchanged,
// and our dump of the same values rewrites identical bytes.
class OriginalFormatTest : public FileBackendTest {
 protected:
  int RunScript(const std::string& mode, const fs::path& dir) {
    std::string command = "python3 '" BACKENDS_TEST_SOURCE_DIR
                          "/original_format.py' " +
                          mode + " '" + dir.string() + "'";
    return std::system(command.c_str());
  }
};

TEST_F(OriginalFormatTest, FolderWrittenByTheOriginalRoundTripsByteForByte) {
  fs::path original = temp_.path() / "original";
  fs::create_directories(original);
  ASSERT_EQ(RunScript("write", original), 0) << "python3 is needed";
  ASSERT_OK_AND_ASSIGN(auto theirs, FileSystemJsonBackend::Open(original));
  ASSERT_OK_AND_ASSIGN(auto ours, FileSystemJsonBackend::Open(root_));
  ASSERT_OK_AND_ASSIGN(auto keys, theirs.keys());
  EXPECT_EQ(keys.size(), 10u);
  for (const auto& key : keys) {
    SCOPED_TRACE(key);
    ASSERT_OK_AND_ASSIGN(auto value, theirs.load(key));
    ASSERT_TRUE(value.has_value());
    BACKENDS_ASSERT_OK(ours.dump(key, *value));
    EXPECT_EQ(ReadFile(root_ / key), ReadFile(original / key));
    BACKENDS_ASSERT_OK(theirs.dump(key, *value));  // Rewrite in place.
  }
  EXPECT_EQ(RunScript("verify", root_), 0) << "python3 rejected our files";
  EXPECT_EQ(RunScript("verify", original), 0) << "rewrite changed bytes";
}

}  // namespace
}  // namespace backends::testing

// Links planted inside the root: a symbolic link to a folder outside
// (relative and absolute), a symbolic link to a file outside, a hard link to
// a file outside, and a FIFO. Nothing outside may be read through a link,
// written or removed; every refusal is kInvalidArgument; list() and clear()
// never follow a link.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "backends/file.h"
#include "reliability/outside_snapshot.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::reliability {
namespace {

namespace fs = std::filesystem;
using backends::testing::IsOk;
using backends::testing::IsOkAndHolds;
using backends::testing::StatusIs;
using ::testing::Not;

class LinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path() / "root";
    outside_ = tmp_.path() / "outside";
    PlantFile(outside_ / "secret", "OUTSIDE secret");
    PlantFile(outside_ / "dir" / "deep", "OUTSIDE deep");
    PlantFile(root_ / "real" / "k", "inside");
    fs::create_symlink("../outside", root_ / "link");
    fs::create_symlink(outside_, root_ / "real" / "abslink");
    fs::create_symlink("../outside/secret", root_ / "filelink");
    fs::create_hard_link(outside_ / "secret", root_ / "hard");
    ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
    before_ = TakeSnapshot(outside_);
    ASSERT_OK_AND_ASSIGN(store_, FileBackend::Open(root_));
  }

  backends::testing::ScopedTempDir tmp_;
  fs::path root_, outside_;
  Snapshot before_;
  std::unique_ptr<FileBackend> store_;
};

TEST_F(LinkTest, FolderLinksAreNeverFollowed) {
  for (const char* key : {"link/secret", "link/dir/deep", "real/abslink/secret",
                          "link/new", "real/abslink/dir/new"}) {
    SCOPED_TRACE(key);
    EXPECT_THAT(store_->load(key).status(),
                StatusIs(ErrorCode::kInvalidArgument));
    EXPECT_THAT(store_->dump(key, "EVIL"),
                StatusIs(ErrorCode::kInvalidArgument));
    EXPECT_THAT(store_->remove(key).status(),
                StatusIs(ErrorCode::kInvalidArgument));
    EXPECT_THAT(store_->stat(key).status(),
                StatusIs(ErrorCode::kInvalidArgument));
  }
  EXPECT_EQ(TakeSnapshot(outside_), before_);
}

TEST_F(LinkTest, FileLinkIsRefusedOrReplacedNeverFollowed) {
  EXPECT_THAT(store_->load("filelink").status(),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(store_->remove("filelink").status(),
              StatusIs(ErrorCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(auto info, store_->stat("filelink"));
  EXPECT_FALSE(info.has_value()) << "stat followed the link";
  // dump replaces the link itself (rename), never writes through it.
  BACKENDS_ASSERT_OK(store_->dump("filelink", "new value"));
  EXPECT_FALSE(fs::is_symlink(root_ / "filelink"));
  EXPECT_THAT(store_->load("filelink"),
              IsOkAndHolds(std::optional<std::string>("new value")));
  EXPECT_EQ(TakeSnapshot(outside_), before_);
}

TEST_F(LinkTest, DumpOverAHardLinkLeavesTheOtherNameAlone) {
  // A hard link is the same file: reading it is unavoidable, but a dump
  // must replace the name (rename), not rewrite the shared inode.
  BACKENDS_ASSERT_OK(store_->dump("hard", "new value"));
  EXPECT_EQ(TakeSnapshot(outside_), before_);
  EXPECT_THAT(store_->remove("hard"), IsOkAndHolds(true));
  EXPECT_EQ(TakeSnapshot(outside_), before_);
}

TEST_F(LinkTest, FifoDoesNotHangALoad) {
  EXPECT_THAT(store_->load("fifo"), Not(IsOk()));
}

TEST_F(LinkTest, ListAndClearNeverFollowLinks) {
  ASSERT_OK_AND_ASSIGN(auto keys, store_->keys());
  EXPECT_THAT(keys, ::testing::ElementsAre("hard", "real/k"));
  BACKENDS_ASSERT_OK(store_->clear());
  EXPECT_TRUE(fs::is_empty(root_));
  EXPECT_EQ(TakeSnapshot(outside_), before_);
}

}  // namespace
}  // namespace backends::reliability

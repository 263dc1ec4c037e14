// Full and read-only disks.
//
// Injected faults (fault_shim.h): every step of a dump fails in turn with
// ENOSPC, EDQUOT, EIO or EROFS. The dump must fail with kIOError whose
// message names the operation, the key, the step and the errno; the
// previous value must be intact; no temporary file may be left.
//
// A real small filesystem: a 1 MiB tmpfs mounted for the test (we run as
// root in CI; where mount(2) is not permitted, that test is skipped with a
// message and the injected faults above still run): a dump that does not
// fit fails with ENOSPC, then the mount is remounted read-only and dump and
// remove fail with EROFS, with the same guarantees.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "backends/cache.h"
#include "backends/file.h"
#include "reliability/fault_shim.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::reliability {
namespace {

namespace fs = std::filesystem;
using backends::testing::IsOkAndHolds;
using backends::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

int CountTempFiles(const fs::path& root) {
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().filename().string().starts_with(kTempFilePrefix)) ++n;
  }
  return n;
}

const char* ErrnoName(int err) {
  switch (err) {
    case ENOSPC:
      return "ENOSPC";
    case EDQUOT:
      return "EDQUOT";
    case EIO:
      return "EIO";
    case EROFS:
      return "EROFS";
  }
  return "?";
}

struct FaultCase {
  FaultOp op;
  int err;
  int skip;           // calls of that kind to let through first
  bool durable;       // FileOptions::durable
  const char* key;    // "new/..." keys need a new folder
  const char* step;   // what the error message must name
  bool after_rename;  // the fault strikes once the new value is in place
};

std::vector<FaultCase> Cases() {
  std::vector<FaultCase> cases;
  for (int err : {ENOSPC, EDQUOT, EIO, EROFS}) {
    for (bool durable : {false, true}) {
      cases.push_back({FaultOp::kCreate, err, 0, durable, "d/k",
                       "create temporary file", false});
      cases.push_back(
          {FaultOp::kWrite, err, 0, durable, "d/k", "write", false});
      cases.push_back(
          {FaultOp::kClose, err, 0, durable, "d/k", "close", false});
      cases.push_back({FaultOp::kRename, err, 0, durable, "d/k",
                       "rename temporary file", false});
      cases.push_back({FaultOp::kMkdir, err, 0, durable, "new/d/k",
                       "create folder", false});
    }
    // Only a durable dump fsyncs: the file, then (after rename) its folder.
    cases.push_back({FaultOp::kFsync, err, 0, true, "d/k", "fsync", false});
    cases.push_back(
        {FaultOp::kFsync, err, 1, true, "d/k", "fsync folder", true});
  }
  return cases;
}

TEST(DiskFaultTest, EveryStepOfADumpFailsCleanly) {
  int tried = 0;
  for (const auto& c : Cases()) {
    SCOPED_TRACE(std::string(FaultOpName(c.op)) + " " + ErrnoName(c.err) +
                 (c.durable ? " durable" : "") + " " + c.key);
    backends::testing::ScopedTempDir tmp;
    ASSERT_OK_AND_ASSIGN(
        auto store,
        FileBackend::Open(tmp.path(), FileOptions{.durable = c.durable}));
    const bool has_old = !std::string_view(c.key).starts_with("new/");
    if (has_old) {
      BACKENDS_ASSERT_OK(store->dump(c.key, "old value"));
    }
    BACKENDS_ASSERT_OK(store->dump("d/other", "other"));
    std::uint64_t before = FaultsInjected();
    Status status;
    {
      ScopedFault fault(c.op, c.err, c.skip);
      status = store->dump(c.key, std::string(100000, 'n'));
      ASSERT_TRUE(fault.fired()) << "the fault was never reached";
    }
    ASSERT_EQ(FaultsInjected(), before + 1);
    EXPECT_THAT(
        status,
        StatusIs(ErrorCode::kIOError,
                 AllOf(HasSubstr("dump"), HasSubstr(QuoteKey(c.key)),
                       HasSubstr(c.step), HasSubstr(ErrnoName(c.err)))));
    ASSERT_OK_AND_ASSIGN(auto value, store->load(c.key));
    if (c.after_rename) {
      // The rename happened; only durability is unknown: the value is
      // complete, old or new.
      ASSERT_TRUE(value.has_value());
      EXPECT_TRUE(*value == "old value" || *value == std::string(100000, 'n'));
    } else if (has_old) {
      EXPECT_EQ(value, std::optional<std::string>("old value"));
    } else {
      EXPECT_EQ(value, std::nullopt);
    }
    EXPECT_THAT(store->load("d/other"),
                IsOkAndHolds(std::optional<std::string>("other")));
    EXPECT_EQ(CountTempFiles(tmp.path()), 0) << "temporary file left behind";
    // The store works again once the fault is gone.
    BACKENDS_ASSERT_OK(store->dump(c.key, "after"));
    ++tried;
  }
  std::printf(
      "disk faults: %d injected faults (create/write/close/rename/"
      "mkdir/fsync x ENOSPC/EDQUOT/EIO/EROFS), each a kIOError naming "
      "the key and errno, previous value intact, no temp file\n",
      tried);
}

TEST(DiskFaultTest, RemoveOnAReadOnlyDiskKeepsTheValue) {
  backends::testing::ScopedTempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto store, FileBackend::Open(tmp.path()));
  BACKENDS_ASSERT_OK(store->dump("d/k", "old value"));
  {
    ScopedFault fault(FaultOp::kUnlink, EROFS);
    EXPECT_THAT(store->remove("d/k").status(),
                StatusIs(ErrorCode::kIOError,
                         AllOf(HasSubstr("remove"), HasSubstr("EROFS"))));
    EXPECT_TRUE(fault.fired());
  }
  EXPECT_THAT(store->load("d/k"),
              IsOkAndHolds(std::optional<std::string>("old value")));
}

TEST(DiskFaultTest, JsonCacheDumpOnAFullDiskKeepsThePreviousEntry) {
  backends::testing::ScopedTempDir tmp;
  auto cache =
      JsonCache::Open(tmp.path(), CacheOptions{.timeout = kNeverExpires});
  ASSERT_TRUE(cache.ok()) << cache.status();
  BACKENDS_ASSERT_OK(cache->dump("user/1", Json{{"name", "old"}}));
  {
    ScopedFault fault(FaultOp::kWrite, ENOSPC);
    EXPECT_THAT(cache->dump("user/1", Json{{"name", "new"}}),
                StatusIs(ErrorCode::kIOError,
                         AllOf(HasSubstr("user/1"), HasSubstr("ENOSPC"))));
    EXPECT_TRUE(fault.fired());
  }
  ASSERT_OK_AND_ASSIGN(auto value, cache->load("user/1"));
  EXPECT_EQ(value, std::optional<Json>(Json{{"name", "old"}}));
  EXPECT_EQ(CountTempFiles(tmp.path()), 0);
}

// A real 1 MiB tmpfs, full and then read-only.
class SmallDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mnt_ = tmp_.path() / "mnt";
    fs::create_directories(mnt_);
    if (::mount("tmpfs", mnt_.c_str(), "tmpfs", 0, "size=1m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                   << "); the injected faults cover ENOSPC and EROFS";
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(mnt_.c_str(), MNT_DETACH);
  }

  backends::testing::ScopedTempDir tmp_;
  fs::path mnt_;
  bool mounted_ = false;
};

TEST_F(SmallDiskTest, FullThenReadOnly) {
  ASSERT_OK_AND_ASSIGN(auto store, FileBackend::Open(mnt_ / "store"));
  const std::string old_value(200 << 10, 'o');
  BACKENDS_ASSERT_OK(store->dump("d/k", old_value));
  BACKENDS_ASSERT_OK(store->dump("d/small", "small"));

  // 2 MiB cannot fit in 1 MiB.
  EXPECT_THAT(store->dump("d/k", std::string(2 << 20, 'n')),
              StatusIs(ErrorCode::kIOError,
                       AllOf(HasSubstr("\"d/k\""), HasSubstr("ENOSPC"))));
  EXPECT_THAT(store->load("d/k"),
              IsOkAndHolds(std::optional<std::string>(old_value)));
  EXPECT_EQ(CountTempFiles(mnt_), 0);
  // Fill the disk with new keys until it refuses, then check them all.
  int filled = 0;
  Status status;
  while (status.ok() && filled < 100) {
    status = store->dump("fill/" + std::to_string(filled), old_value);
    if (status.ok()) ++filled;
  }
  EXPECT_THAT(status, StatusIs(ErrorCode::kIOError, HasSubstr("ENOSPC")));
  EXPECT_EQ(CountTempFiles(mnt_), 0);
  ASSERT_OK_AND_ASSIGN(auto keys, store->keys());
  EXPECT_EQ(keys.size(), static_cast<std::size_t>(filled) + 2);
  // Freeing space makes the store work again.
  for (int i = 0; i < filled; ++i) {
    ASSERT_THAT(store->remove("fill/" + std::to_string(i)), IsOkAndHolds(true));
  }
  BACKENDS_ASSERT_OK(store->dump("d/small", "small 2"));

  // Read-only.
  ASSERT_EQ(::mount("tmpfs", mnt_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY,
                    "size=1m"),
            0)
      << std::strerror(errno);
  EXPECT_THAT(store->dump("d/k", "new"),
              StatusIs(ErrorCode::kIOError,
                       AllOf(HasSubstr("\"d/k\""), HasSubstr("EROFS"))));
  EXPECT_THAT(store->dump("new/k", "new"),
              StatusIs(ErrorCode::kIOError, HasSubstr("EROFS")));
  EXPECT_THAT(store->remove("d/small").status(),
              StatusIs(ErrorCode::kIOError, HasSubstr("EROFS")));
  EXPECT_THAT(store->load("d/k"),
              IsOkAndHolds(std::optional<std::string>(old_value)));
  EXPECT_THAT(store->load("d/small"),
              IsOkAndHolds(std::optional<std::string>("small 2")));
  EXPECT_EQ(CountTempFiles(mnt_), 0);
  std::printf(
      "small disk: real tmpfs of 1 MiB mounted; ENOSPC on a 2 MiB "
      "dump and after %d fills, EROFS after remount; values intact\n",
      filled);
}

}  // namespace
}  // namespace backends::reliability

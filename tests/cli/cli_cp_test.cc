// cp from a folder names what it does not copy and keeps file metadata:
// symbolic links, FIFOs, names that are not keys and our temporary files
// are counted and named as skipped; permission bits and modification times
// survive a folder-to-folder copy.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

struct stat StatOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

TEST(CliCpTest, NamesTheFilesItSkipsAndKeepsModesAndTimes) {
  ScopedTempDir dir;
  const fs::path source = dir.path() / "src";
  WriteFile(source / "plain", "p");
  WriteFile(source / "secret", "s");
  fs::permissions(source / "secret",
                  fs::perms::owner_read | fs::perms::owner_write);
  WriteFile(source / "bin" / "run.sh", "#!/bin/sh\n");
  fs::permissions(source / "bin" / "run.sh",
                  fs::perms::owner_all | fs::perms::group_read |
                      fs::perms::group_exec | fs::perms::others_read |
                      fs::perms::others_exec);
  const struct timespec old_times[2] = {{1'000'000'000, 0},
                                        {1'000'000'000, 123'456'789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (source / "plain").c_str(), old_times, 0), 0);
  fs::create_symlink("plain", source / "link");
  ASSERT_EQ(::mkfifo((source / "fifo").c_str(), 0644), 0);
  WriteFile(source / "bad\xff", "not UTF-8");
  WriteFile(source / ".backends-tmp.0123", "debris");

  CliResult r = RunCli(dir.path(), {"cp", "src", "dst"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("cp: 3 copied, 0 unchanged, 4 skipped, "
                               "0 failed\n"));
  EXPECT_THAT(r.err, HasSubstr("skipped \"link\": a symbolic link"));
  EXPECT_THAT(r.err, HasSubstr("skipped \"fifo\": not a regular file"));
  EXPECT_THAT(r.err, HasSubstr("invalid key"));
  EXPECT_THAT(r.err, HasSubstr("skipped \".backends-tmp.0123\": a temporary"));

  const fs::path copy = dir.path() / "dst";
  EXPECT_EQ(StatOf(copy / "secret").st_mode & 07777, 0600u);
  EXPECT_EQ(StatOf(copy / "bin" / "run.sh").st_mode & 07777, 0755u);
  const struct stat plain = StatOf(copy / "plain");
  EXPECT_EQ(plain.st_mtim.tv_sec, 1'000'000'000);
  EXPECT_EQ(plain.st_mtim.tv_nsec, 123'456'789);
  EXPECT_FALSE(fs::exists(fs::symlink_status(copy / "link")));
  EXPECT_FALSE(fs::exists(copy / "fifo"));
  // --quiet drops the summary, not the names of the skipped files.
  CliResult quiet = RunCli(dir.path(), {"cp", "-q", "src", "dst"});
  EXPECT_EQ(quiet.exit_code, 0);
  EXPECT_THAT(quiet.err, HasSubstr("skipped \"link\""));
  EXPECT_THAT(quiet.err, Not(HasSubstr("copied")));
}

}  // namespace
}  // namespace backends::testing

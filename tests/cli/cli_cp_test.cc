// cp from a folder names what it does not copy and keeps file metadata:
// symbolic links, FIFOs, names that are not keys and our temporary files
// are counted and named as skipped; permission bits and modification times
// survive a folder-to-folder copy. cp into a folder removes the temporary
// files that killed writers left there, never a live writer's.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
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

TEST(CliCpTest, ASourceOrDestinationReachedThroughALinkIsWalked) {
  ScopedTempDir dir;
  WriteFile(dir.path() / "src" / "a" / "k", "v");
  fs::create_directory_symlink("src", dir.path() / "src-link");
  fs::create_directory(dir.path() / "dst");
  fs::create_directory_symlink("dst", dir.path() / "dst-link");
  CliResult r = RunCli(dir.path(), {"cp", "src-link", "dst-link"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("cp: 1 copied"));
  CliResult again =
      RunCli(dir.path(), {"cp", "--update", "src-link", "dst-link"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("cp: 0 copied, 1 unchanged"));
  EXPECT_EQ(ReadFile(dir.path() / "dst" / "a" / "k"), "v");
}

// libfaketime, which runs the tool with its clock ahead (the sweep removes
// only files a minute old, which a test cannot wait for); empty when the
// Debian package faketime is not installed.
std::string FakeTimeLibrary() {
  for (const char* path :
       {"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/faketime/libfaketime.so.1"}) {
    if (fs::exists(path)) return path;
  }
  return "";
}

// Waits (up to a minute) until `count` temporary files are under `root`.
bool WaitForTempFiles(const fs::path& root, std::size_t count) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (TempFilesUnder(root).size() < count) {
    if (std::chrono::steady_clock::now() > deadline) return false;
  }
  return true;
}

TEST(CliCpTest, RemovesTheTemporaryFilesOfKilledWritersOnly) {
  const std::string faketime = FakeTimeLibrary();
  if (faketime.empty()) {
    GTEST_SKIP() << "needs libfaketime (Debian package faketime) to run the "
                    "tool past the sweep's one-minute age";
  }
  ScopedTempDir dir;
  const fs::path dst = dir.path() / "dst";
  const std::string dst_url = "file://" + dst.string();
  WriteFile(dir.path() / "src" / "d" / "new", "n");
  WriteFile(dst / "d" / "old", "o");
  // `put -f FIFO` fed part of a value has its temporary file in d/, locked
  // while it lives; SIGKILL leaves the file behind, unlocked.
  auto kill_a_writer = [&](const std::string& key, std::size_t temp_files) {
    FifoFeeder fifo(dir.path() / (key + ".fifo"));
    CliProcess put({.args = {"put", dst_url, "d/" + key, "-f", key + ".fifo"},
                    .cwd = dir.path()});
    ASSERT_TRUE(fifo.Open()) << "put never opened the FIFO";
    fifo.Write(std::size_t{1} << 16, 'x');
    ASSERT_TRUE(WaitForTempFiles(dst, temp_files)) << "put wrote nothing";
    ASSERT_EQ(::kill(put.pid(), SIGKILL), 0);
    EXPECT_EQ(put.Wait().exit_code, 128 + SIGKILL);
  };
  kill_a_writer("dead1", 1);
  const std::vector<std::string> dead = TempFilesUnder(dst);
  ASSERT_EQ(dead.size(), 1u);
  FifoFeeder live_fifo(dir.path() / "live.fifo");
  CliProcess live({.args = {"put", dst_url, "d/live", "-f", "live.fifo"},
                   .cwd = dir.path()});
  ASSERT_TRUE(live_fifo.Open()) << "put never opened the FIFO";
  live_fifo.Write(std::size_t{1} << 16, 'y');
  ASSERT_TRUE(WaitForTempFiles(dst, 2)) << "put wrote nothing";
  std::vector<std::string> live_temp = TempFilesUnder(dst);
  std::erase(live_temp, dead[0]);
  ASSERT_EQ(live_temp.size(), 1u);

  // Made just now: too young to be provably abandoned.
  CliResult young = RunCli(dir.path(), {"cp", "src", "dst"});
  EXPECT_EQ(young.exit_code, 0) << young.err;
  EXPECT_THAT(young.err, Not(HasSubstr("temporary file")));
  EXPECT_EQ(TempFilesUnder(dst).size(), 2u);

  // Ten minutes later, by the tool's clock: plain cp sweeps before copying,
  // cp --update after its walk of the destination saw the file.
  // (NO_FAKE_STAT: the files' own times stay true.)
  std::vector<std::string> later = {
      "LD_PRELOAD=" + faketime, "FAKETIME=+600", "NO_FAKE_STAT=1",
      "FAKETIME_DONT_FAKE_MONOTONIC=1"};
#if defined(__SANITIZE_ADDRESS__)
  // libfaketime is preloaded ahead of ASan's runtime, which then refuses
  // to start unless told that this order is meant.
  const char* asan = std::getenv("ASAN_OPTIONS");
  later.push_back(std::string("ASAN_OPTIONS=") + (asan ? asan : "") +
                  ":verify_asan_link_order=0");
#endif
  for (bool update : {false, true}) {
    if (update) kill_a_writer("dead2", 2);
    std::vector<std::string> args = {"cp", "src", "dst"};
    if (update) args.push_back("--update");
    CliResult r = RunCli({.args = args, .cwd = dir.path(), .env = later});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("backends: cp: removed 1 temporary file(s) "
                                 "left by killed writers\n"));
    EXPECT_EQ(TempFilesUnder(dst), live_temp) << "update " << update;
    if (update) {
      EXPECT_THAT(r.err, HasSubstr("cp: 0 copied, 1 unchanged"));
    }
  }
  EXPECT_EQ(ReadFile(dst / "d" / "new"), "n");
  EXPECT_EQ(ReadFile(dst / "d" / "old"), "o");
  // The live writer was never disturbed: it ends with its whole value.
  live_fifo.Write(1, 'z');
  live_fifo.Close();
  CliResult finished = live.Wait();
  EXPECT_EQ(finished.exit_code, 0) << finished.err;
  EXPECT_EQ(ReadFile(dst / "d" / "live"),
            std::string(std::size_t{1} << 16, 'y') + "z");
  EXPECT_THAT(TempFilesUnder(dst), ::testing::IsEmpty());
}

}  // namespace
}  // namespace backends::testing

// remove_abandoned_temp_files: the temporary file of a writer killed
// part-way goes; a live writer's stays, and its value lands whole.
//
// The writer is a child process streaming a value whose source blocks after
// the first piece, so the temporary file exists with content, and the test
// decides when the writer dies.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "backends/file.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

// Yields one piece, tells the test (a byte on `ready`), then waits for a
// byte on `go` before ending the value.
class BlockingSource : public ByteSource {
 public:
  BlockingSource(int ready, int go) : ready_(ready), go_(go) {}
  Result<std::size_t> Read(std::span<char> buffer) override {
    if (step_++ == 0) {
      const std::size_t n = std::min<std::size_t>(buffer.size(), 4096);
      std::fill_n(buffer.begin(), n, 'n');
      return n;
    }
    if (step_ == 2) {
      char byte = 1;
      if (::write(ready_, &byte, 1) != 1) return IOError("ready pipe");
      if (::read(go_, &byte, 1) != 1) return IOError("go pipe");
    }
    return std::size_t{0};
  }

 private:
  int ready_;
  int go_;
  int step_ = 0;
};

// A child process writing `key` with a BlockingSource, stopped mid-value.
class StalledWriter {
 public:
  StalledWriter(const fs::path& root, const std::string& key) {
    int ready[2], go[2];
    EXPECT_EQ(::pipe(ready), 0);
    EXPECT_EQ(::pipe(go), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      auto store = FileBackend::Open(root);
      if (!store.ok()) ::_exit(2);
      BlockingSource source(ready[1], go[0]);
      ::_exit((*store)->dump_stream(key, source).ok() ? 0 : 1);
    }
    ::close(ready[1]);
    ::close(go[0]);
    go_ = go[1];
    char byte = 0;
    EXPECT_EQ(::read(ready[0], &byte, 1), 1) << "the writer never started";
    ::close(ready[0]);
  }
  ~StalledWriter() {
    if (pid_ > 0) Kill();
    ::close(go_);
  }

  // Lets the writer finish; returns its exit status.
  int Finish() {
    char byte = 1;
    EXPECT_EQ(::write(go_, &byte, 1), 1);
    return Wait();
  }
  void Kill() {
    ::kill(pid_, SIGKILL);
    Wait();
  }

 private:
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  pid_t pid_ = -1;
  int go_ = -1;
};

std::vector<fs::path> TempFiles(const fs::path& root) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().filename().string().starts_with(kTempFilePrefix)) {
      found.push_back(entry.path());
    }
  }
  return found;
}

class TempSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = FileBackend::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  testing::ScopedTempDir dir_;
  std::unique_ptr<FileBackend> store_;
};

TEST_F(TempSweepTest, AKilledWritersTemporaryFileIsRemoved) {
  BACKENDS_ASSERT_OK(store_->dump("a/b/key", "old"));
  StalledWriter writer(dir_.path(), "a/b/key");
  ASSERT_EQ(TempFiles(dir_.path()).size(), 1u);
  writer.Kill();
  ASSERT_EQ(TempFiles(dir_.path()).size(), 1u) << "the kill left no debris?";

  EXPECT_THAT(store_->remove_abandoned_temp_files(seconds(0)),
              testing::IsOkAndHolds(1u));
  EXPECT_TRUE(TempFiles(dir_.path()).empty());
  EXPECT_THAT(store_->load("a/b/key"),
              testing::IsOkAndHolds(std::optional<std::string>("old")));
  EXPECT_THAT(store_->keys(),
              testing::IsOkAndHolds(std::vector<std::string>{"a/b/key"}));
}

TEST_F(TempSweepTest, ALiveWritersTemporaryFileStaysAndItsValueLands) {
  StalledWriter writer(dir_.path(), "key");
  EXPECT_THAT(store_->remove_abandoned_temp_files(seconds(0)),
              testing::IsOkAndHolds(0u));
  ASSERT_EQ(TempFiles(dir_.path()).size(), 1u);
  EXPECT_EQ(writer.Finish(), 0);
  EXPECT_THAT(store_->load("key"), testing::IsOkAndHolds(std::optional<
                                       std::string>(std::string(4096, 'n'))));
  EXPECT_TRUE(TempFiles(dir_.path()).empty());
}

TEST_F(TempSweepTest, AnAbandonedFileYoungerThanTheAgeStays) {
  StalledWriter writer(dir_.path(), "key");
  writer.Kill();
  EXPECT_THAT(store_->remove_abandoned_temp_files(seconds(3600)),
              testing::IsOkAndHolds(0u));
  EXPECT_EQ(TempFiles(dir_.path()).size(), 1u);
}

TEST_F(TempSweepTest, OnlyTemporaryNamesAreTouched) {
  BACKENDS_ASSERT_OK(store_->dump("x/y", "value"));
  // A file a user put there by hand is not ours, whatever its age.
  { std::FILE* f = std::fopen((dir_.path() / "x" / "notes").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f); }
  EXPECT_THAT(store_->remove_abandoned_temp_files(seconds(0)),
              testing::IsOkAndHolds(0u));
  EXPECT_TRUE(fs::exists(dir_.path() / "x" / "notes"));
  EXPECT_TRUE(fs::exists(dir_.path() / "x" / "y"));
}

}  // namespace
}  // namespace backends

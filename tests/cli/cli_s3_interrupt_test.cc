// SIGINT and SIGTERM during put and cp to the real S3 server: no multipart
// upload stays open (counted with awscli, as a user would check), every
// old value is intact, and the tool ends by the signal.
//
// `put -f FIFO` is fed step by step: once the tool has taken more than the
// multipart threshold (8 MiB), it has created the upload, because it reads
// on only after CreateMultipartUpload has answered.
//
// A second signal stops waiting for a request in flight: the server is
// paused (SIGSTOP) so a request gets no answer, as on a stalled network.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_runner.h"
#include "s3/s3_test_env.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new S3Environment);

class CliS3InterruptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!MissingS3Env().empty()) GTEST_SKIP() << "no S3 server (see above)";
  }
  std::string Url() const {
    return "s3://" + EnvOr("S3_BUCKET") + "/" + prefix_ +
           "?endpoint=" + EnvOr("S3_ENDPOINT");
  }
  CliResult Run(std::vector<std::string> args) {
    return RunCli(dir_.path(), std::move(args));
  }
  // Unfinished multipart uploads under the test's prefix, as
  // `aws s3api list-multipart-uploads` reports them; -1 if awscli fails.
  int OpenUploads() const {
    const std::string command =
        "aws s3api list-multipart-uploads --output text --bucket '" +
        EnvOr("S3_BUCKET") + "' --prefix '" + prefix_ + "' --endpoint-url '" +
        EnvOr("S3_ENDPOINT") + "' --query 'length(Uploads || `[]`)'";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return -1;
    char line[64] = {};
    bool read = std::fgets(line, sizeof line, pipe) != nullptr;
    int status = ::pclose(pipe);
    if (!read || status != 0) return -1;
    return std::atoi(line);
  }

  // Runs `put URL KEY -f FIFO`, feeds it `bytes`, then sends `signal`.
  CliResult InterruptPutFromFifo(const std::string& key, std::size_t bytes,
                                 int signal) {
    FifoFeeder fifo(dir_.path() / "fifo");
    CliProcess put(
        {.args = {"put", Url(), key, "-f", "fifo"}, .cwd = dir_.path()});
    if (!fifo.Open()) ADD_FAILURE() << "put never opened the FIFO";
    fifo.Write(bytes, 'x');
    EXPECT_EQ(::kill(put.pid(), signal), 0);
    CliResult r = put.Wait();
    fifo.Close();  // Only now: an end of input must not complete the value.
    return r;
  }

  ScopedTempDir dir_;
  std::string prefix_ = FreshPrefix("cli-int");
};

constexpr std::size_t kMiB = std::size_t{1} << 20;

TEST_F(CliS3InterruptTest, PutFromAFifoAbortsTheOpenMultipartUpload) {
  ASSERT_EQ(Run({"put", Url(), "big", "old"}).exit_code, 0);
  // Past the threshold: the upload is open.
  CliResult r = InterruptPutFromFifo("big", 12 * kMiB, SIGINT);
  EXPECT_EQ(r.exit_code, 128 + SIGINT) << r.err;
  EXPECT_THAT(r.err, HasSubstr("interrupted by SIGINT"));
  EXPECT_EQ(OpenUploads(), 0);
  EXPECT_EQ(Run({"get", Url(), "big"}).out, "old");
}

TEST_F(CliS3InterruptTest, PutInterruptedBeforeTheThresholdSendsNothing) {
  ASSERT_EQ(Run({"put", Url(), "small", "old"}).exit_code, 0);
  CliResult r = InterruptPutFromFifo("small", 3 * kMiB, SIGTERM);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.err;
  EXPECT_EQ(OpenUploads(), 0);
  EXPECT_EQ(Run({"get", Url(), "small"}).out, "old");
}

TEST_F(CliS3InterruptTest, CpOfLargeValuesAbortsEveryUploadInFlight) {
  const std::string value(10 * kMiB, 'n');
  const int kKeys = 6;
  for (int i = 0; i < kKeys; ++i) {
    WriteFile(dir_.path() / "src" / ("k" + std::to_string(i)), value);
    ASSERT_EQ(Run({"put", Url(), "k" + std::to_string(i), "old"}).exit_code, 0);
  }
  CliProcess cp({.args = {"cp", "file://./src", Url(), "--jobs", "3"},
                 .cwd = dir_.path()});
  // Signalled once the first value has arrived: the other jobs are then
  // inside their multipart uploads (or about to start them).
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (Run({"ls", "-l", Url()}).out.find("10485760") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "cp copied none";
  }
  ASSERT_EQ(::kill(cp.pid(), SIGINT), 0);
  CliResult r = cp.Wait();
  EXPECT_EQ(OpenUploads(), 0);
  int copied = 0;
  for (int i = 0; i < kKeys; ++i) {
    std::string got = Run({"get", Url(), "k" + std::to_string(i)}).out;
    EXPECT_TRUE(got == "old" || got == value) << "k" << i;
    copied += got == value;
  }
  if (copied < kKeys) {
    EXPECT_EQ(r.exit_code, 128 + SIGINT) << r.err;
  }
  EXPECT_GT(copied, 0);
}

// The radosgw that scripts/s3-server.sh started (it keeps the PID in
// $RGW_HOME/run/rgw.pid), or -1 when it cannot be found.
pid_t ServerPid() {
  std::ifstream file(EnvOr("RGW_HOME", "/tmp/backends-radosgw") +
                     "/run/rgw.pid");
  pid_t pid = -1;
  if (!(file >> pid) || pid <= 0 || ::kill(pid, 0) != 0) return -1;
  return pid;
}

// Pauses the server for its lifetime: it accepts connections (the kernel
// does) and answers nothing.
class PausedServer {
 public:
  explicit PausedServer(pid_t pid) : pid_(pid) { ::kill(pid_, SIGSTOP); }
  ~PausedServer() { ::kill(pid_, SIGCONT); }
  PausedServer(const PausedServer&) = delete;
  PausedServer& operator=(const PausedServer&) = delete;

 private:
  pid_t pid_;
};

// Whether `pid` holds a socket (its request is on its way).
bool HoldsASocket(pid_t pid) {
  std::error_code error;
  const fs::path fds = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& fd : fs::directory_iterator(fds, error)) {
    if (fs::read_symlink(fd.path(), error).string().starts_with("socket:")) {
      return true;
    }
  }
  return false;
}

// Whether the child `pid` has ended (left for CliProcess::Wait to reap).
bool Ended(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info,
                  WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

TEST_F(CliS3InterruptTest, ASecondSignalStopsWaitingForARequestInFlight) {
  ASSERT_EQ(Run({"put", Url(), "k", "new"}).exit_code, 0);
  const pid_t server = ServerPid();
  if (server < 0) {
    GTEST_SKIP() << "cannot find the server's PID in $RGW_HOME/run/rgw.pid";
  }
  WriteFile(dir_.path() / "out", "old");
  PausedServer paused(server);
  CliProcess get(
      {.args = {"get", Url(), "k", "-o", "out"}, .cwd = dir_.path()});
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!HoldsASocket(get.pid())) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "get sent none";
  }
  // The request is written into the socket at once; no answer comes.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(::kill(get.pid(), SIGINT), 0);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_FALSE(Ended(get.pid())) << "the first signal waits for the request";
  ASSERT_EQ(::kill(get.pid(), SIGINT), 0);
  const auto stop_by =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!Ended(get.pid()) && std::chrono::steady_clock::now() < stop_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!Ended(get.pid())) {
    ADD_FAILURE() << "a second SIGINT did not end the tool within 10 s";
    ::kill(get.pid(), SIGKILL);
  }
  CliResult r = get.Wait();
  EXPECT_EQ(r.exit_code, 128 + SIGINT) << r.err;
  EXPECT_EQ(ReadFile(dir_.path() / "out"), "old");
  EXPECT_THAT(TempFilesUnder(dir_.path()), ::testing::IsEmpty());
}

}  // namespace
}  // namespace backends::testing

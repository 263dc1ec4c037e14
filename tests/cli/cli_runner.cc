#include "cli_runner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>
#include <tuple>
#include <utility>

extern char** environ;

namespace backends::testing {
namespace {

void ClosePair(int fds[2]) {
  for (int i = 0; i < 2; ++i) {
    if (fds[i] >= 0) ::close(fds[i]);
  }
}

}  // namespace

CliProcess::CliProcess(CliOptions options) : options_(std::move(options)) {
  // A closed pipe must fail the write with EPIPE, not kill the test.
  ::signal(SIGPIPE, SIG_IGN);
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    ClosePair(in);
    ClosePair(out);
    return;
  }
  if (options_.stderr_is_terminal) {
    // err[0] is the terminal's master side (read by us), err[1] the slave
    // side the child writes to. A wide window keeps lines unwrapped.
    // Raw mode: no "\n" -> "\r\n" translation, so the bytes read are the
    // bytes written.
    struct winsize size {};
    size.ws_row = 24;
    size.ws_col = 200;
    struct termios raw {};
    ::cfmakeraw(&raw);
    if (::openpty(&err[0], &err[1], nullptr, &raw, &size) != 0) {
      ADD_FAILURE() << "openpty: " << std::strerror(errno);
    }
    ::fcntl(err[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(err[1], F_SETFD, FD_CLOEXEC);
  } else if (::pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options_.stdin_path.empty()) {
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, options_.stdin_path.c_str(),
                                     O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  if (!options_.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options_.cwd.c_str());
  }
  // The child starts with default signal handling (SIGPIPE included).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGHUP);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> argv_storage;
  argv_storage.push_back(BACKENDS_CLI_PATH);
  for (const auto& arg : options_.args) argv_storage.push_back(arg);
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);

  // The inherited environment, minus the names options_.env replaces
  // (getenv returns the first match, so a later duplicate would be ignored).
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool replaced = false;
    for (const auto& override_entry : options_.env) {
      std::string_view name =
          std::string_view(override_entry).substr(0, override_entry.find('='));
      if (entry.size() > name.size() && entry.substr(0, name.size()) == name &&
          entry[name.size()] == '=') {
        replaced = true;
      }
    }
    if (!replaced) env_storage.emplace_back(entry);
  }
  for (const auto& e : options_.env) env_storage.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  int rc = ::posix_spawn(&pid_, BACKENDS_CLI_PATH, &actions, &attr, argv.data(),
                         envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  in_ = in[1];
  out_ = out[0];
  err_ = err[0];
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << BACKENDS_CLI_PATH << ": "
                  << std::strerror(rc);
    pid_ = -1;
  }
}

CliProcess::~CliProcess() {
  if (!waited_) Wait();
}

CliResult CliProcess::Wait() {
  CliResult result;
  waited_ = true;
  std::string_view input = options_.input;
  if (pid_ < 0) {
    for (int fd : {in_, out_, err_}) {
      if (fd >= 0) ::close(fd);
    }
    return result;
  }
  if (input.empty()) {
    ::close(in_);
    in_ = -1;
  }
  char buffer[65536];
  while (out_ >= 0 || err_ >= 0 || in_ >= 0) {
    pollfd fds[3];
    int n = 0;
    int in_slot = -1, out_slot = -1, err_slot = -1;
    if (in_ >= 0) {
      in_slot = n;
      fds[n++] = {in_, POLLOUT, 0};
    }
    if (out_ >= 0) {
      out_slot = n;
      fds[n++] = {out_, POLLIN, 0};
    }
    if (err_ >= 0) {
      err_slot = n;
      fds[n++] = {err_, POLLIN, 0};
    }
    if (::poll(fds, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) continue;
      ADD_FAILURE() << "poll: " << std::strerror(errno);
      break;
    }
    if (in_slot >= 0 && fds[in_slot].revents != 0) {
      ssize_t w = ::write(in_, input.data(),
                          std::min<std::size_t>(input.size(), 65536));
      if (w > 0) input.remove_prefix(static_cast<std::size_t>(w));
      if (w < 0 || input.empty()) {
        ::close(in_);
        in_ = -1;
      }
    }
    for (auto [slot, fd, sink] : {std::tuple{out_slot, &out_, &result.out},
                                  std::tuple{err_slot, &err_, &result.err}}) {
      if (slot < 0 || fds[slot].revents == 0) continue;
      ssize_t r = ::read(*fd, buffer, sizeof buffer);
      if (r > 0) {
        sink->append(buffer, static_cast<std::size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        // EOF, or EIO on a terminal whose last slave closed.
        ::close(*fd);
        *fd = -1;
      }
    }
  }
  int status = 0;
  struct rusage usage = {};
  while (::wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  result.max_rss_kib = usage.ru_maxrss;
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

FifoFeeder::FifoFeeder(std::filesystem::path path) : path_(std::move(path)) {
  if (::mkfifo(path_.c_str(), 0600) != 0) {
    ADD_FAILURE() << "mkfifo " << path_ << ": " << std::strerror(errno);
  }
}

FifoFeeder::~FifoFeeder() { Close(); }

bool FifoFeeder::Open() {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
  // Non-blocking, the open fails (ENXIO) until a reader has the FIFO open.
  while ((fd_ = ::open(path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    ::usleep(1000);
  }
  ::fcntl(fd_, F_SETFL, 0);
  return true;
}

void FifoFeeder::OpenBeforeTheTool() {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0)
    ADD_FAILURE() << "open " << path_ << ": " << std::strerror(errno);
}

void FifoFeeder::Write(std::size_t bytes, char fill) {
  const std::string chunk(65536, fill);
  while (bytes > 0) {
    std::size_t n = std::min(bytes, chunk.size());
    ssize_t w = ::write(fd_, chunk.data(), n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      ADD_FAILURE() << "write to the FIFO: " << std::strerror(errno);
      return;
    }
    bytes -= static_cast<std::size_t>(w);
  }
}

void FifoFeeder::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::filesystem::path& path, std::string_view data) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::vector<std::string> TempFilesUnder(const std::filesystem::path& root) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.find("backends-tmp") != std::string::npos) {
      found.push_back(it->path().string());
    }
  }
  return found;
}

CliResult RunCli(CliOptions options) {
  CliProcess process(std::move(options));
  return process.Wait();
}

CliResult RunCli(const std::filesystem::path& cwd,
                 std::vector<std::string> args, std::string input) {
  return RunCli(CliOptions{
      .args = std::move(args), .input = std::move(input), .cwd = cwd});
}

}  // namespace backends::testing

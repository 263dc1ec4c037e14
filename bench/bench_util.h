#pragma once

// Shared pieces of the benchmarks: the data folder, deterministic values and
// JSON documents, and the raw POSIX loops our stores are measured against.
//
// Every figure is a ratio to a baseline in the same run and the same folder
// (STYLE.md §11), so the raw loops here do exactly the syscalls a store
// needs and nothing more: they are the floor, not a straw man.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>

#include "backends/backend.h"
#include "backends/json.h"
#include "backends/status.h"

namespace backends::bench {

/// Dies with a message: a benchmark whose setup failed must not report.
[[noreturn]] inline void Die(const std::string& what) {
  std::fprintf(stderr, "benchmark setup failed: %s\n", what.c_str());
  std::exit(1);
}

/// The value of `result`; dies naming `what` on error.
template <typename T>
T Check(Result<T> result, const char* what) {
  if (!result.ok()) Die(std::string(what) + ": " + result.status().ToString());
  return *std::move(result);
}

/// Dies naming `what` if `status` is an error.
inline void Check(const Status& status, const char* what) {
  if (!status.ok()) Die(std::string(what) + ": " + status.ToString());
}

/// The folder benchmarks write in: $BACKENDS_BENCH_DIR, else
/// ./bench-data. Created if missing. Baselines and our stores use the same
/// sub-folders of it, because filesystem speed varies 3-10x between folders.
std::filesystem::path DataDir();

/// A fresh, empty sub-folder `name` of DataDir().
std::filesystem::path FreshDir(const std::string& name);

/// `size` bytes of printable, deterministic, not very compressible text.
std::string MakeBytes(std::size_t size, unsigned seed = 1);

/// A JSON object of mixed types (strings, ints, floats, bools, null, nested
/// objects and arrays) whose text in the original's format (indent 4,
/// sorted keys) is about `target` bytes.
Json MakeJsonDocument(std::size_t target);

/// The original's format of `value` (DumpJson); dies on error.
std::string ToOriginalJson(const Json& value);

/// "k000123": fixed-width key names, so every key costs the same.
std::string KeyName(std::size_t i);

/// An open folder descriptor, closed on destruction.
class DirFd {
 public:
  explicit DirFd(const std::filesystem::path& dir);
  ~DirFd();
  DirFd(const DirFd&) = delete;
  DirFd& operator=(const DirFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

/// What a dump must do, raw: create a temporary file (O_EXCL) in `dir_fd`,
/// write `data`, [fsync it], close, rename it over `name`, [fsync the
/// folder]. Dies on error.
void RawDump(int dir_fd, const char* name, std::string_view data,
             bool durable = false);

/// What a load must do, raw: open `name`, read to EOF into `buffer` (its
/// capacity kept between calls), close. Returns the bytes read.
std::size_t RawLoad(int dir_fd, const char* name, std::string& buffer);

/// Writes `count` files KeyName(0..count) of `data` into `dir` with RawDump.
void Populate(const std::filesystem::path& dir, std::size_t count,
              std::string_view data);

/// `size` bytes of JavaScript-like text (functions, calls, literals and
/// comments from a small vocabulary), the same for the same `seed`.
std::string GeneratedJavaScript(std::uint64_t seed,
                                std::size_t size = std::size_t{1} << 20);

/// A field of /proc/self/status ("VmHWM", "VmRSS"), in bytes.
std::size_t ProcStatusBytes(const char* field);

/// Resets VmHWM to the current resident size (after returning freed memory
/// to the system), so the next peak is the next operation's.
void ResetPeak();

/// Yields `chunk` over and over, `total` bytes in all: a large value for
/// dump_stream without holding it in memory.
class RepeatedSource final : public ByteSource {
 public:
  RepeatedSource(const std::string& chunk, std::uint64_t total)
      : chunk_(chunk), left_(total), total_(total) {}
  Result<std::size_t> Read(std::span<char> buffer) override {
    const auto n = static_cast<std::size_t>(
        std::min<std::uint64_t>({left_, buffer.size(), chunk_.size()}));
    std::memcpy(buffer.data(), chunk_.data(), n);
    left_ -= n;
    return n;
  }
  std::optional<std::uint64_t> size() const override { return total_; }

 private:
  const std::string& chunk_;
  std::uint64_t left_;
  const std::uint64_t total_;
};

}  // namespace backends::bench

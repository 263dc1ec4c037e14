#include "bench_util.h"

#include <malloc.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace backends::bench {
namespace {

[[noreturn]] void DieErrno(const std::string& what) {
  Die(what + ": " + std::strerror(errno));
}

}  // namespace

std::filesystem::path DataDir() {
  static const std::filesystem::path dir = [] {
    const char* env = std::getenv("BACKENDS_BENCH_DIR");
    std::filesystem::path path = env != nullptr && *env != '\0'
                                     ? std::filesystem::path(env)
                                     : std::filesystem::path("bench-data");
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) Die("create " + path.string() + ": " + ec.message());
    return std::filesystem::absolute(path, ec);
  }();
  return dir;
}

std::filesystem::path FreshDir(const std::string& name) {
  std::filesystem::path dir = DataDir() / name;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) Die("remove " + dir.string() + ": " + ec.message());
  std::filesystem::create_directories(dir, ec);
  if (ec) Die("create " + dir.string() + ": " + ec.message());
  return dir;
}

std::string MakeBytes(std::size_t size, unsigned seed) {
  // A linear congruential generator over a 64-letter alphabet: stable across
  // runs and machines, compresses little (6 bits of entropy per byte).
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  std::string out(size, '\0');
  std::uint64_t state = 0x9E3779B97F4A7C15ull * (seed + 1);
  for (auto& c : out) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    c = kAlphabet[(state >> 58) & 63];
  }
  return out;
}

Json MakeJsonDocument(std::size_t target) {
  // Shaped like a typical record a web application caches: a few scalar
  // fields, a nested object, and a list of small records to reach the size.
  Json doc = {
      {"id", 123456789},
      {"name", "Ada Lovelace"},
      {"email", "ada@example.org"},
      {"active", true},
      {"score", 0.8125},
      {"manager", nullptr},
      {"address",
       {{"street", "12 St James's Square"},
        {"city", "London"},
        {"postcode", "SW1Y 4JH"},
        {"geo", {51.5074, -0.1346}}}},
      {"tags", {"analyst", "mathematician", "writer"}},
      {"history", Json::array()},
  };
  for (int i = 0; ToOriginalJson(doc).size() < target; ++i) {
    doc["history"].push_back({{"at", 1700000000 + i * 3600},
                              {"event", i % 2 == 0 ? "login" : "update"},
                              {"ok", i % 3 != 0},
                              {"ratio", 0.25 + i / 8.0}});
  }
  return doc;
}

std::string ToOriginalJson(const Json& value) {
  auto text = DumpJson(value);
  if (!text.ok()) Die("DumpJson: " + text.status().ToString());
  return *std::move(text);
}

std::string KeyName(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "k%06zu", i);
  return buf;
}

DirFd::DirFd(const std::filesystem::path& dir)
    : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
  if (fd_ < 0) DieErrno("open " + dir.string());
}

DirFd::~DirFd() { ::close(fd_); }

void RawDump(int dir_fd, const char* name, std::string_view data,
             bool durable) {
  // A unique temporary name per call, as a store must use (O_EXCL).
  static std::atomic<unsigned long> counter{0};
  char temp[64];
  std::snprintf(temp, sizeof temp, ".raw-tmp.%d.%lu",
                static_cast<int>(getpid()), counter.fetch_add(1));
  int fd =
      ::openat(dir_fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) DieErrno("raw create");
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) DieErrno("raw write");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  if (durable && ::fsync(fd) != 0) DieErrno("raw fsync");
  if (::close(fd) != 0) DieErrno("raw close");
  if (::renameat(dir_fd, temp, dir_fd, name) != 0) DieErrno("raw rename");
  if (durable && ::fsync(dir_fd) != 0) DieErrno("raw fsync folder");
}

std::size_t RawLoad(int dir_fd, const char* name, std::string& buffer) {
  int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) DieErrno("raw open");
  std::size_t used = 0;
  while (true) {
    if (used == buffer.size())
      buffer.resize(buffer.empty() ? 4096 : buffer.size() * 2);
    ssize_t n = ::read(fd, buffer.data() + used, buffer.size() - used);
    if (n < 0) DieErrno("raw read");
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return used;
}

void Populate(const std::filesystem::path& dir, std::size_t count,
              std::string_view data) {
  DirFd fd(dir);
  for (std::size_t i = 0; i < count; ++i) {
    RawDump(fd.get(), KeyName(i).c_str(), data);
  }
}

std::string GeneratedJavaScript(std::uint64_t seed, std::size_t size) {
  static constexpr const char* kWords[] = {
      "user",   "item",    "value", "index",   "config", "request",
      "result", "element", "event", "handler", "node",   "data",
      "count",  "offset",  "cache", "render",  "state",  "options"};
  static constexpr const char* kCalls[] = {"document.querySelector",
                                           "console.log",
                                           "Math.max",
                                           "JSON.stringify",
                                           "Object.keys",
                                           "Array.from",
                                           "fetch",
                                           "setTimeout"};
  std::uint64_t s = seed;
  auto next = [&s](std::uint64_t n) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return (s >> 33) % n;
  };
  auto word = [&] { return std::string(kWords[next(std::size(kWords))]); };
  std::string out;
  for (int f = 0; out.size() < size; ++f) {
    std::string name = word() + "_" + word() + std::to_string(f);
    out += "// " + word() + " the " + word() + " of each " + word() + "\n";
    out += "function " + name + "(" + word() + ", " + word() + ") {\n";
    for (std::uint64_t line = 0, n = 2 + next(6); line < n; ++line) {
      std::string lhs = word() + std::to_string(next(100));
      switch (next(4)) {
        case 0:
          out += "  var " + lhs + " = " + kCalls[next(std::size(kCalls))] +
                 "(\"" + word() + "-" + std::to_string(next(100000)) + "\");\n";
          break;
        case 1:
          out += "  if (" + lhs + " > " + std::to_string(next(1000)) +
                 ") { return " + word() + "." + word() + "; }\n";
          break;
        case 2:
          out += "  for (var i = 0; i < " + word() + ".length; i++) { " + lhs +
                 " += i * " + std::to_string(next(64)) + "; }\n";
          break;
        default:
          out += "  " + lhs + "." + word() + " = { " + word() + ": " +
                 std::to_string(next(1 << 20)) + ", " + word() + ": '" +
                 word() + "' };\n";
      }
    }
    out += "  return " + word() + ";\n}\n\n";
  }
  out.resize(size);
  return out;
}

std::size_t ProcStatusBytes(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  std::string want = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(want, 0) == 0) {
      std::istringstream fields(line.substr(want.size()));
      std::size_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  }
  Die(std::string("no ") + field + " in /proc/self/status");
}

void ResetPeak() {
  // Freed memory the allocator still holds would hide the next peak.
  malloc_trim(0);
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  if (!out.flush()) Die("cannot reset the peak (/proc/self/clear_refs)");
}

}  // namespace backends::bench

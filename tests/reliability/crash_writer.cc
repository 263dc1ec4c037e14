// The process crash_test.cc kills: opens a store and dumps sealed values
// (sealed_value.h) as fast as it can until it is killed with SIGKILL.
//
//   reliability_crash_writer file|json ROOT GEN_BASE SEED RUN
//
// file: a FileBackend at ROOT. json: a JsonCache at ROOT (values are the
// sealed strings as JSON strings, never expiring).
// Keys: big/0..2 (large values), small/a/0..7 and small/b/c/0..7 (small
// values), and fresh/RUN/<i> (new keys in a new folder). The generation of
// the i-th dump is GEN_BASE + i, so generations only grow across runs.
// Once the store is open it writes one byte "R" to stdout, so the parent
// kills it while it works and not while it loads. Exit codes: 2 for a
// failed dump (the message on stderr), 3 if it was never killed.

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>

#include "backends/cache.h"
#include "backends/file.h"
#include "reliability/sealed_value.h"

namespace {

using backends::Status;
namespace rel = backends::reliability;

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "crash_writer: %s: %s\n", what.c_str(),
               status.ToString().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Never outlive the test, even if it dies before killing us.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s file|json ROOT GEN_BASE SEED RUN\n",
                 argv[0]);
    return 64;
  }
  const std::string mode = argv[1];
  const std::string root = argv[2];
  const std::uint64_t gen_base = std::strtoull(argv[3], nullptr, 10);
  const std::uint64_t seed = std::strtoull(argv[4], nullptr, 10);
  const std::string run = argv[5];
  const bool json = mode == "json";

  std::function<Status(const std::string&, const std::string&)> dump;
  std::unique_ptr<backends::FileBackend> file;
  std::optional<backends::JsonCache> cache;
  if (json) {
    auto opened = backends::JsonCache::Open(
        root, backends::CacheOptions{.timeout = backends::kNeverExpires});
    if (!opened.ok()) return Fail("open " + root, opened.status());
    cache.emplace(std::move(*opened));
    dump = [&](const std::string& key, const std::string& value) {
      return cache->dump(key, backends::Json(value));
    };
  } else {
    auto opened = backends::FileBackend::Open(root);
    if (!opened.ok()) return Fail("open " + root, opened.status());
    file = std::move(*opened);
    dump = [&](const std::string& key, const std::string& value) {
      return file->dump(key, value);
    };
  }
  if (::write(STDOUT_FILENO, "R", 1) != 1) return 2;

  std::mt19937_64 rng(seed);
  const std::size_t big_max = json ? (512u << 10) : (2u << 20);
  for (std::uint64_t i = 0; i < 100000; ++i) {
    std::string key;
    std::size_t len = 0;
    std::uint64_t pick = rng() % 16;
    if (pick < 3) {
      key = "big/" + std::to_string(pick);
      len = (256u << 10) + rng() % (big_max - (256u << 10) + 1);
      if (json) len = (64u << 10) + rng() % (big_max - (64u << 10) + 1);
    } else if (pick < 10) {
      key = std::string(rng() % 2 ? "small/a/" : "small/b/c/") +
            std::to_string(rng() % 8);
      len = 10 + rng() % 300;
    } else {
      key = "fresh/" + run + "/" + std::to_string(i);
      len = 10 + rng() % 2000;
    }
    Status status = dump(key, rel::Seal(key, gen_base + i, len));
    if (!status.ok()) return Fail("dump " + key, status);
  }
  return 3;
}

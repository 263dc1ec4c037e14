// A folder swapped for a link DURING operations: one thread keeps
// exchanging root/sub (a real folder) with root/alt (a symbolic link to a
// folder outside the root) while other threads dump, load, remove and list
// keys under sub/. Whatever the interleaving, nothing outside may change,
// and no load may return bytes from outside. Errors are allowed (a link met
// mid-walk is refused), but only the kinds the store documents for it.
// CONCURRENCY_OPS sets the operations per thread (default 4000).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backends/file.h"
#include "reliability/outside_snapshot.h"
#include "reliability/sealed_value.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::reliability {
namespace {

namespace fs = std::filesystem;
using backends::testing::IsOk;
using backends::testing::IsOkAndHolds;
using backends::testing::StatusIs;

std::uint64_t OpsPerThread() {
  const char* env = std::getenv("CONCURRENCY_OPS");
  long long ops = env != nullptr ? std::atoll(env) : 4000;
  return ops > 0 ? static_cast<std::uint64_t>(ops) : 4000;
}

// Swaps `a` and `b` atomically; falls back to three renames where the
// filesystem has no RENAME_EXCHANGE.
bool Exchange(const fs::path& a, const fs::path& b, const fs::path& spare) {
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) ==
      0) {
    return true;
  }
  if (errno != EINVAL && errno != ENOSYS) return false;
  return ::rename(a.c_str(), spare.c_str()) == 0 &&
         ::rename(b.c_str(), a.c_str()) == 0 &&
         ::rename(spare.c_str(), b.c_str()) == 0;
}

TEST(LinkSwapTest, FolderSwappedForALinkDuringOperations) {
  backends::testing::ScopedTempDir tmp;
  const fs::path root = tmp.path() / "root";
  const fs::path outside = tmp.path() / "outside";
  for (const char* name : {"k0", "k1", "k2", "k3", "x/y", "only-outside"}) {
    PlantFile(outside / name, "OUTSIDE " + std::string(name));
  }
  fs::create_directories(root / "sub");
  fs::create_symlink(outside, root / "alt");
  const Snapshot before = TakeSnapshot(outside);
  ASSERT_OK_AND_ASSIGN(auto store, FileBackend::Open(root));

  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> swaps{0};
  std::thread flipper([&] {
    while (!done.load()) {
      if (Exchange(root / "sub", root / "alt", root / "spare")) {
        swaps.fetch_add(1);
      } else if (errno == ENOENT) {
        // A remove pruned the real folder (only ever named "sub" then):
        // put one back, and the link if it went missing.
        ::mkdir((root / "sub").c_str(), 0777);
        struct stat st;
        if (::lstat((root / "alt").c_str(), &st) != 0) {
          ::symlink(outside.c_str(), (root / "alt").c_str());
        }
      }
    }
  });

  const std::vector<std::string> keys = {"sub/k0", "sub/k1", "sub/k2", "sub/k3",
                                         "sub/x/y"};
  std::mutex mu;
  std::string first_error;
  std::atomic<std::uint64_t> ops{0}, refused{0}, found{0};
  auto worker = [&](std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    auto fail = [&](const std::string& what) {
      std::lock_guard<std::mutex> lock(mu);
      if (first_error.empty()) first_error = what;
    };
    for (std::uint64_t n = 0; n < OpsPerThread(); ++n) {
      const std::string& key = keys[rng() % keys.size()];
      Status status;
      switch (rng() % 4) {
        case 0:
          status = store->dump(key, Seal(key, n, 64 + rng() % 512));
          break;
        case 1: {
          auto v = store->load(key);
          status = v.status();
          if (v.ok() && v->has_value()) {
            found.fetch_add(1);
            auto sealed = Unseal(**v);
            if (!sealed || sealed->key != key) {
              fail("load " + key + " returned foreign bytes: " + **v);
            }
          }
          break;
        }
        case 2:
          status = store->remove(key).status();
          break;
        default: {
          auto listed = store->list("");
          status = listed.status();
          if (listed.ok()) {
            for (const auto& k : *listed) {
              if (k.ends_with("only-outside")) fail("listed outside: " + k);
            }
          }
        }
      }
      ops.fetch_add(1);
      if (status.ok()) continue;
      // A link met mid-walk is refused (kInvalidArgument); a folder that
      // vanished or became a link between steps gives the documented
      // precondition / I/O answers. Never anything else.
      refused.fetch_add(1);
      if (status.code() != ErrorCode::kInvalidArgument &&
          status.code() != ErrorCode::kFailedPrecondition &&
          status.code() != ErrorCode::kIOError) {
        fail(status.ToString());
      }
    }
  };
  std::vector<std::thread> workers;
  for (std::uint64_t i = 0; i < 3; ++i) workers.emplace_back(worker, 77 + i);
  for (auto& t : workers) t.join();
  done.store(true);
  flipper.join();

  EXPECT_EQ(first_error, "");
  EXPECT_EQ(TakeSnapshot(outside), before) << "something outside changed";
  EXPECT_GT(swaps.load(), 0u);
  std::printf(
      "link swap: %llu operations by 3 threads during %llu "
      "folder<->link swaps; %llu values found (all our own), %llu "
      "refused; outside untouched\n",
      static_cast<unsigned long long>(ops.load()),
      static_cast<unsigned long long>(swaps.load()),
      static_cast<unsigned long long>(found.load()),
      static_cast<unsigned long long>(refused.load()));
}

}  // namespace
}  // namespace backends::reliability

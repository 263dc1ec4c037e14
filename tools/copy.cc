// cp: copies every key (or those under --prefix) from one store to another
// with --jobs worker threads.
//
// Safety: every value is written with the destination's dump(), which
// replaces a value atomically, so an interrupted or failed cp leaves each
// destination key with its old value or its new one, never a mix, and
// never touches the source. On the first failure, or on SIGINT/SIGTERM,
// workers finish the key in hand and take no new one.

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "backends/backend.h"
#include "cli_store.h"
#include "commands.h"
#include "progress.h"

namespace backends::cli {
namespace {

// Set by the signal handler, read by the workers. A signal handler can
// only reach a global; a lock-free atomic is async-signal-safe.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnInterrupt(int) { g_interrupted.store(true); }

// Catches SIGINT and SIGTERM for its lifetime, then restores the previous
// handlers.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupted.store(false);
    struct sigaction action {};
    action.sa_handler = OnInterrupt;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  ~InterruptGuard() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

enum class Outcome { kCopied, kUnchanged, kVanished };

Result<Outcome> CopyOne(const Store& source, const Store& destination,
                        const std::string& key, bool update) {
  BACKENDS_ASSIGN_OR_RETURN(std::optional<std::string> value,
                            source.backend().load(key));
  if (!value) return Outcome::kVanished;  // Removed since the listing.
  BACKENDS_ASSIGN_OR_RETURN(std::string bytes,
                            source.FromStored(key, std::move(*value)));
  BACKENDS_ASSIGN_OR_RETURN(std::string stored,
                            destination.ToStored(key, std::move(bytes)));
  if (update) {
    // Sizes first: a differing size settles it without reading the value.
    BACKENDS_ASSIGN_OR_RETURN(std::optional<KeyInfo> info,
                              destination.backend().stat(key));
    if (info && info->size == stored.size()) {
      BACKENDS_ASSIGN_OR_RETURN(std::optional<std::string> current,
                                destination.backend().load(key));
      if (current && *current == stored) return Outcome::kUnchanged;
    }
  }
  BACKENDS_RETURN_IF_ERROR(destination.backend().dump(key, stored));
  return Outcome::kCopied;
}

}  // namespace

Result<int> RunCp(const CpArgs& args) {
  BACKENDS_ASSIGN_OR_RETURN(StoreSpec source_spec,
                            StoreSpec::Parse(args.source_url));
  BACKENDS_ASSIGN_OR_RETURN(StoreSpec destination_spec,
                            StoreSpec::Parse(args.destination_url));
  BACKENDS_ASSIGN_OR_RETURN(auto source, Store::Open(source_spec));
  BACKENDS_ASSIGN_OR_RETURN(auto destination, Store::Open(destination_spec));
  BACKENDS_ASSIGN_OR_RETURN(std::vector<std::string> keys,
                            source->backend().list(args.prefix));

  InterruptGuard interrupt_guard;
  Progress progress(ProgressWanted(args.quiet) ? stderr : nullptr, "cp",
                    ProgressUnit::kKeys, keys.size());
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> copied{0};
  std::atomic<std::size_t> unchanged{0};
  std::atomic<std::size_t> vanished{0};
  std::atomic<std::size_t> done{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  Status first_error;  // Guarded by error_mutex.

  auto work = [&] {
    while (!failed.load() && !g_interrupted.load()) {
      std::size_t i = next.fetch_add(1);
      if (i >= keys.size()) return;
      auto outcome = CopyOne(*source, *destination, keys[i], args.update);
      if (!outcome.ok()) {
        std::scoped_lock lock(error_mutex);
        if (first_error.ok()) first_error = outcome.status();
        failed.store(true);
        return;
      }
      if (*outcome == Outcome::kCopied) copied.fetch_add(1);
      if (*outcome == Outcome::kUnchanged) unchanged.fetch_add(1);
      if (*outcome == Outcome::kVanished) vanished.fetch_add(1);
      done.fetch_add(1);
      progress.Add(1);
    }
  };
  std::size_t jobs =
      std::max<std::size_t>(1, std::min<std::size_t>(args.jobs, keys.size()));
  std::vector<std::thread> workers;
  workers.reserve(jobs - 1);
  for (std::size_t i = 1; i < jobs; ++i) workers.emplace_back(work);
  work();
  for (std::thread& worker : workers) worker.join();
  progress.Finish();

  if (failed.load()) {
    std::scoped_lock lock(error_mutex);
    return first_error.WithContext("cp");
  }
  if (g_interrupted.load()) {
    std::fprintf(stderr,
                 "backends: cp: interrupted after %zu of %zu keys; each "
                 "destination value is either its old or its new one\n",
                 done.load(), keys.size());
    return kExitFailure;
  }
  if (!args.quiet) {
    std::fprintf(stderr, "cp: %zu copied, %zu unchanged", copied.load(),
                 unchanged.load());
    // Listed, then removed from the source before their turn: not copied.
    if (vanished.load() > 0) {
      std::fprintf(stderr, ", %zu vanished from the source while copying",
                   vanished.load());
    }
    std::fputc('\n', stderr);
  }
  return kExitOk;
}

}  // namespace backends::cli

// cp: copies every key (or those under --prefix) from one store to another
// with --jobs worker threads.
//
// Safety: every value is written with the destination's dump(), which
// replaces a value atomically, so an interrupted or failed cp leaves each
// destination key with its old value or its new one, never a mix, and
// never touches the source. On the first failure workers finish the key in
// hand and take no new one; on SIGINT/SIGTERM/SIGHUP they also drop the
// key in hand between two chunks (interrupt.h).

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "backends/backend.h"
#include "backends/file.h"
#include "cli_store.h"
#include "commands.h"
#include "copy_files.h"
#include "interrupt.h"
#include "progress.h"

namespace backends::cli {
namespace {

// The value moves through the stores' streams in chunks, so a caught
// signal stops it between two chunks and the destination's own error path
// removes its temporary file or aborts its upload.
class CancellableSink final : public ByteSink {
 public:
  explicit CancellableSink(std::string context)
      : context_(std::move(context)) {}
  Status Write(std::string_view piece) override {
    if (InterruptSignal() != 0) return InterruptedError(context_);
    value_.append(piece);
    return Status::OK();
  }
  std::string& value() { return value_; }

 private:
  std::string context_;
  std::string value_;
};

class CancellableSource final : public ByteSource {
 public:
  CancellableSource(std::string context, std::string_view value)
      : context_(std::move(context)), rest_(value), size_(value.size()) {}
  Result<std::size_t> Read(std::span<char> buffer) override {
    if (InterruptSignal() != 0) return InterruptedError(context_);
    std::size_t n = std::min({buffer.size(), rest_.size(), kChunk});
    std::memcpy(buffer.data(), rest_.data(), n);
    rest_.remove_prefix(n);
    return n;
  }
  std::optional<std::uint64_t> size() const override { return size_; }

 private:
  static constexpr std::size_t kChunk = std::size_t{1} << 20;
  std::string context_;
  std::string_view rest_;
  std::uint64_t size_;
};

enum class Outcome { kCopied, kUnchanged, kVanished };

// Both stores are plain folders (no cache layer): file metadata can follow.
struct Folders {
  const FileBackend* source = nullptr;
  const FileBackend* destination = nullptr;
};

Folders FoldersOf(const Store& source, const Store& destination) {
  auto folder = [](const Store& store) -> const FileBackend* {
    if (&store.backend() != &store.base()) return nullptr;
    return dynamic_cast<const FileBackend*>(&store.base());
  };
  Folders folders{folder(source), folder(destination)};
  if (folders.source == nullptr || folders.destination == nullptr) return {};
  return folders;
}

Result<Outcome> CopyOne(const Store& source, const Store& destination,
                        const Folders& folders, const std::string& key,
                        bool update) {
  const std::string context = "cp " + QuoteKey(key);
  CancellableSink sink(context);
  BACKENDS_ASSIGN_OR_RETURN(bool found,
                            source.backend().load_stream(key, sink));
  if (!found) return Outcome::kVanished;  // Removed since the listing.
  BACKENDS_ASSIGN_OR_RETURN(std::string bytes,
                            source.FromStored(key, std::move(sink.value())));
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
  CancellableSource stream(context, stored);
  BACKENDS_RETURN_IF_ERROR(destination.backend().dump_stream(key, stream));
  if (folders.source != nullptr) {
    BACKENDS_RETURN_IF_ERROR(
        KeepFileMetadata(*folders.source, *folders.destination, key));
  }
  return Outcome::kCopied;
}

// The files a folder source holds that cp will not read: each is named on
// stderr; returns how many.
std::size_t ReportSkipped(const Store& source, std::string_view prefix,
                          Progress& progress) {
  if (&source.backend() != &source.base()) return 0;
  auto* folder = dynamic_cast<const FileBackend*>(&source.base());
  if (folder == nullptr) return 0;
  std::vector<SkippedFile> skipped = FilesCpSkips(*folder, prefix);
  for (const SkippedFile& file : skipped) {
    progress.Print("backends: cp: skipped " + QuoteKey(file.name) + ": " +
                   file.reason);
  }
  return skipped.size();
}

}  // namespace

Result<int> RunCp(const CpArgs& args) {
  BACKENDS_ASSIGN_OR_RETURN(StoreSpec source_spec,
                            StoreSpec::Parse(args.source_url));
  BACKENDS_ASSIGN_OR_RETURN(StoreSpec destination_spec,
                            StoreSpec::Parse(args.destination_url));
  BACKENDS_ASSIGN_OR_RETURN(auto source,
                            Store::Open(source_spec, OpenMode::kExisting));
  BACKENDS_ASSIGN_OR_RETURN(auto destination,
                            Store::Open(destination_spec, OpenMode::kCreate));
  BACKENDS_ASSIGN_OR_RETURN(std::vector<std::string> keys,
                            source->backend().list(args.prefix));
  const Folders folders = FoldersOf(*source, *destination);

  Progress progress(ProgressWanted(args.quiet) ? stderr : nullptr, "cp",
                    ProgressUnit::kKeys, keys.size());
  const std::size_t skipped = ReportSkipped(*source, args.prefix, progress);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> copied{0};
  std::atomic<std::size_t> unchanged{0};
  std::atomic<std::size_t> vanished{0};
  std::atomic<std::size_t> failed{0};
  std::atomic<std::size_t> done{0};

  // A failing key is named with its reason and counted; the others go on
  // unless --fail-fast.
  auto work = [&] {
    while (InterruptSignal() == 0 && !(args.fail_fast && failed.load() > 0)) {
      std::size_t i = next.fetch_add(1);
      if (i >= keys.size()) return;
      auto outcome =
          CopyOne(*source, *destination, folders, keys[i], args.update);
      if (!outcome.ok() && InterruptSignal() != 0) return;
      if (!outcome.ok()) {
        failed.fetch_add(1);
        progress.Print("backends: cp: failed: " + outcome.status().message());
      } else if (*outcome == Outcome::kCopied) {
        copied.fetch_add(1);
      } else if (*outcome == Outcome::kUnchanged) {
        unchanged.fetch_add(1);
      } else {
        vanished.fetch_add(1);
      }
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

  if (InterruptSignal() != 0) {
    std::fprintf(stderr,
                 "backends: %s after %zu of %zu keys; each destination value "
                 "is either its old or its new one\n",
                 InterruptedError("cp").message().c_str(), done.load(),
                 keys.size());
    return kExitFailure;  // main() ends the process by the signal.
  }
  if (!args.quiet || failed.load() > 0) {
    std::fprintf(stderr,
                 "cp: %zu copied, %zu unchanged, %zu skipped, %zu failed",
                 copied.load(), unchanged.load(), skipped, failed.load());
    // Listed, then removed from the source before their turn: not copied.
    if (vanished.load() > 0) {
      std::fprintf(stderr, ", %zu vanished from the source while copying",
                   vanished.load());
    }
    if (args.fail_fast && done.load() < keys.size()) {
      std::fprintf(stderr, "; stopped at the first failure (--fail-fast)");
    }
    std::fputc('\n', stderr);
  }
  return failed.load() > 0 ? kExitFailure : kExitOk;
}

}  // namespace backends::cli

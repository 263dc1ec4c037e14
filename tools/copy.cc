// cp and sync: copy every selected key (under --prefix) from one store to
// another with --jobs worker threads.
//
// The source is read in listing pages; with --update (and sync) the
// destination's listing is read alongside it, both sorted bytewise, and
// merged like two sorted files, so each key is decided from the metadata
// both listings carry and memory stays bounded whatever the key count.
// A plain folder is walked by cp itself, once: the same walk names the
// files cp skips and sees the temporary files killed writers left, so an
// unchanged copy reads each side once.
// A bounded queue hands the keys to copy to the workers. sync --delete
// then walks both listings again and removes the destination keys the
// source lacks, only when every copy succeeded.
//
// Safety: every value is written with the destination's dump(), which
// replaces a value atomically, so an interrupted or failed cp leaves each
// destination key with its old value or its new one, never a mix, and
// never touches the source. With --fail-fast, on the first failure the
// workers finish the key in hand and take no new one; on SIGINT/SIGTERM/
// SIGHUP they also drop the key in hand between two chunks (interrupt.h).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "backends/backend.h"
#include "backends/file.h"
#include "cli_store.h"
#include "commands.h"
#include "copy_files.h"
#include "folder_walk.h"
#include "interrupt.h"
#include "listing.h"
#include "progress.h"
#include "s3_verbs.h"
#include "value_pipe.h"

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
  CancellableSource(std::string context, std::string_view value,
                    Progress& progress)
      : context_(std::move(context)),
        rest_(value),
        size_(value.size()),
        progress_(progress) {}
  Result<std::size_t> Read(std::span<char> buffer) override {
    if (InterruptSignal() != 0) return InterruptedError(context_);
    std::size_t n = std::min({buffer.size(), rest_.size(), kChunk});
    std::memcpy(buffer.data(), rest_.data(), n);
    rest_.remove_prefix(n);
    progress_.AddBytes(n);
    return n;
  }
  std::optional<std::uint64_t> size() const override { return size_; }

 private:
  static constexpr std::size_t kChunk = std::size_t{1} << 20;
  std::string context_;
  std::string_view rest_;
  std::uint64_t size_;
  Progress& progress_;
};

enum class Outcome { kCopied, kUnchanged, kVanished };

// What the listings alone say about a key.
enum class Verdict { kCopy, kUnchanged, kCompareContents };

struct Task {
  std::string key;
  Verdict verdict = Verdict::kCopy;
  std::optional<std::uint64_t> size;  // from the source's listing
};

// Both stores are plain folders (no cache layer): file metadata can follow.
struct Folders {
  const FileBackend* source = nullptr;
  const FileBackend* destination = nullptr;
};

// The store itself when it is a plain folder (no cache layer over it).
const FileBackend* BareFolder(const Store& store) {
  if (&store.backend() != &store.base()) return nullptr;
  return dynamic_cast<const FileBackend*>(&store.base());
}

Folders FoldersOf(const Store& source, const Store* destination) {
  if (destination == nullptr) return {};
  Folders folders{BareFolder(source), BareFolder(*destination)};
  if (folders.source == nullptr || folders.destination == nullptr) return {};
  return folders;
}

bool IsS3(const Store& store) {
  return store.spec().store_url.starts_with("s3:");
}

// How --update compares two listings' entries.
struct CompareRules {
  bool checksum = false;
  // JSON values are normalised on the way, so stored sizes differ even when
  // the values are the same: only their contents can tell.
  bool sizes_comparable = true;
  // S3 to S3: ETags are digests of the bytes, comparable across buckets.
  bool versions_comparable = false;
  // Folder to folder cp gives the copy its source's time (to the
  // nanosecond), so any other time means a change, as in rsync. Elsewhere
  // the copy is stamped when written: not older, to the second (S3 keeps
  // LastModified in whole seconds), means unchanged.
  bool equal_times = false;
};

std::int64_t Seconds(std::chrono::system_clock::time_point time) {
  return std::chrono::floor<std::chrono::seconds>(time.time_since_epoch())
      .count();
}

// A single-part S3 ETag is the MD5 of the bytes; a multipart one ("...-N")
// depends on the part size too, so it proves nothing about the bytes.
bool IsContentDigest(std::string_view etag) {
  return !etag.empty() && etag.find('-') == std::string_view::npos;
}

Verdict Decide(const KeyInfo& source, const KeyInfo& destination,
               const CompareRules& rules) {
  if (!rules.sizes_comparable) return Verdict::kCompareContents;
  if (source.size != destination.size) return Verdict::kCopy;
  if (rules.checksum) return Verdict::kCompareContents;
  if (rules.versions_comparable && IsContentDigest(source.version) &&
      IsContentDigest(destination.version)) {
    return source.version == destination.version ? Verdict::kUnchanged
                                                 : Verdict::kCopy;
  }
  if (source.modified && destination.modified) {
    const bool same =
        rules.equal_times
            ? *destination.modified == *source.modified
            : Seconds(*destination.modified) >= Seconds(*source.modified);
    return same ? Verdict::kUnchanged : Verdict::kCopy;
  }
  return Verdict::kCompareContents;  // A store that keeps no times.
}

// Moves a raw value store to store: server-side within one S3 endpoint,
// else piped in bounded memory. Nothing when a side checks its values.
Result<std::optional<Outcome>> CopyRaw(const Store& source,
                                       const Store& destination,
                                       const Task& task,
                                       const std::string& context,
                                       Progress& progress) {
  if (source.spec().format != ValueFormat::kRaw ||
      destination.spec().format != ValueFormat::kRaw ||
      task.verdict == Verdict::kCompareContents) {
    return std::optional<Outcome>();
  }
  const std::string& key = task.key;
  BACKENDS_RETURN_IF_ERROR(destination.ToStored(key, std::string()).status());
  BACKENDS_ASSIGN_OR_RETURN(std::optional<bool> copied,
                            TryServerSideCopy(source, destination, key));
  if (!copied) {
    BACKENDS_ASSIGN_OR_RETURN(copied,
                              PipeValue(source.backend(), key,
                                        destination.backend(), key,
                                        task.size, context,
                                        [&](std::size_t n) {
                                          progress.AddBytes(n);
                                        }));
  }
  return std::optional<Outcome>(*copied ? Outcome::kCopied
                                        : Outcome::kVanished);
}

Result<Outcome> CopyOne(const Store& source, const Store& destination,
                        const Folders& folders, const Task& task,
                        Progress& progress) {
  const std::string& key = task.key;
  const std::string context = "cp " + QuoteKey(key);
  BACKENDS_ASSIGN_OR_RETURN(
      std::optional<Outcome> raw,
      CopyRaw(source, destination, task, context, progress));
  if (raw) {
    if (*raw == Outcome::kCopied && folders.source != nullptr) {
      BACKENDS_RETURN_IF_ERROR(
          KeepFileMetadata(*folders.source, *folders.destination, key));
    }
    return *raw;
  }
  CancellableSink sink(context);
  BACKENDS_ASSIGN_OR_RETURN(bool found,
                            source.backend().load_stream(key, sink));
  if (!found) return Outcome::kVanished;  // Removed since the listing.
  BACKENDS_ASSIGN_OR_RETURN(std::string bytes,
                            source.FromStored(key, std::move(sink.value())));
  BACKENDS_ASSIGN_OR_RETURN(std::string stored,
                            destination.ToStored(key, std::move(bytes)));
  if (task.verdict == Verdict::kCompareContents) {
    BACKENDS_ASSIGN_OR_RETURN(std::optional<std::string> current,
                              destination.backend().load(key));
    if (current && *current == stored) return Outcome::kUnchanged;
  }
  CancellableSource stream(context, stored, progress);
  BACKENDS_RETURN_IF_ERROR(destination.backend().dump_stream(key, stream));
  if (folders.source != nullptr) {
    BACKENDS_RETURN_IF_ERROR(
        KeepFileMetadata(*folders.source, *folders.destination, key));
  }
  return Outcome::kCopied;
}

// In a dry run only the keys whose contents decide are read.
Result<Outcome> PlanOne(const Store& source, const Store* destination,
                        const Task& task) {
  if (task.verdict != Verdict::kCompareContents || destination == nullptr) {
    return Outcome::kCopied;
  }
  BACKENDS_ASSIGN_OR_RETURN(std::optional<std::string> value,
                            source.backend().load(task.key));
  if (!value) return Outcome::kVanished;
  BACKENDS_ASSIGN_OR_RETURN(std::string bytes,
                            source.FromStored(task.key, std::move(*value)));
  BACKENDS_ASSIGN_OR_RETURN(std::string stored,
                            destination->ToStored(task.key, std::move(bytes)));
  BACKENDS_ASSIGN_OR_RETURN(std::optional<std::string> current,
                            destination->backend().load(task.key));
  return current && *current == stored ? Outcome::kUnchanged : Outcome::kCopied;
}

// One side's listing: a plain folder is walked by cp itself (FolderWalk),
// which notes on the same walk the files it skips and the temporary files
// it passes; any other store is read in its listing pages.
class SideListing {
 public:
  SideListing(const Store* store, const std::string& prefix, bool with_info,
              FolderWalk::OnSkipped on_skipped = {}) {
    const FileBackend* folder = store ? BareFolder(*store) : nullptr;
    if (folder != nullptr) {
      folder_.emplace(*folder, prefix, with_info, std::move(on_skipped));
    } else {
      listing_.emplace(store ? &store->backend() : nullptr, prefix,
                       with_info ? ListingWalker::Detail::kEntries
                                 : ListingWalker::Detail::kKeys);
    }
  }
  Result<bool> Next() { return folder_ ? folder_->Next() : listing_->Next(); }
  const ListEntry& entry() const {
    return folder_ ? folder_->entry() : listing_->entry();
  }
  bool walks_folder() const { return folder_.has_value(); }
  std::size_t temp_files_seen() const {
    return folder_ ? folder_->temp_files_seen() : 0;
  }

 private:
  std::optional<FolderWalk> folder_;
  std::optional<ListingWalker> listing_;
};

// The bar's total (and so its ETA) before the listing ends, where the
// source counts cheaply: a plain folder by a walk of its names (no stat),
// SQLite by its row count when every key is selected. An S3 listing cannot
// count without listing: its total comes when cp's own listing ends.
class BackgroundCount {
 public:
  BackgroundCount(const Store& source, const CpArgs& args,
                  Progress& progress) {
    if (!progress.enabled()) return;
    if (const FileBackend* folder = BareFolder(source)) {
      thread_ = std::thread([this, folder, &args, &progress] {
        FolderWalk walk(*folder, args.prefix, false);
        std::uint64_t count = 0;
        while (!stop_.load() && InterruptSignal() == 0) {
          Result<bool> more = walk.Next();
          if (!more.ok()) return;
          if (!*more) {
            progress.SetTotal(count);
            return;
          }
          if (args.filter.Selects(walk.entry().key)) ++count;
        }
      });
    } else if (source.spec().store_url.starts_with("sqlite:") &&
               args.prefix.empty() && args.filter.empty()) {
      thread_ = std::thread([&source, &progress] {
        Result<std::size_t> count = source.backend().size();
        if (count.ok()) progress.SetTotal(*count);
      });
    }
  }
  ~BackgroundCount() { Stop(); }
  BackgroundCount(const BackgroundCount&) = delete;
  BackgroundCount& operator=(const BackgroundCount&) = delete;

  // Before the listing's own count is set: it is the exact one.
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A queue of keys between the lister and the workers, bounded so a
// listing of millions of keys never runs far ahead of the copies.
class TaskQueue {
 public:
  explicit TaskQueue(std::size_t capacity) : capacity_(capacity) {}

  // False if the queue was stopped.
  bool Push(Task task) {
    std::unique_lock lock(mutex_);
    while (tasks_.size() >= capacity_ && !stopped_) {
      changed_.wait_for(lock, kPoll);
      if (InterruptSignal() != 0) stopped_ = true;
    }
    if (stopped_) return false;
    tasks_.push_back(std::move(task));
    changed_.notify_all();
    return true;
  }

  // The next task; nullopt once the queue is closed and empty, or stopped.
  std::optional<Task> Pop() {
    std::unique_lock lock(mutex_);
    while (tasks_.empty() && !closed_ && !stopped_) {
      changed_.wait_for(lock, kPoll);
      if (InterruptSignal() != 0) stopped_ = true;
    }
    if (stopped_ || tasks_.empty()) return std::nullopt;
    Task task = std::move(tasks_.front());
    tasks_.pop_front();
    changed_.notify_all();
    return task;
  }

  // No more tasks will come.
  void Close() {
    std::scoped_lock lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }

  // Drop what is queued: the workers finish the key in hand only.
  void Stop() {
    std::scoped_lock lock(mutex_);
    stopped_ = true;
    changed_.notify_all();
  }

 private:
  // Waits wake up this often to notice a caught signal.
  static constexpr std::chrono::milliseconds kPoll{50};
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;
  // Guarded by mutex_.
  std::deque<Task> tasks_;
  bool closed_ = false;
  bool stopped_ = false;
};

struct Counts {
  std::atomic<std::size_t> listed{0};
  std::atomic<std::size_t> copied{0};
  std::atomic<std::size_t> unchanged{0};
  std::atomic<std::size_t> vanished{0};
  std::atomic<std::size_t> failed{0};
  std::atomic<std::size_t> done{0};
  std::size_t deleted = 0;
  std::size_t skipped = 0;      // Files a folder source holds that cp skips.
  std::size_t temp_files = 0;   // Seen in a destination folder's walk.
};

// Merges the source's listing with the destination's and queues each
// selected key that needs a copy (or a look at its contents). Returns
// false if the queue stopped (a failure with --fail-fast, a signal).
Result<bool> QueueKeys(const CpArgs& args, const Store& source,
                       const Store* destination, const CompareRules& rules,
                       TaskQueue& queue, Counts& counts, Progress& progress) {
  const bool compare = args.update || args.checksum;
  const std::string verb = args.verb;
  // The files a folder source holds that cp will not read are named on
  // stderr as the walk passes them.
  SideListing from(&source, args.prefix, compare,
                   [&](const std::string& name, const std::string& reason) {
                     if (!args.filter.Selects(name)) return;
                     progress.Print("backends: " + verb + ": skipped " +
                                    QuoteKey(name) + ": " + reason);
                     ++counts.skipped;
                   });
  SideListing to(compare ? destination : nullptr, args.prefix, true);
  // Whether the destination lists the sizes of the values themselves.
  const bool listed_sizes_are_values =
      destination == nullptr ||
      dynamic_cast<const FileBackend*>(&destination->backend()) != nullptr;
  const bool sized_listing = compare && BareFolder(source) != nullptr;
  BACKENDS_ASSIGN_OR_RETURN(bool have_to, to.Next());
  while (true) {
    // Unchanged keys queue nothing, so a signal is noticed here too.
    if (InterruptSignal() != 0) return false;
    BACKENDS_ASSIGN_OR_RETURN(bool have_from, from.Next());
    if (!have_from) break;
    const ListEntry& entry = from.entry();
    if (!args.filter.Selects(entry.key)) continue;
    counts.listed.fetch_add(1);
    while (have_to && to.entry().key < entry.key) {
      BACKENDS_ASSIGN_OR_RETURN(have_to, to.Next());
    }
    Task task{.key = entry.key, .verdict = Verdict::kCopy};
    // A file's listed size is its value's; S3 lists a gzipped object's
    // stored size, not what load_stream yields.
    if (sized_listing) task.size = entry.info.size;
    if (have_to && to.entry().key == entry.key) {
      task.verdict = Decide(entry.info, to.entry().info, rules);
      if (task.verdict == Verdict::kCopy && !listed_sizes_are_values &&
          entry.info.size != to.entry().info.size) {
        // S3 lists a gzipped object's stored size; its stat gives the
        // value's (one request, for keys whose listed sizes differ only).
        BACKENDS_ASSIGN_OR_RETURN(std::optional<KeyInfo> value_info,
                                  destination->backend().stat(entry.key));
        if (value_info) {
          task.verdict = Decide(entry.info, *value_info, rules);
        }
      }
    }
    if (task.verdict == Verdict::kUnchanged) {
      counts.unchanged.fetch_add(1);
      counts.done.fetch_add(1);
      progress.Add(1);
      continue;
    }
    if (!queue.Push(std::move(task))) return false;
  }
  // The rest of a destination folder, for the temporary files it may hold.
  while (have_to && to.walks_folder()) {
    if (InterruptSignal() != 0) return false;
    BACKENDS_ASSIGN_OR_RETURN(have_to, to.Next());
  }
  counts.temp_files = to.temp_files_seen();
  return true;
}

// sync --delete: the destination keys the source lacks, among those the
// filter selects, by a second walk of both listings (keys only).
Result<bool> DeleteExtra(const CpArgs& args, const Store& source,
                         const Store* destination, Counts& counts,
                         Progress& progress) {
  if (destination == nullptr) return true;
  ListingWalker from(&source.backend(), args.prefix,
                     ListingWalker::Detail::kKeys);
  ListingWalker to(&destination->backend(), args.prefix,
                   ListingWalker::Detail::kKeys);
  BACKENDS_ASSIGN_OR_RETURN(bool have_from, from.Next());
  while (true) {
    if (InterruptSignal() != 0) return false;
    BACKENDS_ASSIGN_OR_RETURN(bool have_to, to.Next());
    if (!have_to) return true;
    const std::string& key = to.entry().key;
    while (have_from && from.entry().key < key) {
      BACKENDS_ASSIGN_OR_RETURN(have_from, from.Next());
    }
    if (have_from && from.entry().key == key) continue;
    if (!args.filter.Selects(key)) continue;
    if (args.dry_run) {
      progress.Print("delete " + key, stdout);
      ++counts.deleted;
      continue;
    }
    BACKENDS_ASSIGN_OR_RETURN(bool removed, destination->backend().remove(key));
    if (removed) ++counts.deleted;
  }
}

}  // namespace

// A folder we write to first loses the temporary files that killed
// writers (an interrupted cp among them) left behind; a live writer's stay.
void RemoveAbandonedTempFiles(const Store* destination, const char* verb,
                              Progress& progress) {
  if (destination == nullptr) return;
  auto* folder = dynamic_cast<FileBackend*>(&destination->base());
  if (folder == nullptr) return;
  Result<std::size_t> removed = folder->remove_abandoned_temp_files();
  if (!removed.ok()) {
    progress.Print(std::string("backends: ") + verb +
                   ": could not look for abandoned temporary files: " +
                   removed.status().ToString());
  } else if (*removed > 0) {
    progress.Print(std::string("backends: ") + verb + ": removed " +
                   std::to_string(*removed) +
                   " temporary file(s) left by killed writers");
  }
}

Result<int> RunCp(const CpArgs& args) {
  const char* verb = args.verb.c_str();
  BACKENDS_ASSIGN_OR_RETURN(StoreSpec source_spec,
                            StoreSpec::Parse(args.source_url));
  BACKENDS_ASSIGN_OR_RETURN(StoreSpec destination_spec,
                            StoreSpec::Parse(args.destination_url));
  BACKENDS_ASSIGN_OR_RETURN(auto source,
                            Store::Open(source_spec, OpenMode::kExisting));
  // A dry run creates nothing: a missing destination folder is empty.
  std::unique_ptr<Store> destination;
  if (!args.dry_run || !destination_spec.FolderMissing()) {
    BACKENDS_ASSIGN_OR_RETURN(
        destination,
        Store::Open(destination_spec,
                    args.dry_run ? OpenMode::kExisting : OpenMode::kCreate));
  }
  const Folders folders = FoldersOf(*source, destination.get());
  const CompareRules rules{
      .checksum = args.checksum,
      .sizes_comparable = source_spec.format != ValueFormat::kJson &&
                          destination_spec.format != ValueFormat::kJson &&
                          source_spec.cache == CacheKind::kNone &&
                          destination_spec.cache == CacheKind::kNone,
      .versions_comparable =
          destination != nullptr && IsS3(*source) && IsS3(*destination),
      .equal_times = folders.source != nullptr,
  };

  Progress progress(ProgressWanted(args.quiet) ? stderr : nullptr, verb,
                    ProgressUnit::kKeys, 0);
  const bool compare = args.update || args.checksum;
  // Without --update the destination is not listed: its folder is swept
  // before the copy. With it, the listing's walk sees any temporary file
  // and the sweep follows the copy (when our own are gone) only then.
  if (!args.dry_run && !compare) {
    RemoveAbandonedTempFiles(destination.get(), verb, progress);
  }
  Counts counts;
  // A dry run prints its plan in listing order: one worker.
  const std::size_t jobs =
      args.dry_run ? 1 : std::max<std::size_t>(1, args.jobs);
  TaskQueue queue(jobs * 64);

  // A failing key is named with its reason and counted; the others go on
  // unless --fail-fast.
  auto work = [&] {
    while (std::optional<Task> task = queue.Pop()) {
      auto outcome = args.dry_run
                         ? PlanOne(*source, destination.get(), *task)
                         : CopyOne(*source, *destination, folders, *task,
                                   progress);
      if (!outcome.ok() && InterruptSignal() != 0) return;
      if (!outcome.ok()) {
        counts.failed.fetch_add(1);
        progress.Print(std::string("backends: ") + verb +
                       ": failed: " + outcome.status().message());
        if (args.fail_fast) queue.Stop();
      } else if (*outcome == Outcome::kCopied) {
        counts.copied.fetch_add(1);
        if (args.dry_run) progress.Print("copy " + task->key, stdout);
      } else if (*outcome == Outcome::kUnchanged) {
        counts.unchanged.fetch_add(1);
      } else {
        counts.vanished.fetch_add(1);
      }
      counts.done.fetch_add(1);
      progress.Add(1);
    }
  };
  std::vector<std::thread> workers;
  workers.reserve(jobs);
  for (std::size_t i = 0; i < jobs; ++i) workers.emplace_back(work);
  BackgroundCount count(*source, args, progress);
  Result<bool> listed = QueueKeys(args, *source, destination.get(), rules,
                                  queue, counts, progress);
  count.Stop();
  if (!listed.ok()) queue.Stop();
  // The count is known once the listing ends: the bar gains a total.
  if (listed.ok() && *listed) progress.SetTotal(counts.listed.load());
  queue.Close();
  for (std::thread& worker : workers) worker.join();
  if (!args.dry_run && counts.temp_files > 0 && InterruptSignal() == 0) {
    RemoveAbandonedTempFiles(destination.get(), verb, progress);
  }
  const std::size_t skipped = counts.skipped;

  bool deletion_skipped = false;
  Status deletion = Status::OK();
  if (args.delete_extra && listed.ok() && InterruptSignal() == 0) {
    if (counts.failed.load() > 0) {
      deletion_skipped = true;  // A source key may be missing for a reason.
    } else {
      auto deleted =
          DeleteExtra(args, *source, destination.get(), counts, progress);
      if (!deleted.ok()) deletion = deleted.status();
    }
  }
  progress.Finish();

  if (InterruptSignal() != 0) {
    std::fprintf(
        stderr,
        "backends: %s after %zu of %zu keys listed%s; each "
        "destination value is either its old or its new one\n",
        InterruptedError(verb).message().c_str(), counts.done.load(),
        counts.listed.load(),
        args.delete_extra
            ? (", " + std::to_string(counts.deleted) + " deleted").c_str()
            : "");
    return kExitFailure;  // main() ends the process by the signal.
  }
  if (!listed.ok()) return listed.status();
  if (!deletion.ok()) {
    PrintError(deletion);
    std::fprintf(stderr, "backends: %s: stopped deleting after %zu keys\n",
                 verb, counts.deleted);
    return kExitFailure;
  }
  const std::size_t failed = counts.failed.load();
  if (args.dry_run) {
    std::fprintf(stderr,
                 "%s: dry run, nothing changed: %zu to copy, %zu "
                 "unchanged",
                 verb, counts.copied.load(), counts.unchanged.load());
    if (args.delete_extra) {
      std::fprintf(stderr, ", %zu to delete", counts.deleted);
    }
    std::fprintf(stderr, ", %zu skipped, %zu failed\n", skipped, failed);
    return failed > 0 ? kExitFailure : kExitOk;
  }
  if (!args.quiet || failed > 0) {
    std::fprintf(stderr, "%s: %zu copied, %zu unchanged, ", verb,
                 counts.copied.load(), counts.unchanged.load());
    if (args.delete_extra)
      std::fprintf(stderr, "%zu deleted, ", counts.deleted);
    std::fprintf(stderr, "%zu skipped, %zu failed", skipped, failed);
    // Listed, then removed from the source before their turn: not copied.
    if (counts.vanished.load() > 0) {
      std::fprintf(stderr, ", %zu vanished from the source while copying",
                   counts.vanished.load());
    }
    if (args.fail_fast && failed > 0) {
      std::fprintf(stderr, "; stopped at the first failure (--fail-fast)");
    }
    if (deletion_skipped) {
      std::fprintf(stderr, "; nothing deleted because a key failed");
    }
    std::fputc('\n', stderr);
  }
  return failed > 0 ? kExitFailure : kExitOk;
}

}  // namespace backends::cli

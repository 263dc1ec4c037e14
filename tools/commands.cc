// The single-store verbs: put, get, rm (and rm --recursive), ls, stat, url,
// presign, make-public / make-private, cache prune. (cp and sync live in
// copy.cc.)

#include "commands.h"

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "backends/backend.h"
#include "backends/cache.h"
#include "backends/file.h"
#include "cli_io.h"
#include "cli_store.h"
#include "interrupt.h"
#include "progress.h"
#if BACKENDS_WITH_S3
#include "backends/s3.h"
#endif

namespace backends::cli {

void PrintError(const Status& status) {
  std::string line = status.message();
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fprintf(stderr, "backends: %s\n", line.c_str());
}

namespace {

Result<std::unique_ptr<Store>> OpenStore(const std::string& url,
                                         OpenMode mode) {
  BACKENDS_ASSIGN_OR_RETURN(StoreSpec spec, StoreSpec::Parse(url));
  return Store::Open(spec, mode);
}

int Missing(std::string_view verb, std::string_view key) {
  std::fprintf(stderr, "backends: %s %s: no such key\n",
               std::string(verb).c_str(), QuoteKey(key).c_str());
  return kExitMissing;
}

std::FILE* ProgressOut(bool quiet) {
  return ProgressWanted(quiet) ? stderr : nullptr;
}

std::string FormatTime(
    const std::optional<std::chrono::system_clock::time_point>& time) {
  if (!time) return "-";
  std::time_t t = std::chrono::system_clock::to_time_t(*time);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) return "-";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The scheme of a store's URL, for messages: "memory", "file", "s3".
std::string SchemeOf(const Backend& backend) {
  std::string url = backend.url();
  return url.substr(0, url.find(':'));
}

#if BACKENDS_WITH_S3
Result<S3Backend*> RequireS3(Store& store, std::string_view verb,
                             std::string_view key) {
  if (auto* s3 = dynamic_cast<S3Backend*>(&store.base())) return s3;
  return UnimplementedError(
      std::string(verb) + " " + QuoteKey(key) + ": only s3:// stores support " +
      std::string(verb) + " (this store is " + SchemeOf(store.base()) + "://)");
}
#else
Status RequireS3(Store& store, std::string_view verb, std::string_view key) {
  return UnimplementedError(std::string(verb) + " " + QuoteKey(key) +
                            ": only s3:// stores support " + std::string(verb) +
                            ", and this build has no S3 (" +
                            SchemeOf(store.base()) + "://)");
}
#endif

bool Conditional(const PutArgs& args) {
  return args.if_absent || args.if_version.has_value();
}

}  // namespace

Result<int> RunPut(const PutArgs& args) {
  const std::string context = "put " + QuoteKey(args.key);
  std::string bytes;
  if (args.value && *args.value != "-") {
    bytes = *args.value;
  } else {
    std::optional<InputSource> source;
    if (args.file) {
      BACKENDS_ASSIGN_OR_RETURN(InputSource file,
                                InputSource::Open(context, *args.file));
      source.emplace(std::move(file));
    } else {
      source.emplace(InputSource::Stdin(context));
    }
    Progress progress(ProgressOut(args.quiet), "put", ProgressUnit::kBytes,
                      source->size().value_or(0), kChunkBytes);
    BACKENDS_ASSIGN_OR_RETURN(StoreSpec spec, StoreSpec::Parse(args.url));
    if (spec.format == ValueFormat::kRaw && !Conditional(args)) {
      // Raw bytes stream into the store (a file input was opened above, so
      // a missing one never reaches the store); if the input fails midway,
      // nothing is stored.
      BACKENDS_ASSIGN_OR_RETURN(auto store,
                                Store::Open(spec, OpenMode::kCreate));
      InputByteSource stream(*source, progress);
      BACKENDS_RETURN_IF_ERROR(store->backend().dump_stream(args.key, stream));
      progress.Finish();
      return kExitOk;
    }
    // Text and JSON are checked whole, before the store is opened: an
    // unreadable input must not create the store's folder or touch a value.
    BACKENDS_ASSIGN_OR_RETURN(bytes, source->ReadAll(progress));
    progress.Finish();
  }
  // Checked before the store is opened: a bad value or key creates nothing.
  BACKENDS_ASSIGN_OR_RETURN(StoreSpec spec, StoreSpec::Parse(args.url));
  BACKENDS_ASSIGN_OR_RETURN(std::string stored,
                            spec.ToStored(args.key, std::move(bytes)));
  BACKENDS_ASSIGN_OR_RETURN(auto store, OpenStore(args.url, OpenMode::kCreate));
  if (!Conditional(args)) {
    BACKENDS_RETURN_IF_ERROR(store->backend().dump(args.key, stored));
    return kExitOk;
  }
  const WriteCondition condition{.if_absent = args.if_absent,
                                 .if_version = args.if_version};
  BACKENDS_ASSIGN_OR_RETURN(
      std::string version,
      store->backend().dump_if(args.key, stored, condition));
  std::printf("%s\n", version.c_str());
  return kExitOk;
}

Result<int> RunMv(const MvArgs& args) {
  BACKENDS_ASSIGN_OR_RETURN(auto store,
                            OpenStore(args.url, OpenMode::kExisting));
  Backend& backend = store->backend();
  BACKENDS_ASSIGN_OR_RETURN(
      bool moved, args.keep
                      ? backend.copy(args.source_key, args.destination_key)
                      : backend.rename(args.source_key, args.destination_key));
  if (!moved) return Missing(args.keep ? "mv --keep" : "mv", args.source_key);
  return kExitOk;
}

namespace {

// A raw value streams from the store to the file or stdout. With -o the
// file is replaced only when the whole value has arrived; on stdout a
// failure midway leaves what was written (as with curl).
Result<int> StreamGet(const GetArgs& args, Store& store) {
  const std::string context = "get " + QuoteKey(args.key);
  std::uint64_t total = 0;
  if (ProgressWanted(args.quiet)) {
    BACKENDS_ASSIGN_OR_RETURN(auto info, store.backend().stat(args.key));
    if (info) total = info->size;
  }
  Progress progress(ProgressOut(args.quiet), "get", ProgressUnit::kBytes, total,
                    kChunkBytes);
  if (args.output && *args.output != "-") {
    BACKENDS_ASSIGN_OR_RETURN(OutputFile file,
                              OutputFile::Create(context, *args.output));
    CallbackSink sink(
        [&](std::string_view piece) { return file.Write(piece, progress); });
    BACKENDS_ASSIGN_OR_RETURN(bool found,
                              store.backend().load_stream(args.key, sink));
    if (!found) return Missing("get", args.key);
    BACKENDS_RETURN_IF_ERROR(file.Commit());
  } else {
    CallbackSink sink([&](std::string_view piece) {
      return WriteStdout(context, piece, progress);
    });
    BACKENDS_ASSIGN_OR_RETURN(bool found,
                              store.backend().load_stream(args.key, sink));
    if (!found) return Missing("get", args.key);
  }
  progress.Finish();
  return kExitOk;
}

}  // namespace

Result<int> RunGet(const GetArgs& args) {
  BACKENDS_ASSIGN_OR_RETURN(auto store,
                            OpenStore(args.url, OpenMode::kExisting));
  if (store->spec().format == ValueFormat::kRaw) return StreamGet(args, *store);
  BACKENDS_ASSIGN_OR_RETURN(std::optional<std::string> value,
                            store->backend().load(args.key));
  if (!value) return Missing("get", args.key);
  BACKENDS_ASSIGN_OR_RETURN(std::string bytes,
                            store->FromStored(args.key, std::move(*value)));
  const std::string context = "get " + QuoteKey(args.key);
  Progress progress(ProgressOut(args.quiet), "get", ProgressUnit::kBytes,
                    bytes.size(), kChunkBytes);
  if (args.output && *args.output != "-") {
    BACKENDS_ASSIGN_OR_RETURN(OutputFile file,
                              OutputFile::Create(context, *args.output));
    BACKENDS_RETURN_IF_ERROR(file.Write(bytes, progress));
    BACKENDS_RETURN_IF_ERROR(file.Commit());
  } else {
    BACKENDS_RETURN_IF_ERROR(WriteStdout(context, bytes, progress));
  }
  progress.Finish();
  return kExitOk;
}

namespace {

// rm --recursive: removes the selected keys under the prefix, one listing
// page at a time; a signal stops it between two keys.
Result<int> RemoveRecursively(const RmArgs& args, Store& store) {
  const std::string& prefix = args.keys.front();
  ListingWalker walker(&store.backend(), prefix, ListingWalker::Detail::kKeys);
  std::size_t removed = 0;
  while (true) {
    if (InterruptSignal() != 0) {
      std::fprintf(stderr, "backends: %s after removing %zu keys\n",
                   InterruptedError("rm").message().c_str(), removed);
      return kExitFailure;  // main() ends the process by the signal.
    }
    BACKENDS_ASSIGN_OR_RETURN(bool more, walker.Next());
    if (!more) break;
    const std::string& key = walker.entry().key;
    if (!args.filter.Selects(key)) continue;
    auto gone = store.backend().remove(key);
    if (!gone.ok()) {
      PrintError(gone.status());
      std::fprintf(stderr, "backends: rm: stopped after removing %zu keys\n",
                   removed);
      return kExitFailure;
    }
    if (*gone) ++removed;
  }
  if (!args.quiet) {
    std::fprintf(stderr, "rm: removed %zu %s\n", removed,
                 removed == 1 ? "key" : "keys");
  }
  return kExitOk;
}

}  // namespace

Result<int> RunRm(const RmArgs& args) {
  if (args.recursive && (args.keys.size() != 1 || args.keys[0].empty())) {
    std::fprintf(stderr,
                 "backends: rm --recursive takes one non-empty PREFIX (it "
                 "removes every key that starts with it)\n");
    return kExitUsage;
  }
  if (!args.recursive && !args.filter.empty()) {
    std::fprintf(stderr,
                 "backends: rm: --include/--exclude need --recursive\n");
    return kExitUsage;
  }
  BACKENDS_ASSIGN_OR_RETURN(auto store,
                            OpenStore(args.url, OpenMode::kExisting));
  if (args.recursive) return RemoveRecursively(args, *store);
  int exit_code = kExitOk;
  for (const std::string& key : args.keys) {
    if (InterruptSignal() != 0) return InterruptedError("rm");
    auto removed = store->backend().remove(key);
    if (!removed.ok()) {
      PrintError(removed.status());
      exit_code = kExitFailure;
    } else if (!*removed && exit_code == kExitOk) {
      exit_code = Missing("rm", key);
    } else if (!*removed) {
      Missing("rm", key);
    }
  }
  return exit_code;
}

namespace {

void PrintLsEntry(const ListEntry& entry, bool long_format) {
  if (!long_format) {
    std::printf("%s\n", entry.key.c_str());
    return;
  }
  std::printf("%12llu  %-20s  %s\n",
              static_cast<unsigned long long>(entry.info.size),
              FormatTime(entry.info.modified).c_str(), entry.key.c_str());
}

void PrintCommonPrefix(const std::string& prefix, bool long_format) {
  if (long_format) {
    std::printf("%12s  %-20s  %s\n", "PRE", "-", prefix.c_str());
  } else {
    std::printf("%s\n", prefix.c_str());
  }
}

// ls --delimiter: keys and common prefixes of one level, merged in order.
Status ListOneLevel(const LsArgs& args, Backend& backend) {
  std::string resume_after;
  while (true) {
    BACKENDS_ASSIGN_OR_RETURN(EntryPage page, backend.list_entries({
                                                  .prefix = args.prefix,
                                                  .start_after = resume_after,
                                                  .limit = kListPageSize,
                                                  .delimiter = args.delimiter,
                                              }));
    std::size_t e = 0;
    std::size_t p = 0;
    while (e < page.entries.size() || p < page.common_prefixes.size()) {
      if (p == page.common_prefixes.size() ||
          (e < page.entries.size() &&
           page.entries[e].key < page.common_prefixes[p])) {
        const ListEntry& entry = page.entries[e++];
        if (args.filter.Selects(entry.key)) {
          PrintLsEntry(entry, args.long_format);
        }
      } else {
        PrintCommonPrefix(page.common_prefixes[p++], args.long_format);
      }
    }
    if (!page.more || page.resume_after.empty()) return Status::OK();
    resume_after = std::move(page.resume_after);
  }
}

}  // namespace

Result<int> RunLs(const LsArgs& args) {
  BACKENDS_ASSIGN_OR_RETURN(auto store,
                            OpenStore(args.url, OpenMode::kExisting));
  if (!args.delimiter.empty()) {
    BACKENDS_RETURN_IF_ERROR(ListOneLevel(args, store->backend()));
    return kExitOk;
  }
  // -l takes size and time from the listing pages, never a request per key.
  ListingWalker walker(&store->backend(), args.prefix,
                       args.long_format ? ListingWalker::Detail::kEntries
                                        : ListingWalker::Detail::kKeys);
  while (true) {
    BACKENDS_ASSIGN_OR_RETURN(bool more, walker.Next());
    if (!more) break;
    if (args.filter.Selects(walker.entry().key)) {
      PrintLsEntry(walker.entry(), args.long_format);
    }
  }
  return kExitOk;
}

Result<int> RunStat(const StatArgs& args) {
  BACKENDS_ASSIGN_OR_RETURN(auto store,
                            OpenStore(args.url, OpenMode::kExisting));
  BACKENDS_ASSIGN_OR_RETURN(std::optional<KeyInfo> info,
                            store->backend().stat(args.key));
  if (!info) return Missing("stat", args.key);
  std::string out = "key: " + args.key + "\n";
  out += "size: " + std::to_string(info->size) + "\n";
  if (info->modified) out += "modified: " + FormatTime(info->modified) + "\n";
  if (!info->version.empty()) {
    out += (SchemeOf(store->base()) == "s3" ? "etag: " : "version: ") +
           info->version + "\n";
  }
  if (!info->content_type.empty()) {
    out += "content-type: " + info->content_type + "\n";
  }
  if (!info->content_encoding.empty()) {
    out += "content-encoding: " + info->content_encoding + "\n";
  }
  for (const auto& [name, value] : info->metadata) {
    out += "metadata " + name + ": " + value + "\n";
  }
  std::fputs(out.c_str(), stdout);
  return kExitOk;
}

Result<int> RunUrl(const UrlArgs& args) {
  BACKENDS_ASSIGN_OR_RETURN(auto store, OpenStore(args.url, OpenMode::kCreate));
  Backend& base = store->base();
  if (auto* file = dynamic_cast<FileBackend*>(&base)) {
    BACKENDS_ASSIGN_OR_RETURN(std::filesystem::path path, file->path(args.key));
    std::printf("%s\n", path.c_str());
    return kExitOk;
  }
#if BACKENDS_WITH_S3
  if (auto* s3 = dynamic_cast<S3Backend*>(&base)) {
    BACKENDS_RETURN_IF_ERROR(ValidateKey("url", args.key));
    std::printf("%s\n", s3->public_url(args.key).c_str());
    return kExitOk;
  }
#endif
  return UnimplementedError("url " + QuoteKey(args.key) + ": a " +
                            SchemeOf(base) +
                            ":// store has no per-key URL (file:// and s3:// "
                            "have one)");
}

Result<int> RunPresign(const PresignArgs& args) {
  BACKENDS_ASSIGN_OR_RETURN(auto store, OpenStore(args.url, OpenMode::kCreate));
#if BACKENDS_WITH_S3
  BACKENDS_ASSIGN_OR_RETURN(S3Backend * s3,
                            RequireS3(*store, "presign", args.key));
  BACKENDS_ASSIGN_OR_RETURN(
      std::string url,
      s3->presign(args.key, args.expires,
                  args.put ? S3PresignMethod::kPut : S3PresignMethod::kGet));
  std::printf("%s\n", url.c_str());
  return kExitOk;
#else
  return RequireS3(*store, "presign", args.key);
#endif
}

Result<int> RunAcl(const AclArgs& args) {
  const char* verb = args.make_public ? "make-public" : "make-private";
  BACKENDS_ASSIGN_OR_RETURN(auto store, OpenStore(args.url, OpenMode::kCreate));
#if BACKENDS_WITH_S3
  BACKENDS_ASSIGN_OR_RETURN(S3Backend * s3, RequireS3(*store, verb, args.key));
  BACKENDS_RETURN_IF_ERROR(args.make_public ? s3->make_public(args.key)
                                            : s3->make_private(args.key));
  return kExitOk;
#else
  return RequireS3(*store, verb, args.key);
#endif
}

Result<int> RunCachePrune(const PruneArgs& args) {
  BACKENDS_ASSIGN_OR_RETURN(StoreSpec spec, StoreSpec::Parse(args.url));
  if (spec.cache == CacheKind::kNone) {
    std::fprintf(stderr,
                 "backends: cache prune: the URL needs ?cache=json or "
                 "?cache=text (and &timeout=SECONDS for text caches)\n");
    return kExitUsage;
  }
  // (A sqlite:// cache keeps each entry's expiry in its row.)
  if (spec.cache == CacheKind::kText && !spec.timeout_given &&
      !spec.store_url.starts_with("sqlite:")) {
    // A text entry expires `timeout` after its modification time: guessing
    // the default would remove entries the application still counts live.
    std::fprintf(stderr,
                 "backends: cache prune: a ?cache=text URL needs "
                 "&timeout=SECONDS (the lifetime the application uses)\n");
    return kExitUsage;
  }
  BACKENDS_ASSIGN_OR_RETURN(auto store, Store::Open(spec, OpenMode::kExisting));
  auto* cache = dynamic_cast<ExpiringBackend*>(&store->backend());
  if (cache == nullptr) return InternalError("cache prune: not a cache");
  // Where the store keeps each entry's expiry itself (a column on SQLite,
  // the key's TTL on Redis), its prune is one statement, or nothing.
  if (spec.store_url.starts_with("sqlite:") ||
      spec.store_url.starts_with("redis")) {
    BACKENDS_ASSIGN_OR_RETURN(std::size_t pruned, cache->prune());
    if (!args.quiet) {
      std::printf("removed %zu expired %s\n", pruned,
                  pruned == 1 ? "entry" : "entries");
    }
    return kExitOk;
  }
  // The entries are read in listing pages of the store beneath the cache,
  // never the whole key set; asking the cache whether one is live removes
  // it if it expired. An entry that cannot be decoded is left in place.
  ListingWalker walker(&store->base(), "", ListingWalker::Detail::kKeys);
  std::size_t removed = 0;
  while (true) {
    if (InterruptSignal() != 0) {
      std::fprintf(stderr,
                   "backends: %s after removing %zu expired %s; the other "
                   "entries are intact\n",
                   InterruptedError("cache prune").message().c_str(), removed,
                   removed == 1 ? "entry" : "entries");
      return kExitFailure;  // main() ends the process by the signal.
    }
    BACKENDS_ASSIGN_OR_RETURN(bool more, walker.Next());
    if (!more) break;
    auto live = cache->contains(walker.entry().key);
    if (!live.ok() && live.status().code() != ErrorCode::kDataLoss) {
      PrintError(live.status());
      std::fprintf(stderr,
                   "backends: cache prune: stopped after removing %zu expired "
                   "%s\n",
                   removed, removed == 1 ? "entry" : "entries");
      return kExitFailure;
    }
    // Listed a moment ago and not live now: expired, and removed by the
    // check (or removed by someone else meanwhile).
    if (live.ok() && !*live) ++removed;
  }
  if (!args.quiet) {
    std::printf("removed %zu expired %s\n", removed,
                removed == 1 ? "entry" : "entries");
  }
  return kExitOk;
}

}  // namespace backends::cli

#pragma once

// Backend: the dict-like byte store every storage system implements.
//
// Keys are UTF-8 strings; values are bytes. The contract is the original
// library's (len, keys, items, load, dump, delete, iteration, `in`) in C++
// words, with errors made explicit:
//
//   auto store = backends::OpenBackend("file:///var/lib/app");
//   BACKENDS_RETURN_IF_ERROR((*store)->dump("users/42", "{}"));
//   BACKENDS_ASSIGN_OR_RETURN(std::optional<std::string> v,
//                             (*store)->load("users/42"));
//
// Thread safety: every Backend is safe for concurrent use from many threads
// without external locking. A reader never sees a torn (partly written)
// value: it sees the old value or the new one.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/status.h"

namespace backends {

/// Whether `status` is a dump_if whose condition failed (kAlreadyExists or
/// kFailedPrecondition): compare-and-swap loops start over on it.
bool IsConditionFailure(const Status& status);

/// Checks the rule every store applies to keys: non-empty, at most
/// kMaxKeyBytes bytes, valid UTF-8, and no control characters (U+0000 to
/// U+001F and U+007F). Stores that map keys to paths add their own rules
/// (see file.h). Returns kInvalidArgument naming `operation` and the key.
///@{
inline constexpr std::size_t kMaxKeyBytes = 1024;
Status ValidateKey(std::string_view operation, std::string_view key);
///@}

/// True if `bytes` is well-formed UTF-8 (no overlongs, no surrogates, no
/// code points past U+10FFFF).
bool IsValidUtf8(std::string_view bytes);

/// Quotes `key` for an error message: printable ASCII kept, everything else
/// escaped, long keys shortened. Never fails.
std::string QuoteKey(std::string_view key);

/// A value read in pieces, for Backend::dump_stream.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Copies up to buffer.size() bytes into `buffer` and returns how many;
  /// 0 means the end. An error ends the dump, and nothing is stored.
  virtual Result<std::size_t> Read(std::span<char> buffer) = 0;
  /// The total size, when known in advance (S3 uses it to choose multipart).
  virtual std::optional<std::uint64_t> size() const { return std::nullopt; }
};

/// Receives a value in pieces, for Backend::load_stream.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  /// Takes the next piece. An error ends the load.
  virtual Status Write(std::string_view piece) = 0;
};

/// One page of a sorted listing (Backend::list_page).
struct KeyPage {
  /// Sorted bytewise, each after the request's `start_after`.
  std::vector<std::string> keys;
  /// Whether keys may follow the last one: the next page starts after it.
  /// False means the listing is complete, as does a page without keys.
  bool more = false;
};

/// What stat() and listings know of a stored value.
struct KeyInfo {
  /// The value's size in bytes (S3: as stored, e.g. gzip-compressed).
  std::uint64_t size = 0;
  /// Unknown for stores that keep no time (memory).
  std::optional<std::chrono::system_clock::time_point> modified;
  /// Differs whenever the value was replaced: the ETag on S3, a generation
  /// the store keeps elsewhere. Empty when the store keeps none.
  std::string version;
  /// Kept by some stores (S3) and filled by stat() only; empty otherwise.
  ///@{
  std::string content_type;
  std::string content_encoding;
  std::vector<std::pair<std::string, std::string>> metadata;
  ///@}
};

/// What Backend::list_entries reads: a page of a sorted listing.
struct ListRequest {
  /// Only keys that start with it (every key when empty).
  std::string prefix;
  /// The page starts after this position (from the first when empty): a
  /// key, or the `resume_after` of the page before.
  std::string start_after;
  /// At most this many entries and common prefixes together (at least 1).
  std::size_t limit = 1000;
  /// When not empty, keys that hold it after the prefix are rolled up into
  /// one common prefix (up to and including its first occurrence), as S3's
  /// ListObjectsV2 does with delimiter=/: one level of a tree.
  std::string delimiter;
};

/// A key of a listing (Backend::list_entries).
struct ListEntry {
  /// The key.
  std::string key;
  /// Its size, modified and version; no content type or metadata.
  KeyInfo info;
};

/// One page of Backend::list_entries.
struct EntryPage {
  /// Sorted bytewise by key.
  std::vector<ListEntry> entries;
  /// With a delimiter: the common prefixes of this page, sorted, each
  /// ending with the delimiter.
  std::vector<std::string> common_prefixes;
  /// Whether more may follow; the next page starts after `resume_after`.
  bool more = false;
  /// The page's last key, or, when the page ends with a common prefix P,
  /// P followed by the byte 0xFF: no UTF-8 key holds it, so the next page
  /// starts after every key under P without listing P again. Empty for a
  /// page without entries.
  std::string resume_after;
};

/// What Backend::dump_if requires of the value a key holds when the write
/// lands. The check and the write are one step on every store that
/// implements dump_if: of two writers racing with the same condition, at
/// most one wins.
struct WriteCondition {
  /// Create-only: the write fails with kAlreadyExists if the key holds a
  /// value.
  bool if_absent = false;
  /// Replace-if-unchanged: the write fails with kFailedPrecondition unless
  /// the key holds a value whose KeyInfo::version (from stat, a listing or
  /// an earlier dump_if) equals this one. A missing key fails the same way.
  std::optional<std::string> if_version;

  /// Create-only: if_absent.
  static WriteCondition Absent() {
    return {.if_absent = true, .if_version = std::nullopt};
  }
  /// Replace-if-unchanged: if_version = `version`.
  static WriteCondition Version(std::string version) {
    return {.if_absent = false, .if_version = std::move(version)};
  }
};

/// The dict-like byte store every storage system implements (see
/// backend.h). Thread safety: every Backend is safe for concurrent use
/// from many threads without external locking. Methods without a default
/// are what a store must implement; the defaults are built from them.
class Backend {
 public:
  /// A key and its value: what items() and iteration give.
  using Entry = std::pair<std::string, std::string>;
  class Iterator;

  Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
  virtual ~Backend();

  /// Returns the value stored under `key`, or std::nullopt if there is none.
  /// It is not an error if `key` does not exist.
  /// Errors: kInvalidArgument for a key the store cannot hold, kDataLoss for
  /// stored bytes that cannot be read back, kIOError / kUnavailable / ... for
  /// the store's own failures.
  virtual Result<std::optional<std::string>> load(std::string_view key) = 0;

  /// Stores `value` under `key`, replacing any previous value atomically: a
  /// concurrent reader sees the old value or the new one, never a mix. On
  /// failure the previous value is intact.
  virtual Status dump(std::string_view key, std::string_view value) = 0;

  /// Stores what `source` yields under `key`, atomically like dump. Stores
  /// that can (filesystem, S3) never hold the whole value in memory; the
  /// default reads it all, then calls dump. If the source fails, nothing is
  /// stored, the previous value is intact, and the source's error returns.
  virtual Status dump_stream(std::string_view key, ByteSource& source);

  /// Writes the value under `key` to `sink` in pieces. Returns false, and
  /// writes nothing, if there is no value. After an error the sink may hold
  /// part of the value: callers that need all or nothing write somewhere
  /// temporary first (as the CLI's `get -o` does).
  virtual Result<bool> load_stream(std::string_view key, ByteSink& sink);

  /// Removes `key`. Returns true if it existed, false if it did not; it is
  /// not an error if `key` does not exist.
  virtual Result<bool> remove(std::string_view key) = 0;

  /// Returns up to `length` bytes of the value under `key` starting at byte
  /// `offset`, or std::nullopt if there is no value. A range that runs past
  /// the end gives the bytes that exist: an offset at or past the end (or a
  /// length of 0) gives an empty string, not an error. The filesystem reads
  /// the range with pread, S3 with a ranged GET; the default loads the
  /// whole value and slices it.
  virtual Result<std::optional<std::string>> load_range(
      std::string_view key, std::uint64_t offset, std::uint64_t length);

  /// Stores a copy of the value under `src_key` under `dst_key`, replacing
  /// any value there; returns false (and changes nothing) if `src_key` holds
  /// none. Copying a key onto itself changes nothing. S3 copies
  /// server-side, the filesystem hard-links a new name to the value's file
  /// (values are never changed in place, so the two stay independent); the
  /// default loads and dumps.
  virtual Result<bool> copy(std::string_view src_key, std::string_view dst_key);

  /// Moves the value under `src_key` to `dst_key`, replacing any value
  /// there; returns false (and changes nothing) if `src_key` holds none.
  /// Renaming a key onto itself changes nothing. Atomic on memory, the
  /// filesystem (rename(2)) and SQLite (one transaction); on S3 it is a
  /// server-side copy, then a delete, so a reader between the two sees both
  /// keys. The default is copy, then remove.
  virtual Result<bool> rename(std::string_view src_key,
                              std::string_view dst_key);

  /// dump, if the key's current value meets `condition` (see
  /// WriteCondition), checked and written in one step. Returns the new
  /// value's version (KeyInfo::version). A failed condition writes nothing
  /// and returns kAlreadyExists (if_absent) or kFailedPrecondition
  /// (if_version), whose messages say "precondition failed". With neither
  /// condition set it is dump. Compare-and-swap (stat before load: a value
  /// replaced in between changes the version, so the write then fails):
  ///
  ///   for (;;) {
  ///     BACKENDS_ASSIGN_OR_RETURN(auto info, store.stat(key));
  ///     BACKENDS_ASSIGN_OR_RETURN(auto old, store.load(key));
  ///     std::string next = Compute(old);
  ///     auto written = store.dump_if(
  ///         key, next, info ? WriteCondition::Version(info->version)
  ///                         : WriteCondition::Absent());
  ///     if (written.ok()) break;
  ///     if (!IsConditionFailure(written.status())) return written.status();
  ///   }
  ///
  /// Every store in this library implements it (memory, the filesystem,
  /// S3, SQLite and the cache layers); the default, for a Backend written
  /// elsewhere, returns kUnimplemented, since no check-then-write built
  /// from the other calls can keep two writers from both winning.
  virtual Result<std::string> dump_if(std::string_view key,
                                      std::string_view value,
                                      const WriteCondition& condition);

  /// Decides from the bytes and stat of a value whether remove_if removes it.
  using RemovalCheck =
      std::function<bool(std::string_view value, const KeyInfo& info)>;

  /// Removes `key` only if `should_remove` approves the value it holds when
  /// it is removed, and returns whether it removed it. Stores that can make
  /// the check and the removal one step do: the filesystem renames the file
  /// aside, checks it, and renames it back if it was not approved (unless a
  /// newer value took its place meanwhile); memory checks under its lock.
  /// The default loads, checks and removes, so a value written between the
  /// check and the removal is lost. Caches remove expired entries this way.
  virtual Result<bool> remove_if(std::string_view key,
                                 const RemovalCheck& should_remove);

  /// Returns every key that starts with `prefix` (every key when `prefix`
  /// is empty), sorted bytewise. Reflects the store as it is now (keys
  /// written by other processes included), never a cached list.
  virtual Result<std::vector<std::string>> list(std::string_view prefix) = 0;

  /// Returns every key, sorted bytewise: list("").
  Result<std::vector<std::string>> keys() { return list(""); }

  /// Returns up to `limit` (at least 1) of the keys that start with
  /// `prefix` and sort after `start_after` (from the first when empty),
  /// sorted bytewise. Reading a whole listing page by page, each starting
  /// after the last key of the one before, sees every key that exists
  /// throughout, never one twice, in order; a key added or removed meanwhile
  /// may or may not be seen. Memory, the filesystem and S3 read one page's
  /// worth (the filesystem: the folders on the way to it); the default
  /// slices list(), so it gathers every key.
  virtual Result<KeyPage> list_page(std::string_view prefix,
                                    std::string_view start_after,
                                    std::size_t limit);

  /// Like list_page, with each key's size, modification time and version
  /// (where the store keeps them) read from the listing itself, and with an
  /// optional delimiter. Each entry's size and version are those stat()
  /// gives (S3: the stored size of a gzip-stored object). Memory, the
  /// filesystem, S3 and the caches read the listing's own metadata (see
  /// docs/design.md for what each costs); the default lists, then stats
  /// each key.
  virtual Result<EntryPage> list_entries(const ListRequest& request);

  /// Returns the size and, where the store knows them, the modification
  /// time, version, content type, encoding and user metadata of the value
  /// under `key`, or std::nullopt if there is none. The default loads the
  /// value.
  virtual Result<std::optional<KeyInfo>> stat(std::string_view key);

  /// Returns whether `key` holds a value. The default loads the value.
  virtual Result<bool> contains(std::string_view key);

  /// Returns the number of keys. The default counts keys().
  virtual Result<std::size_t> size();

  /// Returns every key/value pair, sorted by key. A key removed between the
  /// listing and its load is left out. The default lists, then loads.
  virtual Result<std::vector<Entry>> items();

  /// Removes every key. The default removes keys() one by one.
  virtual Status clear();

  /// A URL that reopens an equivalent store with OpenBackend(), without
  /// secrets, e.g. "file:///var/lib/app" or "memory://".
  virtual std::string url() const = 0;

  /// Range-for over key/value pairs: each element is a Result<Entry>.
  /// The keys are read in pages (list_page) as iteration proceeds, so it
  /// holds one page of keys at a time; each value is loaded when its
  /// element is reached, and keys removed by then are skipped. An error
  /// (listing or loading) is delivered as one failed element, after which
  /// the iteration ends:
  ///
  ///   for (const auto& entry : store) {
  ///     if (!entry.ok()) return entry.status();
  ///     const auto& [key, value] = *entry;
  ///   }
  ///@{
  Iterator begin();
  std::default_sentinel_t end() { return {}; }
  ///@}
};

/// An input iterator over a Backend's Result<Entry> elements (see
/// Backend::begin). Not safe to share between threads.
class Backend::Iterator {
 public:
  /// An input iterator's operations; operator== with std::default_sentinel
  /// is true at the end.
  ///@{
  using value_type = Result<Entry>;
  using difference_type = std::ptrdiff_t;

  Iterator() = default;
  const Result<Entry>& operator*() const { return *current_; }
  const Result<Entry>* operator->() const { return &*current_; }
  Iterator& operator++();
  void operator++(int) { ++*this; }
  friend bool operator==(const Iterator& it, std::default_sentinel_t) {
    return !it.current_.has_value();
  }
  ///@}

 private:
  friend class Backend;
  explicit Iterator(Backend* backend);
  void Advance();

  Backend* backend_ = nullptr;
  KeyPage page_;
  std::size_t next_ = 0;
  bool failed_ = false;
  std::optional<Result<Entry>> current_;
};

/// Forwards every call to an inner backend it owns. Layers (caches, retries,
/// fault injection) derive from it and override what they change. Every
/// method forwards, the derived ones (contains, size, items, stat,
/// list_page) too, so a layer that changes load or list must also override
/// those it affects. The exceptions are built from the layer's own calls,
/// so a layer that transforms values or hides keys can never be bypassed:
/// dump_stream and load_stream (the buffered defaults call the layer's dump
/// and load), list_entries (the layer's list and stat), load_range, copy
/// and rename (the layer's load, dump and remove) and dump_if
/// (kUnimplemented until the layer implements it).
class BackendWrapper : public Backend {
 public:
  /// Wraps `inner`, which it owns. REQUIRES: `inner` is not null.
  explicit BackendWrapper(std::unique_ptr<Backend> inner);
  ~BackendWrapper() override;

  /// The wrapped store.
  Backend& inner() const { return *inner_; }

  Result<std::optional<std::string>> load(std::string_view key) override;
  Status dump(std::string_view key, std::string_view value) override;
  Result<bool> remove(std::string_view key) override;
  Result<std::vector<std::string>> list(std::string_view prefix) override;
  Result<KeyPage> list_page(std::string_view prefix,
                            std::string_view start_after,
                            std::size_t limit) override;
  Result<EntryPage> list_entries(const ListRequest& request) override;
  Result<std::optional<KeyInfo>> stat(std::string_view key) override;
  Result<bool> contains(std::string_view key) override;
  Result<std::size_t> size() override;
  Result<std::vector<Entry>> items() override;
  Status clear() override;
  std::string url() const override;

 private:
  std::unique_ptr<Backend> inner_;
};

}  // namespace backends

#pragma once

// Reading a store's listing for the verbs that walk many keys (ls, cp,
// sync, rm --recursive): page by page, so memory stays bounded whatever the
// number of keys, and filtered by the --include / --exclude globs.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "backends/backend.h"
#include "backends/status.h"

namespace backends::cli {

/// Keys per listing page.
inline constexpr std::size_t kListPageSize = 1000;

/// One --include or --exclude, in command-line order.
struct FilterRule {
  bool include = true;
  std::string pattern;  // A glob: * ? [...] match any character, '/' too.
};

/// Selects keys by glob rules: the last rule whose pattern matches the
/// whole key decides; a key no rule matches is selected unless an
/// --include was given (then only what some --include matches is).
class KeyFilter {
 public:
  KeyFilter() = default;
  explicit KeyFilter(std::vector<FilterRule> rules);

  bool Selects(std::string_view key) const;
  bool empty() const { return rules_.empty(); }

 private:
  std::vector<FilterRule> rules_;
  bool select_unmatched_ = true;
};

/// Walks the keys under a prefix in sorted order, one page at a time:
/// list_entries (size, time, version) or list_page (keys only, cheaper).
/// A null backend is an empty store (a destination that does not exist).
class ListingWalker {
 public:
  enum class Detail { kKeys, kEntries };

  ListingWalker(Backend* backend, std::string prefix, Detail detail);

  /// Moves to the next entry; false at the end. Errors: the store's.
  Result<bool> Next();
  /// The current entry (after Next() returned true). With kKeys only its
  /// key is set.
  const ListEntry& entry() const { return page_[index_]; }

 private:
  Status ReadPage();

  Backend* backend_;
  std::string prefix_;
  Detail detail_;
  std::vector<ListEntry> page_;
  std::size_t index_ = 0;
  std::string resume_after_;
  bool started_ = false;
  bool more_ = true;
};

}  // namespace backends::cli

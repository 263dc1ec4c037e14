// The conformance cases of list_entries: metadata that agrees with stat,
// versions, paging (with and without a delimiter) and its edges.

#include <gmock/gmock.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "conformance/backend_conformance.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// What a whole listing read in pages gave.
struct Gathered {
  std::vector<ListEntry> entries;
  std::vector<std::string> common_prefixes;
  std::vector<std::string> Keys() const {
    std::vector<std::string> keys;
    for (const auto& entry : entries) keys.push_back(entry.key);
    return keys;
  }
};

// Reads `request`'s listing page by page, each starting after the last
// one's resume_after; fails the test on an error, a page over the limit,
// an empty page that says more follow, or too many pages.
Gathered ReadEntries(Backend& store, ListRequest request) {
  Gathered all;
  for (int pages = 0; pages < 1000; ++pages) {
    auto page = store.list_entries(request);
    EXPECT_THAT(page, IsOk());
    if (!page.ok()) break;
    const std::size_t items =
        page->entries.size() + page->common_prefixes.size();
    EXPECT_LE(items, std::max<std::size_t>(request.limit, 1));
    EXPECT_TRUE(std::is_sorted(page->common_prefixes.begin(),
                               page->common_prefixes.end()));
    for (auto& entry : page->entries) all.entries.push_back(std::move(entry));
    for (auto& common : page->common_prefixes) {
      all.common_prefixes.push_back(std::move(common));
    }
    if (!page->more) break;
    EXPECT_NE(items, 0u) << "a page without entries says more follow";
    if (items == 0) break;
    EXPECT_GT(page->resume_after, request.start_after);
    request.start_after = page->resume_after;
  }
  return all;
}

// Keys in several folders; bytes above 0x7F; '.' sorts before '/'.
const std::vector<std::string>& TreeKeys() {
  static const std::vector<std::string> keys = {
      "a.txt", "a/1",   "a/2",        "a/b/3",      "a/b/c/4",   "a/c",
      "b",     "c/d/e", "\xc3\xa9/1", "\xc3\xa9/2", "\xc3\xa9z", "z"};
  return keys;
}

std::vector<std::string> Sorted(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

TEST_P(BackendConformanceTest, ListEntriesAgreeWithStat) {
  for (std::size_t i = 0; i < TreeKeys().size(); ++i) {
    BACKENDS_ASSERT_OK(
        store_->dump(TreeKeys()[i], Value(static_cast<int>(i), 10 + 7 * i)));
  }
  Gathered all = ReadEntries(*store_, {});
  ASSERT_THAT(all.Keys(), ElementsAreArray(Sorted(TreeKeys())));
  EXPECT_THAT(all.common_prefixes, IsEmpty());
  for (const ListEntry& entry : all.entries) {
    SCOPED_TRACE(entry.key);
    ASSERT_OK_AND_ASSIGN(auto info, store_->stat(entry.key));
    ASSERT_TRUE(info.has_value());
    ASSERT_OK_AND_ASSIGN(auto value, store_->load(entry.key));
    ASSERT_TRUE(value.has_value());
    EXPECT_EQ(entry.info.size, value->size());
    EXPECT_EQ(entry.info.size, info->size);
    EXPECT_FALSE(info->version.empty()) << "stat gives no version";
    EXPECT_EQ(entry.info.version, info->version);
    // Listings may carry finer times than stat (S3: milliseconds against
    // an HTTP date's seconds).
    ASSERT_EQ(entry.info.modified.has_value(), info->modified.has_value());
    if (info->modified) {
      using std::chrono::floor;
      using std::chrono::seconds;
      EXPECT_EQ(floor<seconds>(*entry.info.modified),
                floor<seconds>(*info->modified));
    }
  }
}

TEST_P(BackendConformanceTest, VersionChangesWithTheValueOnly) {
  BACKENDS_ASSERT_OK(store_->dump("changed", Value(1, 40)));
  BACKENDS_ASSERT_OK(store_->dump("kept", Value(2, 40)));
  ASSERT_OK_AND_ASSIGN(auto changed, store_->stat("changed"));
  ASSERT_OK_AND_ASSIGN(auto kept, store_->stat("kept"));
  ASSERT_TRUE(changed && kept);
  ASSERT_FALSE(changed->version.empty());
  // Reading a value changes nothing; writing a new one changes its version.
  ASSERT_THAT(store_->load("kept"), IsOk());
  BACKENDS_ASSERT_OK(store_->dump("changed", Value(3, 40)));
  ASSERT_OK_AND_ASSIGN(auto changed_after, store_->stat("changed"));
  ASSERT_OK_AND_ASSIGN(auto kept_after, store_->stat("kept"));
  ASSERT_TRUE(changed_after && kept_after);
  EXPECT_NE(changed_after->version, changed->version);
  EXPECT_EQ(kept_after->version, kept->version);
  ASSERT_OK_AND_ASSIGN(auto page, store_->list_entries({}));
  ASSERT_EQ(page.entries.size(), 2u);
  EXPECT_EQ(page.entries[0].info.version, changed_after->version);
  EXPECT_EQ(page.entries[1].info.version, kept->version);
  // A key removed and written again is a new value too.
  ASSERT_THAT(store_->remove("kept"), IsOkAndHolds(true));
  BACKENDS_ASSERT_OK(store_->dump("kept", Value(4, 41)));
  ASSERT_OK_AND_ASSIGN(auto rewritten, store_->stat("kept"));
  ASSERT_TRUE(rewritten);
  EXPECT_NE(rewritten->version, kept->version);
}

TEST_P(BackendConformanceTest, EntryPagesReadWhatListReads) {
  for (const auto& key : TreeKeys()) {
    BACKENDS_ASSERT_OK(store_->dump(key, Value(0)));
  }
  for (std::string prefix : {"", "a", "a/", "a/b/", "\xc3\xa9", "q"}) {
    ASSERT_OK_AND_ASSIGN(auto listed, store_->list(prefix));
    for (std::size_t limit : {1u, 2u, 3u, 1000u}) {
      SCOPED_TRACE("prefix \"" + prefix + "\" limit " + std::to_string(limit));
      Gathered all = ReadEntries(*store_, {.prefix = prefix, .limit = limit});
      EXPECT_THAT(all.Keys(), ElementsAreArray(listed));
      EXPECT_THAT(all.common_prefixes, IsEmpty());
    }
  }
}

TEST_P(BackendConformanceTest, DelimiterListsOneLevel) {
  for (const auto& key : TreeKeys()) {
    BACKENDS_ASSERT_OK(store_->dump(key, Value(0)));
  }
  struct Case {
    std::string prefix;
    std::vector<std::string> keys;
    std::vector<std::string> common_prefixes;
  };
  const std::vector<Case> cases = {
      {"", {"a.txt", "b", "z", "\xc3\xa9z"}, {"a/", "c/", "\xc3\xa9/"}},
      {"a", {"a.txt"}, {"a/"}},
      {"a/", {"a/1", "a/2", "a/c"}, {"a/b/"}},
      {"a/b", {}, {"a/b/"}},
      {"a/b/", {"a/b/3"}, {"a/b/c/"}},
      {"a/b/c/", {"a/b/c/4"}, {}},  // no delimiter in the rest
      {"c/", {}, {"c/d/"}},
      {"\xc3\xa9", {"\xc3\xa9z"}, {"\xc3\xa9/"}},
      {"q", {}, {}},
  };
  for (const Case& c : cases) {
    for (std::size_t limit : {1u, 2u, 3u, 1000u}) {
      SCOPED_TRACE("prefix \"" + c.prefix + "\" limit " +
                   std::to_string(limit));
      Gathered all = ReadEntries(
          *store_, {.prefix = c.prefix, .limit = limit, .delimiter = "/"});
      // Paging across a common prefix neither repeats it nor skips what
      // follows it.
      EXPECT_THAT(all.Keys(), ElementsAreArray(c.keys));
      EXPECT_THAT(all.common_prefixes, ElementsAreArray(c.common_prefixes));
    }
  }
}

TEST_P(BackendConformanceTest, DelimiterOtherThanSlash) {
  for (const char* key : {"p-1", "p-2/x", "p/q", "q-", "r"}) {
    BACKENDS_ASSERT_OK(store_->dump(key, Value(0)));
  }
  for (std::size_t limit : {1u, 1000u}) {
    Gathered all = ReadEntries(*store_, {.limit = limit, .delimiter = "-"});
    EXPECT_THAT(all.Keys(), ElementsAre("p/q", "r"));
    EXPECT_THAT(all.common_prefixes, ElementsAre("p-", "q-"));
  }
}

TEST_P(BackendConformanceTest, EntryPagingWhileKeysComeAndGoNeverRepeats) {
  for (int i = 0; i < 40; i += 2) {
    const std::string key = "k/" + std::to_string(100 + i);
    BACKENDS_ASSERT_OK(store_->dump(key, Value(i)));
    if (i % 8 == 0) {
      BACKENDS_ASSERT_OK(store_->dump(key + "d/x", Value(i)));
    }
  }
  // Keys and common prefixes as the pages give them, in listing order.
  std::vector<std::string> seen;
  ListRequest request{.prefix = "k/", .limit = 3, .delimiter = "/"};
  for (int round = 0; round < 100; ++round) {
    ASSERT_OK_AND_ASSIGN(auto page, store_->list_entries(request));
    std::vector<std::string> items = page.common_prefixes;
    for (const auto& entry : page.entries) items.push_back(entry.key);
    std::sort(items.begin(), items.end());
    seen.insert(seen.end(), items.begin(), items.end());
    if (!page.more) break;
    request.start_after = page.resume_after;
    // Keys and folders appear on both sides of the position; keys go.
    BACKENDS_ASSERT_OK(ChurnKeys(round));
    BACKENDS_ASSERT_OK(
        store_->dump("k/" + std::to_string(101 + round) + "d/y", Value(round)));
  }
  // The first three existed throughout.
  ExpectListedOnceInOrder(seen, {"k/100", "k/100d/", "k/102"});
}

TEST_P(BackendConformanceTest, EntryListingEdges) {
  for (const std::string delimiter : {"", "/"}) {
    ASSERT_OK_AND_ASSIGN(auto empty,
                         store_->list_entries({.delimiter = delimiter}));
    EXPECT_THAT(empty.entries, IsEmpty());
    EXPECT_THAT(empty.common_prefixes, IsEmpty());
    EXPECT_FALSE(empty.more);
  }
  for (const auto& key : TreeKeys()) {
    BACKENDS_ASSERT_OK(store_->dump(key, Value(0)));
  }
  // A start_after equal to a key starts after it.
  EXPECT_THAT(
      ReadEntries(*store_, {.start_after = "b", .delimiter = "/"}).Keys(),
      ElementsAre("z", "\xc3\xa9z"));
  EXPECT_THAT(ReadEntries(*store_, {.start_after = "b", .delimiter = "/"})
                  .common_prefixes,
              ElementsAre("c/", "\xc3\xa9/"));
  EXPECT_THAT(ReadEntries(*store_, {.start_after = "a/2"}).Keys(),
              ElementsAre("a/b/3", "a/b/c/4", "a/c", "b", "c/d/e", "z",
                          "\xc3\xa9/1", "\xc3\xa9/2", "\xc3\xa9z"));
  // The position after a common prefix skips all of it.
  EXPECT_THAT(
      ReadEntries(*store_, {.start_after = "a/\xff"}).Keys(),
      ElementsAre("b", "c/d/e", "z", "\xc3\xa9/1", "\xc3\xa9/2", "\xc3\xa9z"));
  ASSERT_OK_AND_ASSIGN(auto last,
                       store_->list_entries({.start_after = "\xc3\xa9z"}));
  EXPECT_THAT(last.entries, IsEmpty());
  EXPECT_FALSE(last.more);
}

}  // namespace backends::testing

#include "conformance/backend_conformance.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <unordered_set>

#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::Optional;

std::string DefaultValue(bool binary, int seed, std::size_t size) {
  std::string out(size, '\0');
  std::uint32_t x = static_cast<std::uint32_t>(seed) * 2654435761u + 1;
  for (std::size_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    auto byte = static_cast<unsigned char>(x >> 16);
    out[i] = binary ? static_cast<char>(byte)
                    : static_cast<char>('!' + byte % 94);  // printable ASCII
  }
  return out;
}

// Keys from the foundation issue: every store must hold them.
const std::vector<std::string>& AwkwardKeys() {
  static const std::vector<std::string> keys = {
      "english",   "中",           "什么/考", "emoji-😀",   "with space",
      "plus+sign", "per%cent",     "amp&and", "equals=eq", "nested/a/b/c",
      "UPPER",     "dots.in.name", "tilde~",  "quote'\"",  "semi;colon",
  };
  return keys;
}

// Keys invalid for every store (ValidateKey).
std::vector<std::string> CommonInvalidKeys() {
  return {"",
          std::string("nul\0byte", 8),
          "tab\tkey",
          "line\nfeed",
          "del\x7f",
          "\xff\xfe",
          "\xc0\xaf",      // overlong '/'
          "\xed\xa0\x80",  // a UTF-16 surrogate
          std::string(kMaxKeyBytes + 1, 'k')};
}

// Yields `data` in pieces of `piece` bytes, then fails if `fail` is set.
class PieceSource final : public ByteSource {
 public:
  PieceSource(std::string data, std::size_t piece, bool fail)
      : data_(std::move(data)), piece_(piece), fail_(fail) {}
  Result<std::size_t> Read(std::span<char> buffer) override {
    if (offset_ == data_.size()) {
      if (fail_) return UnavailableError("source failed on purpose");
      return std::size_t{0};
    }
    std::size_t n = std::min({buffer.size(), piece_, data_.size() - offset_});
    std::copy_n(data_.data() + offset_, n, buffer.data());
    offset_ += n;
    return n;
  }

 private:
  std::string data_;
  std::size_t piece_;
  bool fail_;
  std::size_t offset_ = 0;
};

class StringSink final : public ByteSink {
 public:
  Status Write(std::string_view piece) override {
    data.append(piece);
    ++pieces;
    return Status::OK();
  }
  std::string data;
  int pieces = 0;
};

}  // namespace

std::string BackendFactoryName(
    const ::testing::TestParamInfo<BackendFactory>& info) {
  return info.param.name;
}

void BackendConformanceTest::SetUp() {
  temp_ = std::make_unique<ScopedTempDir>();
  scratch_ = temp_->path();
  auto made = GetParam().make(scratch_);
  ASSERT_THAT(made, IsOk());
  store_ = std::move(made).value();
  ASSERT_NE(store_, nullptr);
}

void BackendConformanceTest::TearDown() {
  if (store_) {
    (void)store_->clear();
    store_.reset();
  }
  temp_.reset();
}

Status BackendConformanceTest::ChurnKeys(int round) {
  BACKENDS_RETURN_IF_ERROR(
      store_->dump("k/" + std::to_string(101 + round), Value(round)));
  BACKENDS_RETURN_IF_ERROR(
      store_->dump("k/0" + std::to_string(round), Value(round)));
  return store_->remove("k/" + std::to_string(138 - 2 * round)).status();
}

void ExpectListedOnceInOrder(const std::vector<std::string>& seen,
                             const std::vector<std::string>& first) {
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
  ASSERT_GE(seen.size(), first.size());
  EXPECT_THAT(
      std::vector<std::string>(seen.begin(), seen.begin() + first.size()),
      ElementsAreArray(first));
}

std::string BackendConformanceTest::Value(int seed, std::size_t size) const {
  const auto& factory = GetParam();
  if (factory.make_value) return factory.make_value(seed, size);
  return DefaultValue(factory.binary_values, seed, size);
}

TEST_P(BackendConformanceTest, MissingKeyIsNotAnError) {
  EXPECT_THAT(store_->load("missing"),
              IsOkAndHolds(::testing::Eq(std::nullopt)));
  EXPECT_THAT(store_->contains("missing"), IsOkAndHolds(false));
  EXPECT_THAT(store_->remove("missing"), IsOkAndHolds(false));
  EXPECT_THAT(store_->stat("missing"),
              IsOkAndHolds(::testing::Eq(std::nullopt)));
  EXPECT_THAT(store_->load("missing/nested"),
              IsOkAndHolds(::testing::Eq(std::nullopt)));
}

TEST_P(BackendConformanceTest, NewStoreIsEmpty) {
  EXPECT_THAT(store_->keys(), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->size(), IsOkAndHolds(0u));
  EXPECT_THAT(store_->items(), IsOkAndHolds(IsEmpty()));
  EXPECT_EQ(store_->begin(), std::default_sentinel);
}

TEST_P(BackendConformanceTest, DumpThenLoadRoundTrips) {
  std::string value = Value(1);
  BACKENDS_ASSERT_OK(store_->dump("key", value));
  EXPECT_THAT(store_->load("key"), IsOkAndHolds(Optional(value)));
  EXPECT_THAT(store_->contains("key"), IsOkAndHolds(true));
  ASSERT_OK_AND_ASSIGN(auto info, store_->stat("key"));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, value.size());
}

TEST_P(BackendConformanceTest, DumpOverwrites) {
  BACKENDS_ASSERT_OK(store_->dump("key", Value(1, 100)));
  BACKENDS_ASSERT_OK(store_->dump("key", Value(2, 10)));
  EXPECT_THAT(store_->load("key"), IsOkAndHolds(Optional(Value(2, 10))));
  EXPECT_THAT(store_->size(), IsOkAndHolds(1u));
}

TEST_P(BackendConformanceTest, RemoveReportsWhetherKeyExisted) {
  BACKENDS_ASSERT_OK(store_->dump("key", Value(1)));
  EXPECT_THAT(store_->remove("key"), IsOkAndHolds(true));
  EXPECT_THAT(store_->load("key"), IsOkAndHolds(::testing::Eq(std::nullopt)));
  EXPECT_THAT(store_->contains("key"), IsOkAndHolds(false));
  EXPECT_THAT(store_->remove("key"), IsOkAndHolds(false));
}

TEST_P(BackendConformanceTest, RemoveIfRemovesOnlyWhatTheCheckApproves) {
  const std::string value = Value(1, 100);
  BACKENDS_ASSERT_OK(store_->dump("key", value));
  auto never = [](std::string_view, const KeyInfo&) { return false; };
  EXPECT_THAT(store_->remove_if("key", never), IsOkAndHolds(false));
  auto other = [&](std::string_view v, const KeyInfo&) {
    return v == Value(2, 100);
  };
  EXPECT_THAT(store_->remove_if("key", other), IsOkAndHolds(false));
  EXPECT_THAT(store_->load("key"), IsOkAndHolds(Optional(value)));
  std::string seen;
  std::uint64_t seen_size = 0;
  auto same = [&](std::string_view v, const KeyInfo& info) {
    seen = v;
    seen_size = info.size;
    return v == value;
  };
  EXPECT_THAT(store_->remove_if("key", same), IsOkAndHolds(true));
  EXPECT_EQ(seen, value);
  EXPECT_EQ(seen_size, value.size());
  EXPECT_THAT(store_->load("key"), IsOkAndHolds(::testing::Eq(std::nullopt)));
  bool called = false;
  auto record = [&](std::string_view, const KeyInfo&) { return called = true; };
  EXPECT_THAT(store_->remove_if("key", record), IsOkAndHolds(false));
  EXPECT_FALSE(called);
  EXPECT_THAT(store_->remove_if("", record),
              StatusIs(ErrorCode::kInvalidArgument));
}

TEST_P(BackendConformanceTest, KeysItemsSizeAfterManyOperations) {
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 40; ++i) {
    std::string key = "k" + std::to_string(i);
    if (i % 3 == 0) key = "dir" + std::to_string(i % 2) + "/" + key;
    BACKENDS_ASSERT_OK(store_->dump(key, Value(i)));
    expected[key] = Value(i);
  }
  for (int i = 0; i < 40; i += 4) {
    std::string key = "k" + std::to_string(i);
    if (i % 3 == 0) key = "dir" + std::to_string(i % 2) + "/" + key;
    EXPECT_THAT(store_->remove(key), IsOkAndHolds(true)) << key;
    expected.erase(key);
  }
  BACKENDS_ASSERT_OK(store_->dump("k1", Value(99)));
  expected["k1"] = Value(99);

  std::vector<std::string> keys;
  std::vector<Backend::Entry> items(expected.begin(), expected.end());
  for (const auto& [key, value] : expected) keys.push_back(key);
  EXPECT_THAT(store_->keys(), IsOkAndHolds(ElementsAreArray(keys)));
  EXPECT_THAT(store_->size(), IsOkAndHolds(expected.size()));
  EXPECT_THAT(store_->items(), IsOkAndHolds(ElementsAreArray(items)));
  for (const auto& [key, value] : expected) {
    EXPECT_THAT(store_->contains(key), IsOkAndHolds(true)) << key;
  }
  EXPECT_THAT(store_->contains("k0"), IsOkAndHolds(false));
}

TEST_P(BackendConformanceTest, RangeForVisitsEveryPairInKeyOrder) {
  BACKENDS_ASSERT_OK(store_->dump("b", Value(2)));
  BACKENDS_ASSERT_OK(store_->dump("a", Value(1)));
  BACKENDS_ASSERT_OK(store_->dump("c/d", Value(3)));
  std::vector<Backend::Entry> seen;
  for (const auto& entry : *store_) {
    ASSERT_THAT(entry, IsOk());
    seen.push_back(*entry);
  }
  EXPECT_THAT(seen, ElementsAre(Backend::Entry("a", Value(1)),
                                Backend::Entry("b", Value(2)),
                                Backend::Entry("c/d", Value(3))));
}

TEST_P(BackendConformanceTest, IterationSkipsKeysRemovedMeanwhile) {
  BACKENDS_ASSERT_OK(store_->dump("a", Value(1)));
  BACKENDS_ASSERT_OK(store_->dump("b", Value(2)));
  BACKENDS_ASSERT_OK(store_->dump("c", Value(3)));
  std::vector<std::string> seen;
  for (const auto& entry : *store_) {
    ASSERT_THAT(entry, IsOk());
    seen.push_back(entry->first);
    if (entry->first == "a") {
      ASSERT_THAT(store_->remove("b"), IsOkAndHolds(true));
    }
  }
  EXPECT_THAT(seen, ElementsAre("a", "c"));
}

TEST_P(BackendConformanceTest, ListFiltersByPrefix) {
  for (const char* key : {"a/1", "a/2", "ab", "b", "a/sub/3"}) {
    BACKENDS_ASSERT_OK(store_->dump(key, Value(0)));
  }
  EXPECT_THAT(store_->list("a/"),
              IsOkAndHolds(ElementsAre("a/1", "a/2", "a/sub/3")));
  EXPECT_THAT(store_->list("a"),
              IsOkAndHolds(ElementsAre("a/1", "a/2", "a/sub/3", "ab")));
  EXPECT_THAT(store_->list("a/s"), IsOkAndHolds(ElementsAre("a/sub/3")));
  EXPECT_THAT(store_->list("zz"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->list(""),
              IsOkAndHolds(ElementsAre("a/1", "a/2", "a/sub/3", "ab", "b")));
}

// Reads the listing of `prefix` in pages of `limit` keys; fails the test on
// an error, a page over the limit, or an empty page that says more follow.
std::vector<std::string> ReadInPages(Backend& store, std::string_view prefix,
                                     std::size_t limit,
                                     std::string start_after = "") {
  std::vector<std::string> all;
  for (int pages = 0; pages < 10'000; ++pages) {
    auto page = store.list_page(prefix, start_after, limit);
    EXPECT_THAT(page, IsOk());
    if (!page.ok()) break;
    EXPECT_LE(page->keys.size(), std::max<std::size_t>(limit, 1));
    all.insert(all.end(), page->keys.begin(), page->keys.end());
    if (!page->more || page->keys.empty()) {
      EXPECT_FALSE(page->more && page->keys.empty());
      break;
    }
    start_after = page->keys.back();
  }
  return all;
}

TEST_P(BackendConformanceTest, PagesReadTheSortedListing) {
  // Bytes above 0x7F, and '/' between '.' and '0', sort bytewise across
  // folders: "a.b" < "a/x" < "a0", "b/zz" < "b/\xe4" < "b~".
  const std::vector<std::string> keys = {"a.b",
                                         "a/x",
                                         "a/y/z",
                                         "a0",
                                         "b/z",
                                         "b/zz",
                                         "b/\xe4\xb8\xad",
                                         "b~",
                                         "emoji-\xf0\x9f\x98\x80",
                                         "n/1/2/3",
                                         "n/1/4",
                                         "n/10",
                                         "n/2",
                                         "\xe4\xb8\xad"};
  for (const auto& key : keys) BACKENDS_ASSERT_OK(store_->dump(key, Value(0)));
  ASSERT_THAT(store_->keys(), IsOkAndHolds(ElementsAreArray(keys)));
  for (std::size_t limit : {0u, 1u, 2u, 3u, 5u, 13u, 14u, 15u, 1000u}) {
    EXPECT_THAT(ReadInPages(*store_, "", limit), ElementsAreArray(keys))
        << "limit " << limit;
  }
  for (std::string prefix : {"a", "a/", "b/", "n/1", "n/1/", "zz", "\xe4"}) {
    ASSERT_OK_AND_ASSIGN(auto listed, store_->list(prefix));
    EXPECT_THAT(ReadInPages(*store_, prefix, 2), ElementsAreArray(listed))
        << "prefix " << prefix;
  }
}

TEST_P(BackendConformanceTest, PageStartsAfterTheGivenKey) {
  for (const char* key : {"a/1", "a/2", "a/3", "b"}) {
    BACKENDS_ASSERT_OK(store_->dump(key, Value(0)));
  }
  // A key that exists, one between two keys, one inside a folder's span,
  // one before all and one after all.
  EXPECT_THAT(ReadInPages(*store_, "", 10, "a/2"), ElementsAre("a/3", "b"));
  EXPECT_THAT(ReadInPages(*store_, "", 10, "a/15"),
              ElementsAre("a/2", "a/3", "b"));
  EXPECT_THAT(ReadInPages(*store_, "", 10, "a/"),
              ElementsAre("a/1", "a/2", "a/3", "b"));
  EXPECT_THAT(ReadInPages(*store_, "", 10, "a"),
              ElementsAre("a/1", "a/2", "a/3", "b"));
  EXPECT_THAT(ReadInPages(*store_, "", 10, "a0"), ElementsAre("b"));
  EXPECT_THAT(ReadInPages(*store_, "", 10, "c"), IsEmpty());
  EXPECT_THAT(ReadInPages(*store_, "a/", 1, "a/1"), ElementsAre("a/2", "a/3"));
  ASSERT_OK_AND_ASSIGN(auto last, store_->list_page("", "a/3", 1));
  EXPECT_THAT(last.keys, ElementsAre("b"));
}

TEST_P(BackendConformanceTest, EmptyStoreHasOneEmptyPage) {
  ASSERT_OK_AND_ASSIGN(auto page, store_->list_page("", "", 10));
  EXPECT_THAT(page.keys, IsEmpty());
  EXPECT_FALSE(page.more);
}

TEST_P(BackendConformanceTest, PagingWhileKeysComeAndGoNeverRepeatsAKey) {
  for (int i = 0; i < 40; i += 2) {
    BACKENDS_ASSERT_OK(store_->dump("k/" + std::to_string(100 + i), Value(i)));
  }
  std::vector<std::string> seen;
  std::string after;
  for (int round = 0; round < 100; ++round) {
    ASSERT_OK_AND_ASSIGN(auto page, store_->list_page("k/", after, 3));
    seen.insert(seen.end(), page.keys.begin(), page.keys.end());
    if (!page.more || page.keys.empty()) break;
    after = page.keys.back();
    BACKENDS_ASSERT_OK(ChurnKeys(round));
  }
  // The first three keys existed throughout.
  ExpectListedOnceInOrder(seen, {"k/100", "k/102", "k/104"});
}

TEST_P(BackendConformanceTest, IterationReadsPastOnePage) {
  // More keys than one iteration page (1,000), so iteration pages. Written
  // by several threads where the store allows it: on a network store the
  // writes' round trips dominate the test.
  constexpr int kKeys = 1005;
  const int writers = GetParam().no_concurrency_reason.empty() ? 8 : 1;
  std::atomic<int> failed{0};
  std::vector<std::thread> pool;
  for (int w = 0; w < writers; ++w) {
    pool.emplace_back([&, w] {
      for (int i = w; i < kKeys; i += writers) {
        char key[16];
        std::snprintf(key, sizeof key, "p/%04d", i);
        if (!store_->dump(key, Value(i % 7)).ok()) ++failed;
      }
    });
  }
  for (auto& thread : pool) thread.join();
  ASSERT_EQ(failed.load(), 0);
  int count = 0;
  std::string last;
  for (const auto& entry : *store_) {
    ASSERT_THAT(entry, IsOk());
    EXPECT_LT(last, entry->first);
    last = entry->first;
    ++count;
  }
  EXPECT_EQ(count, kKeys);
}

TEST_P(BackendConformanceTest, ClearRemovesEverything) {
  for (int i = 0; i < 10; ++i) {
    BACKENDS_ASSERT_OK(store_->dump("n/" + std::to_string(i), Value(i)));
    BACKENDS_ASSERT_OK(store_->dump("flat" + std::to_string(i), Value(i)));
  }
  BACKENDS_ASSERT_OK(store_->clear());
  EXPECT_THAT(store_->keys(), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->size(), IsOkAndHolds(0u));
  EXPECT_THAT(store_->load("flat1"), IsOkAndHolds(::testing::Eq(std::nullopt)));
  BACKENDS_ASSERT_OK(store_->clear());  // Clearing an empty store is fine.
  BACKENDS_ASSERT_OK(store_->dump("n/1", Value(5)));
  EXPECT_THAT(store_->load("n/1"), IsOkAndHolds(Optional(Value(5))));
}

TEST_P(BackendConformanceTest, EmptyValueRoundTrips) {
  std::string value = Value(7, 0);
  BACKENDS_ASSERT_OK(store_->dump("empty", value));
  EXPECT_THAT(store_->load("empty"), IsOkAndHolds(Optional(value)));
  EXPECT_THAT(store_->contains("empty"), IsOkAndHolds(true));
  EXPECT_THAT(store_->keys(), IsOkAndHolds(ElementsAre("empty")));
}

TEST_P(BackendConformanceTest, OneMebibyteValueRoundTrips) {
  std::string value = Value(3, 1 << 20);
  BACKENDS_ASSERT_OK(store_->dump("big", value));
  ASSERT_OK_AND_ASSIGN(auto loaded, store_->load("big"));
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->size(), value.size());
  EXPECT_TRUE(*loaded == value) << "1 MiB value differs after the round trip";
}

TEST_P(BackendConformanceTest, StreamedDumpAndLoadRoundTrip) {
  std::string value = Value(11, (1 << 20) + 3);
  PieceSource source(value, 70000, /*fail=*/false);
  BACKENDS_ASSERT_OK(store_->dump_stream("streamed", source));
  EXPECT_THAT(store_->load("streamed"), IsOkAndHolds(Optional(value)));
  StringSink sink;
  EXPECT_THAT(store_->load_stream("streamed", sink), IsOkAndHolds(true));
  EXPECT_TRUE(sink.data == value) << "streamed load differs";
  StringSink missing;
  EXPECT_THAT(store_->load_stream("missing", missing), IsOkAndHolds(false));
  EXPECT_EQ(missing.pieces, 0);
}

TEST_P(BackendConformanceTest, FailingStreamStoresNothing) {
  BACKENDS_ASSERT_OK(store_->dump("key", Value(1)));
  PieceSource source(Value(2, 5000), 1000, /*fail=*/true);
  EXPECT_THAT(store_->dump_stream("key", source),
              StatusIs(ErrorCode::kUnavailable));
  EXPECT_THAT(store_->load("key"), IsOkAndHolds(Optional(Value(1))));
  PieceSource fresh(Value(3, 5000), 1000, /*fail=*/true);
  EXPECT_THAT(store_->dump_stream("fresh", fresh),
              StatusIs(ErrorCode::kUnavailable));
  EXPECT_THAT(store_->keys(), IsOkAndHolds(ElementsAre("key")));
}

TEST_P(BackendConformanceTest, BinaryValuesRoundTrip) {
  if (!GetParam().binary_values) {
    GTEST_SKIP() << GetParam().name << " stores typed values, not bytes";
  }
  std::string value;
  for (int i = 0; i < 256; ++i) value += static_cast<char>(i);
  value += std::string("\0\0\xff\xfe", 4);
  BACKENDS_ASSERT_OK(store_->dump("binary", value));
  EXPECT_THAT(store_->load("binary"), IsOkAndHolds(Optional(value)));
}

TEST_P(BackendConformanceTest, AwkwardKeysRoundTrip) {
  std::vector<std::string> keys = AwkwardKeys();
  for (const auto& key : GetParam().extra_valid_keys) keys.push_back(key);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    BACKENDS_ASSERT_OK(store_->dump(keys[i], Value(static_cast<int>(i))))
        << keys[i];
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_THAT(store_->load(keys[i]),
                IsOkAndHolds(Optional(Value(static_cast<int>(i)))))
        << keys[i];
  }
  std::set<std::string> sorted(keys.begin(), keys.end());
  EXPECT_THAT(store_->keys(), IsOkAndHolds(ElementsAreArray(sorted)));
  for (const auto& key : keys) {
    EXPECT_THAT(store_->remove(key), IsOkAndHolds(true)) << key;
  }
  EXPECT_THAT(store_->keys(), IsOkAndHolds(IsEmpty()));
}

TEST_P(BackendConformanceTest, InvalidKeysAreRejectedAndTouchNothing) {
  BACKENDS_ASSERT_OK(store_->dump("keep", Value(1)));
  std::vector<std::string> keys = CommonInvalidKeys();
  for (const auto& key : GetParam().extra_invalid_keys) keys.push_back(key);
  for (const auto& key : keys) {
    SCOPED_TRACE(QuoteKey(key));
    EXPECT_THAT(store_->dump(key, Value(2)),
                StatusIs(ErrorCode::kInvalidArgument));
    EXPECT_THAT(store_->load(key), StatusIs(ErrorCode::kInvalidArgument));
    EXPECT_THAT(store_->remove(key), StatusIs(ErrorCode::kInvalidArgument));
    EXPECT_THAT(store_->contains(key), StatusIs(ErrorCode::kInvalidArgument));
  }
  EXPECT_THAT(store_->keys(), IsOkAndHolds(ElementsAre("keep")));
  EXPECT_THAT(store_->load("keep"), IsOkAndHolds(Optional(Value(1))));
}

TEST_P(BackendConformanceTest, ErrorsNameTheOperationAndKey) {
  auto status = store_->dump("", Value(1));
  EXPECT_THAT(status, StatusIs(ErrorCode::kInvalidArgument,
                               ::testing::HasSubstr("dump")));
  auto loaded = store_->load(std::string(kMaxKeyBytes + 1, 'k'));
  EXPECT_THAT(loaded, StatusIs(ErrorCode::kInvalidArgument,
                               ::testing::HasSubstr("load \"kkkk")));
}

TEST_P(BackendConformanceTest, ConcurrentWritersOfOneKeyNeverTearValues) {
  const auto& factory = GetParam();
  if (!factory.no_concurrency_reason.empty()) {
    GTEST_SKIP() << factory.no_concurrency_reason;
  }
  const int threads = factory.threads;
  const int ops = factory.operations_per_thread;
  // Every value a writer may store; a load must return exactly one of them.
  std::unordered_set<std::string> legal;
  std::vector<std::vector<std::string>> values(
      static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < ops; ++i) {
      values[t].push_back(Value(t * 100000 + i, 4096 + 64 * (i % 8)));
      legal.insert(values[t].back());
    }
  }
  BACKENDS_ASSERT_OK(store_->dump("shared", values[0][0]));
  std::atomic<int> failures{0};
  std::atomic<int> torn{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < ops; ++i) {
        if (i % 2 == 0) {
          if (!store_->dump("shared", values[t][i]).ok()) ++failures;
        } else {
          auto got = store_->load("shared");
          if (!got.ok() || !got->has_value()) {
            ++failures;
          } else if (!legal.contains(**got)) {
            ++torn;
          }
        }
      }
    });
  }
  for (auto& thread : pool) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(torn.load(), 0) << "a load returned a value no writer stored";
}

TEST_P(BackendConformanceTest, ConcurrentWritersOfDistinctKeysKeepTheirOwn) {
  const auto& factory = GetParam();
  if (!factory.no_concurrency_reason.empty()) {
    GTEST_SKIP() << factory.no_concurrency_reason;
  }
  const int threads = factory.threads;
  const int ops = factory.operations_per_thread;
  std::atomic<int> wrong{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < ops; ++i) {
        std::string key =
            "t" + std::to_string(t) + "/k" + std::to_string(i % 5);
        std::string value = Value(t * 1000 + i, 100);
        if (!store_->dump(key, value).ok()) {
          ++wrong;
          continue;
        }
        auto got = store_->load(key);
        if (!got.ok() || !got->has_value() || **got != value) ++wrong;
        if (i % 7 == 6 && !store_->remove(key).ok()) ++wrong;
      }
    });
  }
  for (auto& thread : pool) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  ASSERT_OK_AND_ASSIGN(auto keys, store_->keys());
  for (const auto& key : keys) EXPECT_TRUE(key.starts_with("t")) << key;
}

}  // namespace backends::testing

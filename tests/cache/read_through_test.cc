// The read-through / write-through layer: reads after the back store
// changes, freshness, stale copies when the back is down, back failures
// reported, eviction order and counters.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "backends/cache.h"
#include "backends/memory.h"
#include "testutil/fake_clock.h"
#include "testutil/faulty_backend.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;
using Op = FaultyBackend::Op;
using std::chrono::seconds;

class ReadThroughTest : public ::testing::Test {
 protected:
  void Make(ReadThroughOptions options = {},
            std::unique_ptr<Backend> front = nullptr) {
    if (!front) front = std::make_unique<VolatileBackend>();
    auto back =
        std::make_unique<FaultyBackend>(std::make_unique<VolatileBackend>());
    back_ = back.get();
    options.clock = clock_;
    auto layer = NewReadThroughBackend(std::move(front), std::move(back),
                                       std::move(options));
    ASSERT_THAT(layer, IsOk());
    layer_ = std::move(layer).value();
  }
  Backend& back() { return back_->inner(); }  // Bypasses fault injection.
  auto Holds(const char* value) {
    return IsOkAndHolds(Optional(std::string(value)));
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  FaultyBackend* back_ = nullptr;
  std::unique_ptr<ReadThroughBackend> layer_;
};

TEST_F(ReadThroughTest, ReadsThroughAndKeepsACopy) {
  Make();
  BACKENDS_ASSERT_OK(back().dump("k", "v1"));
  EXPECT_THAT(layer_->load("k"), Holds("v1"));  // miss: from the back
  EXPECT_THAT(layer_->front().load("k"), Holds("v1"));
  const int back_loads = back_->calls(Op::kLoad);
  EXPECT_THAT(layer_->load("k"), Holds("v1"));  // hit: back not asked
  EXPECT_EQ(back_->calls(Op::kLoad), back_loads);
  // The back changes behind the layer: the copy stays until invalidated.
  BACKENDS_ASSERT_OK(back().dump("k", "v2"));
  EXPECT_THAT(layer_->load("k"), Holds("v1"));
  EXPECT_THAT(layer_->invalidate("k"), IsOkAndHolds(true));
  EXPECT_THAT(layer_->load("k"), Holds("v2"));
  // Removed from the back: the stale copy goes too once it is asked.
  ASSERT_THAT(back().remove("k"), IsOkAndHolds(true));
  ASSERT_THAT(layer_->invalidate("k"), IsOkAndHolds(true));
  EXPECT_THAT(layer_->load("k"), IsOkAndHolds(std::nullopt));
  CacheStats stats = layer_->stats();
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 3u);
}

TEST_F(ReadThroughTest, MaxAgeRereadsTheBackAfterChanges) {
  Make({.max_age = seconds(60)});
  BACKENDS_ASSERT_OK(layer_->dump("k", "v1"));
  BACKENDS_ASSERT_OK(back().dump("k", "v2"));
  clock_->Advance(seconds(59));
  EXPECT_THAT(layer_->load("k"), Holds("v1"));
  clock_->Advance(seconds(1));
  EXPECT_THAT(layer_->load("k"), Holds("v2"));
  EXPECT_THAT(layer_->front().load("k"), Holds("v2"));
  EXPECT_EQ(layer_->stats().expirations, 1u);
}

TEST_F(ReadThroughTest, AJsonCacheFrontExpiresItsOwnCopies) {
  auto front =
      NewJsonEnvelopeBackend(std::make_unique<VolatileBackend>(),
                             {.timeout = seconds(30), .clock = clock_});
  ASSERT_THAT(front, IsOk());
  Make({}, std::move(front).value());
  BACKENDS_ASSERT_OK(back().dump("doc", "[1]"));
  EXPECT_THAT(layer_->load("doc"), Holds("[1]"));
  BACKENDS_ASSERT_OK(back().dump("doc", "[2]"));
  EXPECT_THAT(layer_->load("doc"), Holds("[\n    1\n]"));  // front's format
  clock_->Advance(seconds(30));
  EXPECT_THAT(layer_->load("doc"), Holds("[2]"));
}

TEST_F(ReadThroughTest, ValuesTheFrontCannotHoldAreCountedAndServedByTheBack) {
  auto front = NewJsonEnvelopeBackend(std::make_unique<VolatileBackend>(),
                                      {.clock = clock_});
  ASSERT_THAT(front, IsOk());
  Make({}, std::move(front).value());
  BACKENDS_ASSERT_OK(layer_->dump("bytes", "not json"));
  EXPECT_THAT(layer_->load("bytes"), Holds("not json"));
  EXPECT_THAT(layer_->load("bytes"), Holds("not json"));
  const CacheStats stats = layer_->stats();
  EXPECT_EQ(stats.front_refusals, 3u);  // the dump's copy and two loads'
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.hits, 0u);
  BACKENDS_ASSERT_OK(layer_->dump("doc", "[1]"));
  EXPECT_THAT(layer_->load("doc"), Holds("[\n    1\n]"));  // front's format
  EXPECT_EQ(layer_->stats().hits, 1u);
  EXPECT_EQ(layer_->stats().front_refusals, 3u);
}

TEST_F(ReadThroughTest, AJsonCacheObjectIsAFront) {
  ASSERT_OK_AND_ASSIGN(auto cache,
                       JsonCache::InMemory({.timeout = seconds(30), .clock = clock_}));
  JsonEnvelopeBackend* envelope = &cache.store();
  auto back = std::make_unique<VolatileBackend>();
  Backend* back_store = back.get();
  ASSERT_OK_AND_ASSIGN(auto layer,
                       NewReadThroughBackend(std::move(cache), std::move(back),
                                             {.clock = clock_}));
  EXPECT_EQ(&layer->front(), envelope);
  BACKENDS_ASSERT_OK(back_store->dump("doc", "{\"b\": 1, \"a\": 2}"));
  EXPECT_THAT(layer->load("doc"), Holds("{\"b\": 1, \"a\": 2}"));
  BACKENDS_ASSERT_OK(back_store->dump("doc", "[2]"));
  EXPECT_THAT(layer->load("doc"),
              Holds("{\n    \"a\": 2,\n    \"b\": 1\n}"));  // the front's
  EXPECT_EQ(layer->stats().hits, 1u);
  clock_->Advance(seconds(30));  // the cache's own expiry
  EXPECT_THAT(layer->load("doc"), Holds("[2]"));
  // Bytes that are not JSON: refused by the front, counted, served.
  BACKENDS_ASSERT_OK(back_store->dump("raw", "\xff not json"));
  EXPECT_THAT(layer->load("raw"), Holds("\xff not json"));
  EXPECT_THAT(layer->load("raw"), Holds("\xff not json"));
  EXPECT_EQ(layer->stats().front_refusals, 2u);
  EXPECT_THAT(envelope->load("raw"), IsOkAndHolds(std::nullopt));
}

TEST_F(ReadThroughTest, ATextCacheObjectIsAFrontOfTextOnly) {
  ASSERT_OK_AND_ASSIGN(auto cache,
                       TextCache::InMemory({.timeout = seconds(30), .clock = clock_}));
  ExpiringBackend* expiring = &cache.store();
  auto back = std::make_unique<VolatileBackend>();
  Backend* back_store = back.get();
  ASSERT_OK_AND_ASSIGN(auto layer,
                       NewReadThroughBackend(std::move(cache), std::move(back),
                                             {.clock = clock_}));
  BACKENDS_ASSERT_OK(layer->dump("text", "h\xc3\xa9llo"));
  EXPECT_THAT(expiring->load("text"), Holds("h\xc3\xa9llo"));
  BACKENDS_ASSERT_OK(back_store->dump("text", "changed"));
  EXPECT_THAT(layer->load("text"), Holds("h\xc3\xa9llo"));  // front copy
  clock_->Advance(seconds(30));
  EXPECT_THAT(layer->load("text"), Holds("changed"));
  BACKENDS_ASSERT_OK(layer->dump("bytes", "\xff\xfe"));
  EXPECT_THAT(layer->load("bytes"), Holds("\xff\xfe"));
  EXPECT_EQ(layer->stats().front_refusals, 2u);  // the dump's and the load's
  EXPECT_THAT(expiring->load("bytes"), IsOkAndHolds(std::nullopt));
}

TEST_F(ReadThroughTest, BackFailuresAreReportedNeverMissing) {
  Make();
  BACKENDS_ASSERT_OK(back().dump("k", "v"));
  back_->Fail(Op::kLoad, UnavailableError("injected 503"));
  EXPECT_THAT(layer_->load("k"), StatusIs(ErrorCode::kUnavailable));
  back_->Fail(Op::kList, PermissionDeniedError("injected 403"));
  EXPECT_THAT(layer_->keys(), StatusIs(ErrorCode::kPermissionDenied));
  back_->Heal();
  EXPECT_THAT(layer_->load("k"), Holds("v"));
  // A failed write drops the front copy, so nothing older is served later.
  back_->Fail(Op::kDump, DeadlineExceededError("injected timeout"), 1);
  EXPECT_THAT(layer_->dump("k", "new"), StatusIs(ErrorCode::kDeadlineExceeded));
  EXPECT_THAT(layer_->front().load("k"), IsOkAndHolds(std::nullopt));
  back_->Fail(Op::kRemove, IOError("injected EIO"), 1);
  EXPECT_THAT(layer_->remove("k"), StatusIs(ErrorCode::kIOError));
  EXPECT_THAT(layer_->load("k"), Holds("v"));
}

TEST_F(ReadThroughTest, ServesStaleCopyWhenBackIsUnavailableAndSaysSo) {
  std::vector<std::string> reported;
  Make({.max_age = seconds(10),
        .serve_stale = true,
        .on_stale = [&](std::string_view key, const Status& error) {
          EXPECT_EQ(error.code(), ErrorCode::kUnavailable);
          reported.emplace_back(key);
        }});
  BACKENDS_ASSERT_OK(layer_->dump("k", "v"));
  clock_->Advance(seconds(11));
  back_->Fail(Op::kLoad, UnavailableError("injected 503"));
  EXPECT_THAT(layer_->load("k"), Holds("v"));
  EXPECT_THAT(reported, ElementsAre("k"));
  EXPECT_EQ(layer_->stats().stale_served, 1u);
  // Not for other failures, and not without a copy.
  back_->Fail(Op::kLoad, PermissionDeniedError("injected 403"));
  EXPECT_THAT(layer_->load("k"), StatusIs(ErrorCode::kPermissionDenied));
  back_->Fail(Op::kLoad, UnavailableError("injected 503"));
  EXPECT_THAT(layer_->load("other"), StatusIs(ErrorCode::kUnavailable));
  EXPECT_EQ(layer_->stats().stale_served, 1u);
}

TEST_F(ReadThroughTest, WithoutServeStaleTheErrorComesBack) {
  Make({.max_age = seconds(10)});
  BACKENDS_ASSERT_OK(layer_->dump("k", "v"));
  clock_->Advance(seconds(11));
  back_->Fail(Op::kLoad, UnavailableError("injected 503"));
  EXPECT_THAT(layer_->load("k"), StatusIs(ErrorCode::kUnavailable));
}

TEST_F(ReadThroughTest, AFailingFrontIsOnlyAMiss) {
  auto front =
      std::make_unique<FaultyBackend>(std::make_unique<VolatileBackend>());
  FaultyBackend* faulty_front = front.get();
  Make({}, std::move(front));
  BACKENDS_ASSERT_OK(back().dump("k", "v"));
  faulty_front->Fail(Op::kLoad, IOError("injected EIO"));
  EXPECT_THAT(layer_->load("k"), Holds("v"));
}

TEST_F(ReadThroughTest, EvictsLeastRecentlyUsedFromTheFront) {
  Make({.limits = {.max_entries = 2}});
  for (const char* key : {"a", "b", "c"}) {
    BACKENDS_ASSERT_OK(back().dump(key, key));
  }
  EXPECT_THAT(layer_->load("a"), Holds("a"));
  EXPECT_THAT(layer_->load("b"), Holds("b"));
  EXPECT_THAT(layer_->load("a"), Holds("a"));  // a is now the most recent
  EXPECT_THAT(layer_->load("c"), Holds("c"));  // b goes
  EXPECT_THAT(layer_->front().keys(), IsOkAndHolds(ElementsAre("a", "c")));
  EXPECT_THAT(layer_->keys(), IsOkAndHolds(ElementsAre("a", "b", "c")));
  CacheStats stats = layer_->stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 3u);
  EXPECT_EQ(stats.evictions, 1u);
}

// A back store that records the order in which dumps took effect.
class OrderedBack final : public BackendWrapper {
 public:
  OrderedBack() : BackendWrapper(std::make_unique<VolatileBackend>()) {}
  Status dump(std::string_view key, std::string_view value) override {
    std::scoped_lock lock(mutex_);
    BACKENDS_RETURN_IF_ERROR(BackendWrapper::dump(key, value));
    position_[std::string(value)] = next_++;
    return Status::OK();
  }
  // When `value` was applied (values are unique).
  int Position(const std::string& value) {
    std::scoped_lock lock(mutex_);
    return position_.at(value);
  }

 private:
  std::mutex mutex_;
  std::map<std::string, int> position_;
  int next_ = 0;
};

// Readers and writers of shared keys: after each writer's dump, its own load
// returns what it wrote or what was applied to the back after it, never
// anything older.
TEST(ReadThroughOrderTest, AReaderNeverSeesOlderThanItsOwnWrite) {
  auto back_owner = std::make_unique<OrderedBack>();
  OrderedBack* back = back_owner.get();
  ASSERT_OK_AND_ASSIGN(
      auto layer, NewReadThroughBackend(std::make_unique<VolatileBackend>(),
                                        std::move(back_owner)));
  struct Seen {
    std::string mine, got;
  };
  std::vector<std::vector<Seen>> seen(4);
  std::atomic<int> failures{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const std::string key = "k" + std::to_string(i % 3);
        const std::string mine = key + "/" + std::to_string(t * 1000 + i);
        if (t == 0 && i % 10 == 0) (void)layer->invalidate(key);
        auto dumped = layer->dump(key, mine);
        auto got = layer->load(key);
        if (!dumped.ok() || !got.ok() || !*got) {
          ++failures;
          continue;
        }
        seen[t].push_back({mine, **got});
      }
    });
  }
  for (auto& thread : pool) thread.join();
  EXPECT_EQ(failures.load(), 0);
  int older = 0;
  for (const auto& list : seen) {
    for (const auto& [mine, got] : list) {
      if (back->Position(got) < back->Position(mine)) ++older;
    }
  }
  EXPECT_EQ(older, 0);
  for (const char* key : {"k0", "k1", "k2"}) {
    EXPECT_EQ(layer->load(key).value(), back->inner().load(key).value()) << key;
  }
}

}  // namespace
}  // namespace backends::testing

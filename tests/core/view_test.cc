#include "backends/view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backends/memory.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

// Fails every load of one key, to check that errors reach the caller.
class FailingLoad final : public BackendWrapper {
 public:
  FailingLoad(std::unique_ptr<Backend> inner, std::string key)
      : BackendWrapper(std::move(inner)), key_(std::move(key)) {}
  Result<std::optional<std::string>> load(std::string_view key) override {
    if (key == key_) return UnavailableError("load \"" + key_ + "\": injected");
    return BackendWrapper::load(key);
  }

 private:
  std::string key_;
};

TEST(KeyRulesTest, ValidateKey) {
  BACKENDS_EXPECT_OK(ValidateKey("dump", "a//b/./c"));
  BACKENDS_EXPECT_OK(ValidateKey("dump", "\xe4\xb8\xad"));
  EXPECT_THAT(ValidateKey("dump", ""),
              StatusIs(ErrorCode::kInvalidArgument, HasSubstr("dump \"\"")));
  EXPECT_THAT(ValidateKey("dump", "a\x01"),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(ValidateKey("dump", "\xe4\xb8"),
              StatusIs(ErrorCode::kInvalidArgument));
}

// Every byte value at every position of keys of 1 to 24 bytes: the check
// reads whole words, so each place in a word and in the overlapping tail.
TEST(KeyRulesTest, EveryByteAtEveryPositionIsJudgedAlone) {
  for (std::size_t length = 1; length <= 24; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      for (int byte = 0; byte < 256; ++byte) {
        std::string key(length, 'a');
        key[at] = static_cast<char>(byte);
        Status status = ValidateKey("dump", key);
        SCOPED_TRACE(::testing::Message() << "length " << length << " at " << at
                                        << " byte " << byte);
        if (byte < 0x20 || byte == 0x7F) {
          EXPECT_THAT(status, StatusIs(ErrorCode::kInvalidArgument,
                                       HasSubstr("control character")));
        } else if (byte >= 0x80) {  // A lone non-ASCII byte: never UTF-8.
          EXPECT_THAT(status, StatusIs(ErrorCode::kInvalidArgument,
                                       HasSubstr("not valid UTF-8")));
        } else {
          BACKENDS_EXPECT_OK(status);
        }
      }
    }
  }
  BACKENDS_EXPECT_OK(ValidateKey("dump", "users/\xc3\xa9t\xc3\xa9 ~ key!"));
}

TEST(KeyRulesTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8("plain ascii long enough to use the fast path"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xb0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("abcdefgh\x80"));
}

TEST(KeyRulesTest, QuoteKeyEscapesAndShortens) {
  EXPECT_EQ(QuoteKey("a\"b\n"), "\"a\\\"b\\x0A\"");
  EXPECT_EQ(QuoteKey(std::string(300, 'x')).size(), 200u + 5u);
}

TEST(TypedBackendTest, JsonViewStoresTheOriginalsFormat) {
  auto memory = std::make_unique<VolatileBackend>();
  Backend* bytes = memory.get();
  JsonBackend store(std::move(memory));
  BACKENDS_ASSERT_OK(store.dump("k", Json{{"b", 1}, {"a", "\u00e9"}}));
  EXPECT_THAT(bytes->load("k"),
              IsOkAndHolds(Optional(
                  std::string("{\n    \"a\": \"\\u00e9\",\n    \"b\": 1\n}"))));
  EXPECT_THAT(store.load("k"),
              IsOkAndHolds(Optional(Json{{"a", "\u00e9"}, {"b", 1}})));
  BACKENDS_ASSERT_OK(bytes->dump("bad", "{oops"));
  EXPECT_THAT(store.load("bad"),
              StatusIs(ErrorCode::kDataLoss, HasSubstr("load \"bad\"")));
  EXPECT_THAT(store.items(), StatusIs(ErrorCode::kDataLoss));
}

TEST(TypedBackendTest, JsonViewBoundsNesting) {
  auto memory = std::make_unique<VolatileBackend>();
  Backend* bytes = memory.get();
  JsonBackend store(std::move(memory));
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  BACKENDS_ASSERT_OK(bytes->dump("deep", deep));
  EXPECT_THAT(store.load("deep"),
              StatusIs(ErrorCode::kDataLoss, HasSubstr("nested deeper than")));
  Json value = Json::array();
  for (int i = 0; i < 2000; ++i) value = Json::array({std::move(value)});
  EXPECT_THAT(store.dump("k", value), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(bytes->contains("k"), IsOkAndHolds(false));
}

TEST(TypedBackendTest, TextViewRejectsInvalidUtf8) {
  TextBackend store(std::make_unique<VolatileBackend>());
  EXPECT_THAT(store.dump("k", "\xff"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(store.contains("k"), IsOkAndHolds(false));
  BACKENDS_ASSERT_OK(store.store().dump("k", "\xff"));
  EXPECT_THAT(store.load("k"), StatusIs(ErrorCode::kDataLoss));
}

TEST(TypedBackendTest, IterationDeliversDecodeErrorsThenStops) {
  JsonBackend store(std::make_unique<VolatileBackend>());
  BACKENDS_ASSERT_OK(store.dump("a", 1));
  BACKENDS_ASSERT_OK(store.store().dump("b", "not json"));
  BACKENDS_ASSERT_OK(store.dump("c", 3));
  std::vector<std::string> seen;
  int errors = 0;
  for (const auto& entry : store) {
    if (!entry.ok()) {
      ++errors;
      EXPECT_EQ(entry.status().code(), ErrorCode::kDataLoss);
      continue;
    }
    seen.push_back(entry->first);
  }
  EXPECT_EQ(errors, 1);
  EXPECT_THAT(seen, ElementsAre("a"));
}

TEST(BackendIterationTest, LoadErrorsAreDeliveredNotSwallowed) {
  auto inner = std::make_unique<VolatileBackend>();
  BACKENDS_ASSERT_OK(inner->dump("a", "1"));
  BACKENDS_ASSERT_OK(inner->dump("b", "2"));
  FailingLoad store(std::move(inner), "b");
  std::vector<Status> statuses;
  for (const auto& entry : store) statuses.push_back(entry.status());
  ASSERT_EQ(statuses.size(), 2u);
  BACKENDS_EXPECT_OK(statuses[0]);
  EXPECT_THAT(statuses[1], StatusIs(ErrorCode::kUnavailable));
}

}  // namespace
}  // namespace backends::testing

#include "backends/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace backends::testing {
namespace {

using ::testing::HasSubstr;

std::string Dump(const Json& v, JsonFormat format = {}) {
  auto text = DumpJson(v, format);
  EXPECT_THAT(text, IsOk());
  return text.ok() ? *text : "";
}

TEST(DumpJsonTest, WritesTheOriginalsPrettySortedFormat) {
  Json v = {{"b", {1, 2}},
            {"a", {{"y", nullptr}, {"x", true}}},
            {"c", Json::object()}};
  EXPECT_EQ(
      Dump(v),
      "{\n    \"a\": {\n        \"x\": true,\n        \"y\": null\n    },\n"
      "    \"b\": [\n        1,\n        2\n    ],\n    \"c\": {}\n}");
  EXPECT_EQ(Dump(Json::array()), "[]");
  EXPECT_EQ(Dump("x"), "\"x\"");
}

TEST(DumpJsonTest, EscapesNonAsciiLikePython) {
  EXPECT_EQ(Dump("caf\u00e9"), "\"caf\\u00e9\"");
  EXPECT_EQ(Dump("\U0001F600"), "\"\\ud83d\\ude00\"");
  EXPECT_EQ(Dump("\x01\x1f\x7f\"\\\b\f\n\r\t/"),
            "\"\\u0001\\u001f\\u007f\\\"\\\\\\b\\f\\n\\r\\t/\"");
  EXPECT_EQ(Dump("caf\u00e9\x7f", {.ensure_ascii = false}),
            "\"caf\u00e9\x7f\"");
}

TEST(DumpJsonTest, CompactFormat) {
  Json v = {{"b", {1, 2}}, {"a", "x"}};
  EXPECT_EQ(Dump(v, {.indent = -1}), "{\"a\":\"x\",\"b\":[1,2]}");
}

TEST(DumpJsonTest, FloatsFollowPythonRepr) {
  EXPECT_EQ(Dump(1.0), "1.0");
  EXPECT_EQ(Dump(-0.0), "-0.0");
  EXPECT_EQ(Dump(0.1), "0.1");
  EXPECT_EQ(Dump(1e15), "1000000000000000.0");
  EXPECT_EQ(Dump(1e16), "1e+16");
  EXPECT_EQ(Dump(0.0001), "0.0001");
  EXPECT_EQ(Dump(0.00001), "1e-05");
  EXPECT_EQ(Dump(1.5e-300), "1.5e-300");
  EXPECT_EQ(Dump(123456789.123), "123456789.123");
  EXPECT_EQ(Dump(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(Dump(5e-324), "5e-324");
}

TEST(DumpJsonTest, RejectsWhatIsNotJson) {
  EXPECT_THAT(DumpJson(std::nan("")), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(DumpJson(HUGE_VAL), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(DumpJson(Json("\xff")), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(DumpJson(Json{{"\xc3", 1}}),
              StatusIs(ErrorCode::kInvalidArgument));
}

// Thousands of doubles, checked against Python's own json.dumps.
TEST(DumpJsonTest, FloatsMatchPythonForRandomValues) {
  ScopedTempDir dir;
  std::string path = (dir.path() / "floats.txt").string();
  std::ofstream out(path);
  std::mt19937_64 rng(42);
  auto write = [&](double d) {
    char hex[64];
    std::snprintf(hex, sizeof hex, "%a", d);
    out << hex << ' ' << Dump(d) << '\n';
  };
  for (int i = 0; i < 3000; ++i) {
    std::uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (std::isfinite(d)) write(d);
    write(static_cast<double>(rng() % 2000000) / 1000.0);  // "decimal" values
    write(std::ldexp(1.0, static_cast<int>(rng() % 200) - 100));
    write(static_cast<double>(rng() % 100000) *
          std::pow(10.0, static_cast<int>(rng() % 40) - 20));
  }
  out.close();
  std::string command =
      "python3 '" BACKENDS_TEST_SOURCE_DIR "/python_floats.py' '" + path + "'";
  EXPECT_EQ(std::system(command.c_str()), 0);
}

TEST(ParseJsonTest, ParsesAnyValidJson) {
  EXPECT_EQ(*ParseJson("  {\"a\" : [1, 2.5, \"x\", null, true]}\n"),
            (Json{{"a", {1, 2.5, "x", nullptr, true}}}));
  EXPECT_EQ(*ParseJson("\"\\u00e9\\ud83d\\ude00\""), Json("\u00e9\U0001F600"));
  EXPECT_EQ(*ParseJson("18446744073709551615"), Json(18446744073709551615ull));
  EXPECT_EQ(*ParseJson("-9223372036854775808"), Json(INT64_MIN));
  EXPECT_EQ(*ParseJson("7"), Json(7));
}

TEST(ParseJsonTest, DuplicateKeysKeepTheLastLikePython) {
  EXPECT_EQ(*ParseJson("{\"a\": 1, \"a\": 2}"), (Json{{"a", 2}}));
  EXPECT_EQ(*ParseJson("{\"b\": 1, \"a\": 2, \"c\": 3, \"a\": 4}"),
            (Json{{"a", 4}, {"b", 1}, {"c", 3}}));
}

TEST(ParseJsonTest, IntegersBeyond64BitsStillLoad) {
  ASSERT_OK_AND_ASSIGN(auto v, ParseJson("[123456789012345678901234567890]"));
  EXPECT_TRUE(v[0].is_number_float());
  EXPECT_DOUBLE_EQ(v[0].get<double>(), 1.2345678901234568e29);
}

TEST(ParseJsonTest, CorruptTextIsDataLossNamingThePosition) {
  EXPECT_THAT(ParseJson("{\"content\": [1, 2,"),
              StatusIs(ErrorCode::kDataLoss, HasSubstr("at byte")));
  EXPECT_THAT(ParseJson(""), StatusIs(ErrorCode::kDataLoss));
  EXPECT_THAT(ParseJson("{} trailing"), StatusIs(ErrorCode::kDataLoss));
  EXPECT_THAT(ParseJson("\"\xff\""), StatusIs(ErrorCode::kDataLoss));
  EXPECT_THAT(ParseJson("NaN"), StatusIs(ErrorCode::kDataLoss));
}

TEST(ParseJsonTest, DumpThenParseRoundTrips) {
  Json v = {{"num", 0.30000000000000004},
            {"s", "\u4e2d\U0001F600\x01"},
            {"arr", {Json::object(), Json::array(), -1, 1e300}}};
  ASSERT_OK_AND_ASSIGN(auto text, DumpJson(v));
  EXPECT_THAT(ParseJson(text), IsOkAndHolds(v));
  ASSERT_OK_AND_ASSIGN(auto compact,
                       DumpJson(v, {.indent = -1, .ensure_ascii = false}));
  EXPECT_THAT(ParseJson(compact), IsOkAndHolds(v));
}

std::string NestedText(std::size_t depth, bool objects,
                       std::string_view inner = "1") {
  std::string text;
  text.reserve(depth * 6 + inner.size());
  for (std::size_t i = 0; i < depth; ++i) text += objects ? "{\"a\":" : "[";
  text += inner;
  for (std::size_t i = 0; i < depth; ++i) text += objects ? '}' : ']';
  return text;
}

// Built without recursion; nlohmann destroys values iteratively.
Json NestedValue(std::size_t depth, bool objects) {
  Json root = 1;
  for (std::size_t i = 0; i < depth; ++i) {
    Json outer = objects ? Json::object() : Json::array();
    if (objects) {
      outer["a"] = std::move(root);
    } else {
      outer.push_back(std::move(root));
    }
    root = std::move(outer);
  }
  return root;
}

TEST(JsonDepthTest, ParsesUpToTheLimitAndRefusesDeeper) {
  for (bool objects : {false, true}) {
    for (std::size_t depth :
         {100u, 1000u, 1024u, 1025u, 10000u, 100000u, 1000000u}) {
      SCOPED_TRACE((objects ? "objects " : "arrays ") + std::to_string(depth));
      // The 64-bit path (simdjson) and the big-integer fallback (nlohmann).
      for (std::string_view inner : {"1", "123456789012345678901234567890"}) {
        auto parsed = ParseJson(NestedText(depth, objects, inner));
        if (depth <= static_cast<std::size_t>(kMaxJsonDepth)) {
          EXPECT_THAT(parsed, IsOk());
        } else {
          EXPECT_THAT(parsed, StatusIs(ErrorCode::kDataLoss));
          EXPECT_THAT(parsed.status().message(),
                      HasSubstr("nested deeper than 1024 levels"));
        }
      }
    }
  }
  // A caller may allow one level more (a cache envelope around a value).
  EXPECT_THAT(ParseJson(NestedText(1025, false), kMaxJsonDepth + 1), IsOk());
  EXPECT_THAT(ParseJson(NestedText(3, false), 2),
              StatusIs(ErrorCode::kDataLoss));
}

TEST(JsonDepthTest, WritesUpToTheLimitAndRefusesDeeper) {
  for (bool objects : {false, true}) {
    for (std::size_t depth : {100u, 1024u, 1025u, 100000u, 1000000u}) {
      SCOPED_TRACE((objects ? "objects " : "arrays ") + std::to_string(depth));
      Json value = NestedValue(depth, objects);
      for (const JsonFormat& format :
           {JsonFormat{}, JsonFormat{.indent = -1}}) {
        auto text = DumpJson(value, format);
        if (depth <= static_cast<std::size_t>(kMaxJsonDepth)) {
          ASSERT_THAT(text, IsOk());
          EXPECT_THAT(ParseJson(*text), IsOkAndHolds(value));
        } else {
          EXPECT_THAT(text, StatusIs(ErrorCode::kInvalidArgument));
          EXPECT_THAT(text.status().message(),
                      HasSubstr("nested deeper than 1024 levels"));
        }
      }
    }
  }
}

// The written size is bounded by the depth: at most 4 KiB of indent a line.
TEST(JsonDepthTest, OutputAtTheLimitStaysSmall) {
  auto text = DumpJson(NestedValue(kMaxJsonDepth, false));
  ASSERT_THAT(text, IsOk());
  EXPECT_LT(text->size(), 5u * 1024 * 1024);
}

}  // namespace
}  // namespace backends::testing

#pragma once

// gmock matchers and assertions for Status and Result<T>.
//   BACKENDS_ASSERT_OK(store->dump("k", "v"));
//   ASSERT_OK_AND_ASSIGN(auto value, store->load("k"));
//   EXPECT_THAT(store->dump("", "v"), StatusIs(ErrorCode::kInvalidArgument));

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backends/status.h"

namespace backends {

// So that gtest prints a Status or Result instead of its bytes.
inline void PrintTo(const Status& status, std::ostream* os) { *os << status; }
template <typename T>
void PrintTo(const Result<T>& result, std::ostream* os) {
  if (result.ok()) {
    *os << "OK: " << ::testing::PrintToString(*result);
  } else {
    *os << result.status();
  }
}

}  // namespace backends

namespace backends::testing {

inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
const Status& GetStatus(const Result<T>& r) {
  return r.status();
}

MATCHER_P(StatusIs, code,
          std::string("has code ") + std::string(ErrorCodeName(code))) {
  const Status& s = ::backends::testing::GetStatus(arg);
  *result_listener << "whose status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher, "") {
  const Status& s = ::backends::testing::GetStatus(arg);
  *result_listener << "whose status is " << s;
  return s.code() == code && ::testing::ExplainMatchResult(
                                 message_matcher, s.message(), result_listener);
}

/// Matches an OK Result whose value matches `inner` (a matcher or a value).
MATCHER_P(IsOkAndHolds, inner, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "whose status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(inner, *arg, result_listener);
}

MATCHER(IsOk, "is OK") {
  const Status& s = ::backends::testing::GetStatus(arg);
  *result_listener << "whose status is " << s;
  return s.ok();
}

}  // namespace backends::testing

#define BACKENDS_ASSERT_OK(expr) \
  ASSERT_THAT((expr), ::backends::testing::IsOk())
#define BACKENDS_EXPECT_OK(expr) \
  EXPECT_THAT((expr), ::backends::testing::IsOk())

#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                        \
  ASSERT_OK_AND_ASSIGN_IMPL_(BACKENDS_CONCAT_(_assert_result_, __LINE__), lhs, \
                             expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  ASSERT_THAT(tmp, ::backends::testing::IsOk());   \
  lhs = std::move(tmp).value()

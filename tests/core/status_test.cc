#include "backends/status.h"

#include <gtest/gtest.h>

#include <memory>

#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  BACKENDS_ASSIGN_OR_RETURN(int half, Half(x));
  BACKENDS_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int x) {
  BACKENDS_RETURN_IF_ERROR(Half(x));
  return Status::OK();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status().ok());
  EXPECT_EQ(Status().ToString(), "OK");
  Status s = DataLossError("load \"k\": bad JSON");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kDataLoss);
  EXPECT_EQ(s.ToString(), "DataLoss: load \"k\": bad JSON");
  EXPECT_EQ(s.WithContext("copy").message(), "copy: load \"k\": bad JSON");
}

TEST(StatusTest, MacrosPropagate) {
  EXPECT_THAT(Quarter(8), IsOkAndHolds(2));
  EXPECT_THAT(Quarter(6), StatusIs(ErrorCode::kInvalidArgument, "odd 3"));
  BACKENDS_EXPECT_OK(CheckEven(2));
  EXPECT_THAT(CheckEven(3), StatusIs(ErrorCode::kInvalidArgument));
}

TEST(StatusTest, ResultValueOr) {
  EXPECT_EQ(Half(3).value_or(-1), -1);
  EXPECT_EQ(Half(4).value_or(-1), 2);
}

Result<std::optional<int>> Absent() { return std::nullopt; }
Result<std::optional<int>> Present() { return std::optional<int>(3); }
Result<std::optional<int>> Empty() { return std::optional<int>(); }

TEST(StatusTest, ResultOfOptionalHoldsAnEmptyOptional) {
  ASSERT_THAT(Absent(), IsOk());
  EXPECT_EQ(*Absent(), std::nullopt);
  ASSERT_THAT(Empty(), IsOk());
  EXPECT_EQ(*Empty(), std::nullopt);
  EXPECT_THAT(Present(), IsOkAndHolds(std::optional<int>(3)));
}

TEST(StatusTest, EveryCodeHasAName) {
  for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    EXPECT_NE(ErrorCodeName(static_cast<ErrorCode>(c)), "Unknown") << c;
  }
}

struct Base {
  virtual ~Base() = default;
  virtual int id() const { return 0; }
};
struct Derived : Base {
  int id() const override { return 7; }
};

Result<std::unique_ptr<Derived>> MakeDerived(bool fail) {
  if (fail) return NotFoundError("no derived");
  return std::make_unique<Derived>();
}

TEST(StatusTest, ResultConvertsWhereItsValueConverts) {
  Result<std::unique_ptr<Base>> base = MakeDerived(false);
  ASSERT_THAT(base, IsOk());
  EXPECT_EQ((*base)->id(), 7);

  Result<std::unique_ptr<Base>> failed = MakeDerived(true);
  EXPECT_THAT(failed, StatusIs(ErrorCode::kNotFound));
  EXPECT_EQ(failed.status().message(), "no derived");

  const Result<int> small = 5;
  const Result<long> wide = small;
  EXPECT_THAT(wide, IsOkAndHolds(5L));
}

TEST(StatusTest, ResultFromAnOkStatusIsAnInternalError) {
  const Result<int> r = Status::OK();
  EXPECT_THAT(r, StatusIs(ErrorCode::kInternal));
}

TEST(StatusDeathTest, ReadingTheValueOfAFailedResultAbortsSayingWhy) {
  // In every build type, not only where assert() is on.
  const Result<int> failed = Half(3);
  EXPECT_DEATH((void)failed.value(), "failed Result.*InvalidArgument: odd 3");
  EXPECT_DEATH((void)*Half(5), "InvalidArgument: odd 5");
}

}  // namespace
}  // namespace backends::testing

#pragma once

// One error model for the whole library.
//
// Every fallible operation returns a Status (no value) or a Result<T> (a value
// or a Status). No exception crosses the API. A missing key is never an error:
// `load` of a missing key returns OK with std::nullopt and `remove` of a
// missing key returns OK with false.
//
// Each error carries an ErrorCode chosen by its absl meaning, and a message
// that names the operation, the key and the cause, e.g.
//   dump "users/42": s3 PUT returned 403 AccessDenied
// Messages never contain credentials, signatures or presigned URLs.

#include <cassert>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

/// The library's API. Nothing in it throws: every fallible
/// operation returns a Status or a Result.
namespace backends {

/// What went wrong, by the meaning absl gives each code.
enum class ErrorCode {
  /// Not an error.
  kOk = 0,
  /// A bad key, URL, option or value (e.g. invalid UTF-8 for a text store).
  kInvalidArgument,
  /// A missing container (bucket, root folder). Never a missing key.
  kNotFound,
  /// A create-only write found the key present.
  kAlreadyExists,
  /// The store refused the operation (EACCES, S3 403 AccessDenied).
  kPermissionDenied,
  /// Missing or wrong credentials (S3 InvalidAccessKeyId, bad signature).
  kUnauthenticated,
  /// The operation conflicts with the store's state: a key that would need a
  /// folder where a value is stored, a failed conditional write.
  kFailedPrecondition,
  /// A transient fault: network, 5xx, SlowDown. Safe to retry.
  kUnavailable,
  /// A timeout. Safe to retry.
  kDeadlineExceeded,
  /// Stored bytes cannot be decoded (bad JSON, invalid UTF-8, bad envelope).
  kDataLoss,
  /// The store cannot do this.
  kUnimplemented,
  /// A local filesystem failure (EIO, ENOSPC, EROFS, ...).
  kIOError,
  /// A bug on our side.
  kInternal,
};

/// The code's name without the `k`, e.g. "InvalidArgument".
std::string_view ErrorCodeName(ErrorCode code);

/// The outcome of an operation that returns no value. Cheap to copy when OK.
class [[nodiscard]] Status {
 public:
  /// An OK status.
  Status() = default;
  /// REQUIRES: `code` is not kOk (use Status() for OK).
  Status(ErrorCode code, std::string message)
      : code_(code), message_(std::move(message)) {
    assert(code != ErrorCode::kOk);
  }

  /// An OK status.
  static Status OK() { return Status(); }

  /// Whether this is OK (code() is kOk, message() is empty).
  bool ok() const { return code_ == ErrorCode::kOk; }
  /// The error's code; kOk for an OK status.
  ErrorCode code() const { return code_; }
  /// The error's message; empty for an OK status.
  const std::string& message() const { return message_; }

  /// "OK", or "<CodeName>: <message>".
  std::string ToString() const;

  /// Returns a copy whose message is "<context>: <message>".
  Status WithContext(std::string_view context) const;

  /// Equal when both the codes and the messages are.
  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

/// Writes status.ToString().
std::ostream& operator<<(std::ostream& os, const Status& status);

/// A Status with the code of the function's name and `message`.
///@{
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status UnauthenticatedError(std::string message);
Status FailedPreconditionError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status DataLossError(std::string message);
Status UnimplementedError(std::string message);
Status IOError(std::string message);
Status InternalError(std::string message);
///@}

namespace internal {
/// Prints `status` and why it is fatal to stderr, then aborts: reading the
/// value of a failed Result is a bug, reported in every build type.
[[noreturn]] void DieOfValueOfError(const Status& status);
/// The error a Result made from an OK Status holds instead (a bug too).
Status OkStatusWithoutValue();
}  // namespace internal

template <typename T>
class Result;

namespace internal {
template <typename U>
struct IsResult : std::false_type {};
template <typename U>
struct IsResult<Result<U>> : std::true_type {};
}  // namespace internal

/// A value of type T, or the Status explaining why there is none.
/// Reading the value of a failed Result aborts the program, printing the
/// status, in every build type (as absl::StatusOr and arrow::Result do).
/// A `Result<U>` converts to a `Result<T>` when U converts to T, e.g.
/// `Result<std::unique_ptr<FileBackend>>` to
/// `Result<std::unique_ptr<Backend>>`.
template <typename T>
class [[nodiscard]] Result {
 public:
  /// REQUIRES: `status` is not OK (if it is, the Result holds an
  /// Internal error saying so).
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = internal::OkStatusWithoutValue();
  }
  /// From a `Result<U>` whose U converts to T: its value or its error.
  ///@{
  template <typename U>
  requires(std::is_constructible_v<T, U&&> &&
           !std::is_same_v<T, U>) Result(Result<U>&& other)  // NOLINT
      : status_(other.status()) {
    if (other.ok()) value_.emplace(std::move(other).value());
  }
  template <typename U>
  requires(std::is_constructible_v<T, const U&> &&
           !std::is_same_v<T, U>) Result(const Result<U>& other)  // NOLINT
      : status_(other.status()) {
    if (other.ok()) value_.emplace(other.value());
  }
  ///@}
  /// An OK Result holding `value` (or what T is constructed from).
  ///@{
  // std::in_place: for T = std::optional<X>, `return std::nullopt;` must
  // make an OK Result holding an empty optional, not an empty Result.
  Result(const T& value) : value_(std::in_place, value) {}        // NOLINT
  Result(T&& value) : value_(std::in_place, std::move(value)) {}  // NOLINT
  template <typename U>
  requires(std::is_constructible_v<T, U&&> &&
           !std::is_same_v<std::remove_cvref_t<U>, T> &&
           !std::is_same_v<std::remove_cvref_t<U>, Status> &&
           !internal::IsResult<std::remove_cvref_t<U>>::value) Result(U&& value)
      : value_(std::in_place, std::forward<U>(value)) {}  // NOLINT
  ///@}

  /// Whether this holds a value.
  bool ok() const { return status_.ok(); }
  /// OK when this holds a value, else the error.
  ///@{
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }
  ///@}

  /// The value. REQUIRES: ok(); otherwise prints the status and aborts.
  ///@{
  const T& value() const& {
    if (!ok()) internal::DieOfValueOfError(status_);
    return *value_;
  }
  T& value() & {
    if (!ok()) internal::DieOfValueOfError(status_);
    return *value_;
  }
  T&& value() && {
    if (!ok()) internal::DieOfValueOfError(status_);
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  ///@}

  /// The value, or `fallback` when this holds an error.
  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  Status status_;
  std::optional<T> value_;
};

namespace internal {
inline Status AsStatus(const Status& s) { return s; }
inline Status AsStatus(Status&& s) { return std::move(s); }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace backends

#define BACKENDS_CONCAT_INNER_(a, b) a##b
#define BACKENDS_CONCAT_(a, b) BACKENDS_CONCAT_INNER_(a, b)

/// Returns from the enclosing function if `expr` (a Status or Result) failed.
#define BACKENDS_RETURN_IF_ERROR(expr)                                \
  do {                                                                \
    if (auto _backends_status = ::backends::internal::AsStatus(expr); \
        !_backends_status.ok())                                       \
      return _backends_status;                                        \
  } while (0)

/// `BACKENDS_ASSIGN_OR_RETURN(auto v, ResultExpr());` declares `v` from the
/// value of a Result, or returns its error from the enclosing function.
#define BACKENDS_ASSIGN_OR_RETURN(lhs, expr) \
  BACKENDS_ASSIGN_OR_RETURN_IMPL_(           \
      BACKENDS_CONCAT_(_backends_result_, __LINE__), lhs, expr)
#define BACKENDS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return std::move(tmp).status();        \
  lhs = std::move(tmp).value()

#include "backends/status.h"

#include <cstdio>
#include <cstdlib>

namespace backends {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "OK";
    case ErrorCode::kInvalidArgument:
      return "InvalidArgument";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kAlreadyExists:
      return "AlreadyExists";
    case ErrorCode::kPermissionDenied:
      return "PermissionDenied";
    case ErrorCode::kUnauthenticated:
      return "Unauthenticated";
    case ErrorCode::kFailedPrecondition:
      return "FailedPrecondition";
    case ErrorCode::kUnavailable:
      return "Unavailable";
    case ErrorCode::kDeadlineExceeded:
      return "DeadlineExceeded";
    case ErrorCode::kDataLoss:
      return "DataLoss";
    case ErrorCode::kUnimplemented:
      return "Unimplemented";
    case ErrorCode::kIOError:
      return "IOError";
    case ErrorCode::kInternal:
      return "Internal";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(ErrorCodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string message(context);
  message += ": ";
  message += message_;
  return Status(code_, std::move(message));
}

std::ostream& operator<<(std::ostream& os, const Status& status) {
  return os << status.ToString();
}

#define BACKENDS_DEFINE_ERROR_(name, code)              \
  Status name(std::string message) {                    \
    return Status(ErrorCode::code, std::move(message)); \
  }
BACKENDS_DEFINE_ERROR_(InvalidArgumentError, kInvalidArgument)
BACKENDS_DEFINE_ERROR_(NotFoundError, kNotFound)
BACKENDS_DEFINE_ERROR_(AlreadyExistsError, kAlreadyExists)
BACKENDS_DEFINE_ERROR_(PermissionDeniedError, kPermissionDenied)
BACKENDS_DEFINE_ERROR_(UnauthenticatedError, kUnauthenticated)
BACKENDS_DEFINE_ERROR_(FailedPreconditionError, kFailedPrecondition)
BACKENDS_DEFINE_ERROR_(UnavailableError, kUnavailable)
BACKENDS_DEFINE_ERROR_(DeadlineExceededError, kDeadlineExceeded)
BACKENDS_DEFINE_ERROR_(DataLossError, kDataLoss)
BACKENDS_DEFINE_ERROR_(UnimplementedError, kUnimplemented)
BACKENDS_DEFINE_ERROR_(IOError, kIOError)
BACKENDS_DEFINE_ERROR_(InternalError, kInternal)
#undef BACKENDS_DEFINE_ERROR_

namespace internal {

void DieOfValueOfError(const Status& status) {
  // A bug in the caller, found in a Release build too: say which error the
  // unchecked Result held rather than crash without a word.
  std::fprintf(stderr,
               "backends: the value of a failed Result was read; it holds %s\n",
               status.ToString().c_str());
  std::fflush(stderr);
  std::abort();
}

Status OkStatusWithoutValue() {
  return InternalError("a Result was made from an OK Status, without a value");
}

}  // namespace internal

}  // namespace backends

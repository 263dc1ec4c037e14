#include "file/posix.h"

#include <errno.h>

#include <string>
#include <system_error>

#include "backends/backend.h"

namespace backends::file {
namespace {

const char* ErrnoName(int err) {
  switch (err) {
    case EACCES:
      return "EACCES";
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    case ENOSPC:
      return "ENOSPC";
    case EDQUOT:
      return "EDQUOT";
    case EIO:
      return "EIO";
    case EROFS:
      return "EROFS";
    case ELOOP:
      return "ELOOP";
    case ENAMETOOLONG:
      return "ENAMETOOLONG";
    case ENOTDIR:
      return "ENOTDIR";
    case EISDIR:
      return "EISDIR";
    case EEXIST:
      return "EEXIST";
    case ENOTEMPTY:
      return "ENOTEMPTY";
    case EMFILE:
      return "EMFILE";
    case ENFILE:
      return "ENFILE";
    case EXDEV:
      return "EXDEV";
    default:
      return nullptr;
  }
}

}  // namespace

Status PosixError(std::string_view operation, std::string_view key,
                  std::string_view what, int err) {
  std::string message(operation);
  if (!key.empty()) {
    message += ' ';
    message += QuoteKey(key);
  }
  message += ": ";
  message += what;
  message += ": ";
  message += std::generic_category().message(err);
  if (const char* name = ErrnoName(err)) {
    message += " (";
    message += name;
    message += ')';
  }
  switch (err) {
    case EACCES:
    case EPERM:
      return PermissionDeniedError(std::move(message));
    case ELOOP:
    case ENAMETOOLONG:
      return InvalidArgumentError(std::move(message));
    case ENOTDIR:
    case EISDIR:
    case EEXIST:
    case ENOTEMPTY:
      return FailedPreconditionError(std::move(message));
    default:
      return IOError(std::move(message));
  }
}

}  // namespace backends::file

#include <string>

#include "backends/file.h"

namespace backends {

Status ValidateFileKey(std::string_view operation, std::string_view key) {
  BACKENDS_RETURN_IF_ERROR(ValidateKey(operation, key));
  auto invalid = [&](std::string_view why) {
    return InvalidArgumentError(
        std::string(operation) + " " + QuoteKey(key) +
        ": invalid key for a filesystem store: " + std::string(why));
  };
  if (key.front() == '/') return invalid("absolute path");
  std::size_t start = 0;
  while (true) {
    std::size_t slash = key.find('/', start);
    std::string_view segment = key.substr(start, slash == std::string_view::npos
                                                     ? std::string_view::npos
                                                     : slash - start);
    if (segment.empty()) return invalid("empty path segment");
    if (segment == "." || segment == "..") {
      return invalid("'.' or '..' path segment");
    }
    if (segment.size() > 255) return invalid("path segment over 255 bytes");
    if (segment.starts_with(kTempFilePrefix)) {
      return invalid("names starting with '.backends-tmp.' are reserved");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::OK();
}

}  // namespace backends

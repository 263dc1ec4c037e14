#pragma once

// JSON values, read and written in the original library's format.
//
// The original writes json.dump(value, f, sort_keys=True, indent=4,
// separators=(',', ': ')) with Python's defaults: keys sorted, non-ASCII
// escaped as `\uXXXX` (surrogate pairs beyond the BMP), floats in Python's
// shortest round-trip repr, no trailing newline. DumpJson with the default
// JsonFormat writes exactly those bytes, so a file written by the original
// and rewritten by us is byte-identical.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "backends/status.h"

namespace backends {

/// A JSON value. Objects keep their keys sorted.
using Json = nlohmann::json;

/// The deepest nesting read or written: `[]` and `{}` are depth 1. Above
/// Python's own default (about 1000 levels, its recursion limit) and far
/// below what the stack allows, so no input can crash a reader. At this
/// depth the original's 4-space indent puts at most 4 KiB of spaces before
/// a line: the written text is at most ~4 KiB per value, key and bracket.
inline constexpr int kMaxJsonDepth = 1024;

/// How JSON is written (DumpJson). The default is the original's format:
/// Python's json.dumps(indent=4, sort_keys=True).
struct JsonFormat {
  /// Spaces per level; a negative indent writes everything on one line with
  /// separators "," and ":" (compact).
  int indent = 4;
  /// Escape every non-ASCII character as `\uXXXX`, as Python does by default.
  /// When false, strings are written as UTF-8.
  bool ensure_ascii = true;
};

/// Writes `value` in `format` (the original's by default).
/// Errors: kInvalidArgument if a string in `value` is not valid UTF-8, a
/// number is NaN or infinite (neither is valid JSON), or `value` is nested
/// deeper than kMaxJsonDepth.
Result<std::string> DumpJson(const Json& value, const JsonFormat& format = {});

/// Parses any valid JSON text (RFC 8259). Integers beyond 64 bits become
/// doubles. Errors: kDataLoss naming the position of the first fault, or
/// "nested deeper than 1024 levels" past `max_depth`.
Result<Json> ParseJson(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace backends

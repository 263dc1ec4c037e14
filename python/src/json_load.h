#pragma once

// Stored JSON bytes -> Python objects, built straight from simdjson's DOM
// (no nlohmann tree in between). What simdjson refuses (invalid JSON,
// integers beyond 64 bits) and nesting past kMaxJsonDepth take
// JsonCodec::Decode's path instead, so values and error messages are
// exactly ParseJson's.

#include <pybind11/pybind11.h>
#include <simdjson.h>

#include <memory>
#include <string>
#include <string_view>

#include "backends/view.h"

namespace backends::python {

class JsonLoader {
 public:
  /// Claims this thread's parser, or makes its own when a load is already
  /// building in this thread (a finalizer run mid-build may load).
  JsonLoader();
  JsonLoader(const JsonLoader&) = delete;
  JsonLoader& operator=(const JsonLoader&) = delete;
  ~JsonLoader();

  /// Parses `bytes` (kept for the fallback). Needs no GIL.
  void Parse(std::string bytes);
  /// The parsed value as Python objects. REQUIRES: the GIL is held. Raises
  /// DataLossError naming `key` as JsonCodec::Decode does.
  pybind11::object Build(std::string_view key, const JsonCodec& codec);

 private:
  std::unique_ptr<simdjson::dom::parser> own_;  // Null: the thread's one.
  simdjson::dom::parser* parser_;
  std::string bytes_;
  simdjson::dom::element root_;
  simdjson::error_code error_ = simdjson::UNINITIALIZED;
};

}  // namespace backends::python

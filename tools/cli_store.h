#pragma once

// Store URLs as the tool reads them: any URL OpenStore() takes (open.h:
// format=, cache=, timeout= included), read by the library's StoreUrl:
//
//   file://./data?format=json
//   file:///var/cache/app?cache=json&timeout=60
//
// (format=json values are parsed and written in the original's format:
// keys sorted, indent 4, ASCII.)
//
// An argument that does not start with SCHEME:// is a local folder, as
// rclone and aws take one: `./data`, `/abs/data`, `data` (it takes no
// parameters: `?` and `%` are part of the folder's name).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "backends/backend.h"
#include "backends/cache.h"
#include "backends/open.h"
#include "backends/status.h"
#include "backends/view.h"

namespace backends::cli {

using backends::CacheKind;
using backends::ValueFormat;

/// Whether opening a folder store may create its folder (verbs that write)
/// or must find it (verbs that read: a mistyped path is an error, not a
/// new empty store).
enum class OpenMode { kCreate, kExisting };

/// A URL (or a local path) split into the store's part and the layer
/// parameters (timeout_given: cache prune of a text cache needs it).
struct StoreSpec : StoreUrl {
  /// A local path as a file:// URL, then StoreUrl::Parse. Its errors are
  /// usage errors (exit 2).
  static Result<StoreSpec> Parse(std::string_view url);

  /// Checks (text, json) or normalises (json) `bytes` given by the user
  /// into the bytes to store under `key`, and checks the key as far as it
  /// can without opening the store (file:// path rules included), so a
  /// failing put creates nothing. Errors: kInvalidArgument naming the key.
  Result<std::string> ToStored(std::string_view key, std::string bytes) const;

  /// True for a file:// store whose folder does not exist.
  bool FolderMissing() const;
};

/// An open store and the format its values are checked against.
class Store {
 public:
  /// Opens `spec`. Errors: kNotFound "no such folder" for a file:// store
  /// whose folder is missing in kExisting mode (nothing is created);
  /// OpenBackend's and the cache layer's.
  static Result<std::unique_ptr<Store>> Open(const StoreSpec& spec,
                                             OpenMode mode);

  Store(StoreSpec spec, std::unique_ptr<Backend> backend)
      : spec_(std::move(spec)), backend_(std::move(backend)) {}

  Backend& backend() const { return *backend_; }
  const StoreSpec& spec() const { return spec_; }

  /// The store beneath any layers (cache): where url / presign / ACLs act.
  Backend& base() const;

  /// StoreSpec::ToStored of this store's spec.
  Result<std::string> ToStored(std::string_view key, std::string bytes) const {
    return spec_.ToStored(key, std::move(bytes));
  }

  /// Checks stored bytes before they are shown (or copied). Errors:
  /// kDataLoss naming the key when they are not of the store's format.
  Result<std::string> FromStored(std::string_view key, std::string bytes) const;

 private:
  StoreSpec spec_;
  std::unique_ptr<Backend> backend_;
};

}  // namespace backends::cli

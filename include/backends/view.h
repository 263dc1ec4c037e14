#pragma once

// Typed views over any byte store: text (valid UTF-8), JSON and raw bytes.
//
//   backends::JsonBackend store(std::make_unique<backends::VolatileBackend>());
//   BACKENDS_RETURN_IF_ERROR(store.dump("config", {{"debug", true}}));
//
// A view owns its byte store and has the Backend contract with typed values:
// a missing key is std::nullopt, stored bytes the codec cannot decode are
// kDataLoss (never deleted), and a value the codec cannot encode is
// kInvalidArgument (nothing written). Thread safety is the byte store's.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/json.h"
#include "backends/status.h"

namespace backends {

/// Any bytes, unchanged.
struct RawCodec {
  /// What TypedBackend needs of a codec (see there).
  ///@{
  using Value = std::string;
  static constexpr std::string_view kUrlFormat = "raw";
  Result<std::string> Encode(std::string_view key, const Value& value) const;
  Result<Value> Decode(std::string_view key, std::string bytes) const;
  ///@}
};

/// Text: values must be valid UTF-8 (rejected on dump, kDataLoss on load).
struct TextCodec {
  /// What TypedBackend needs of a codec (see there).
  ///@{
  using Value = std::string;
  static constexpr std::string_view kUrlFormat = "text";
  Result<std::string> Encode(std::string_view key, const Value& value) const;
  Result<Value> Decode(std::string_view key, std::string bytes) const;
  ///@}
};

/// JSON: any valid JSON value, written in `format` (the original's format
/// by default); any valid JSON loads whatever its layout.
struct JsonCodec {
  /// What TypedBackend needs of a codec, and `format` (see above).
  ///@{
  using Value = Json;
  static constexpr std::string_view kUrlFormat = "json";
  JsonFormat format;
  Result<std::string> Encode(std::string_view key, const Value& value) const;
  Result<Value> Decode(std::string_view key, std::string bytes) const;
  ///@}
};

/// `store`'s URL with format=`format` (none for raw, the default): a URL
/// that OpenStore (open.h) reopens as this view.
std::string ViewUrl(const Backend& store, std::string_view format);
/// The same for a JSON view, with the codec's JsonFormat where it is not
/// the original's and `store`'s URL does not say it already (a JSON
/// cache's URL does).
std::string ViewUrl(const Backend& store, const JsonCodec& codec);

/// A typed view over a byte store it owns (see view.h).
/// `Codec` has a `Value` type, `Encode(key, value)` giving the bytes to
/// store (kInvalidArgument if it cannot) and `Decode(key, bytes)` giving the
/// value back (kDataLoss if the bytes do not decode). Thread safety is the
/// byte store's.
template <typename Codec>
class TypedBackend {
 public:
  /// The codec's value type.
  using Value = typename Codec::Value;
  /// What items() and iteration give.
  using Entry = std::pair<std::string, Value>;
  class Iterator;

  /// A view over `store` (owned; REQUIRES: not null).
  explicit TypedBackend(std::unique_ptr<Backend> store, Codec codec = {})
      : store_(std::move(store)), codec_(std::move(codec)) {}
  /// Movable, not copyable.
  TypedBackend(TypedBackend&&) noexcept = default;
  /// Movable, not copyable.
  TypedBackend& operator=(TypedBackend&&) noexcept = default;
  virtual ~TypedBackend() = default;

  /// The value under `key`, or std::nullopt if there is none.
  /// Errors: kDataLoss if the stored bytes do not decode; the store's errors.
  Result<std::optional<Value>> load(std::string_view key) const {
    BACKENDS_ASSIGN_OR_RETURN(auto bytes, store_->load(key));
    if (!bytes) return std::optional<Value>();
    BACKENDS_ASSIGN_OR_RETURN(auto value,
                              codec_.Decode(key, std::move(*bytes)));
    return std::optional<Value>(std::move(value));
  }
  /// Stores `value` atomically. Errors: kInvalidArgument if the value cannot
  /// be encoded (nothing is written); the store's errors.
  Status dump(std::string_view key, const Value& value) const {
    BACKENDS_ASSIGN_OR_RETURN(auto bytes, codec_.Encode(key, value));
    return store_->dump(key, bytes);
  }
  /// dump if the key meets `condition` (Backend::dump_if); returns the new
  /// version.
  Result<std::string> dump_if(std::string_view key, const Value& value,
                              const WriteCondition& condition) const {
    BACKENDS_ASSIGN_OR_RETURN(auto bytes, codec_.Encode(key, value));
    return store_->dump_if(key, bytes, condition);
  }
  /// Whether `key` existed. It is not an error if `key` does not exist.
  Result<bool> remove(std::string_view key) const {
    return store_->remove(key);
  }
  /// Backend::copy: the stored bytes are copied unchanged.
  Result<bool> copy(std::string_view src_key, std::string_view dst_key) const {
    return store_->copy(src_key, dst_key);
  }
  /// Backend::rename: the stored bytes move unchanged.
  Result<bool> rename(std::string_view src_key,
                      std::string_view dst_key) const {
    return store_->rename(src_key, dst_key);
  }
  /// Backend::keys of the byte store.
  Result<std::vector<std::string>> keys() const { return store_->keys(); }
  /// Backend::list of the byte store.
  Result<std::vector<std::string>> list(std::string_view prefix) const {
    return store_->list(prefix);
  }
  /// Backend::contains of the byte store.
  Result<bool> contains(std::string_view key) const {
    return store_->contains(key);
  }
  /// Backend::size of the byte store.
  Result<std::size_t> size() const { return store_->size(); }
  /// Every pair, sorted by key; an undecodable value fails the call.
  Result<std::vector<Entry>> items() const {
    BACKENDS_ASSIGN_OR_RETURN(auto raw, store_->items());
    std::vector<Entry> out;
    out.reserve(raw.size());
    for (auto& [key, bytes] : raw) {
      BACKENDS_ASSIGN_OR_RETURN(auto value,
                                codec_.Decode(key, std::move(bytes)));
      out.emplace_back(std::move(key), std::move(value));
    }
    return out;
  }
  /// Backend::clear on the byte store.
  Status clear() const { return store_->clear(); }
  /// A URL that reopens this view (Backend::url).
  std::string url() const {
    if constexpr (std::is_same_v<Codec, JsonCodec>) {
      return ViewUrl(*store_, codec_);
    } else {
      return ViewUrl(*store_, Codec::kUrlFormat);
    }
  }

  /// The byte store underneath.
  Backend& store() const { return *store_; }
  /// Gives up the byte store; the view must not be used after.
  std::unique_ptr<Backend> release() && { return std::move(store_); }
  /// The codec values go through.
  const Codec& codec() const { return codec_; }

  /// Range-for over Result<Entry>, as Backend's iteration (see backend.h).
  Iterator begin() const { return Iterator(store_->begin(), &codec_); }
  /// Where the iteration ends.
  std::default_sentinel_t end() const { return {}; }

 private:
  std::unique_ptr<Backend> store_;
  Codec codec_;
};

/// An input iterator over Result<Entry> elements, as Backend::Iterator.
template <typename Codec>
class TypedBackend<Codec>::Iterator {
 public:
  /// An input iterator's operations; operator== with std::default_sentinel
  /// is true at the end.
  ///@{
  using value_type = Result<Entry>;
  using difference_type = std::ptrdiff_t;

  Iterator() = default;
  const Result<Entry>& operator*() const { return *current_; }
  const Result<Entry>* operator->() const { return &*current_; }
  Iterator& operator++() {
    if (failed_) {
      current_.reset();
    } else {
      ++inner_;
      Decode();
    }
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const Iterator& it, std::default_sentinel_t) {
    return !it.current_.has_value();
  }
  ///@}

 private:
  friend class TypedBackend;
  Iterator(Backend::Iterator inner, const Codec* codec)
      : inner_(std::move(inner)), codec_(codec) {
    Decode();
  }
  void Decode() {
    current_.reset();
    if (inner_ == std::default_sentinel) return;
    if (!inner_->ok()) {
      failed_ = true;
      current_.emplace(inner_->status());
      return;
    }
    const auto& [key, bytes] = **inner_;
    auto value = codec_->Decode(key, bytes);
    if (!value.ok()) {
      failed_ = true;
      current_.emplace(std::move(value).status());
      return;
    }
    current_.emplace(Entry(key, std::move(value).value()));
  }

  Backend::Iterator inner_;
  const Codec* codec_ = nullptr;
  bool failed_ = false;
  std::optional<Result<Entry>> current_;
};

/// Any bytes.
using RawBackend = TypedBackend<RawCodec>;
/// UTF-8 text.
using TextBackend = TypedBackend<TextCodec>;
/// JSON values, written in the original's format by default.
using JsonBackend = TypedBackend<JsonCodec>;

}  // namespace backends

#pragma once

// Runs a typed view (TypedBackend<Codec>) through the byte-level conformance
// suite: dump decodes the test's bytes with the view's codec and stores the
// typed value through the view; load encodes what the view returns. A value
// survives iff the view round-trips it, so the suite's values must be in the
// codec's canonical form (see CanonicalJsonValue).

#include <memory>
#include <string>

#include "backends/backend.h"
#include "backends/view.h"

namespace backends::testing {

template <typename Codec>
class ViewAsBackend final : public Backend {
 public:
  explicit ViewAsBackend(TypedBackend<Codec> view) : view_(std::move(view)) {}

  Result<std::optional<std::string>> load(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(auto value, view_.load(key));
    if (!value) return std::optional<std::string>();
    BACKENDS_ASSIGN_OR_RETURN(auto bytes, view_.codec().Encode(key, *value));
    return std::optional<std::string>(std::move(bytes));
  }
  Status dump(std::string_view key, std::string_view bytes) override {
    auto value = view_.codec().Decode(key, std::string(bytes));
    if (!value.ok()) {
      return InvalidArgumentError("test value is not valid for the view: " +
                                  value.status().message());
    }
    return view_.dump(key, *value);
  }
  Result<bool> remove(std::string_view key) override {
    return view_.remove(key);
  }
  Result<std::string> dump_if(std::string_view key, std::string_view bytes,
                              const WriteCondition& condition) override {
    auto value = view_.codec().Decode(key, std::string(bytes));
    if (!value.ok()) {
      return InvalidArgumentError("test value is not valid for the view: " +
                                  value.status().message());
    }
    return view_.dump_if(key, *value, condition);
  }
  Result<bool> copy(std::string_view src_key,
                    std::string_view dst_key) override {
    return view_.copy(src_key, dst_key);
  }
  Result<bool> rename(std::string_view src_key,
                      std::string_view dst_key) override {
    return view_.rename(src_key, dst_key);
  }
  Result<std::vector<std::string>> list(std::string_view prefix) override {
    return view_.list(prefix);
  }
  Result<std::optional<KeyInfo>> stat(std::string_view key) override {
    return view_.store().stat(key);
  }
  Result<EntryPage> list_entries(const ListRequest& request) override {
    return view_.store().list_entries(request);
  }
  Result<bool> contains(std::string_view key) override {
    return view_.contains(key);
  }
  Result<std::size_t> size() override { return view_.size(); }
  Status clear() override { return view_.clear(); }
  std::string url() const override { return view_.url(); }

  TypedBackend<Codec>& view() { return view_; }

 private:
  TypedBackend<Codec> view_;
};

/// A JSON document of about `size` bytes in the original's canonical format
/// (what DumpJson writes), varying with `seed`; non-ASCII text included.
std::string CanonicalJsonValue(int seed, std::size_t size);

/// UTF-8 text of `size` bytes (multi-byte characters included when size
/// allows), varying with `seed`.
std::string Utf8TextValue(int seed, std::size_t size);

}  // namespace backends::testing

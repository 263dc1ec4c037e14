#pragma once

// Runs JsonCache and TextCache through the byte-level conformance suite:
// bytes are decoded on dump and encoded on load, as ViewAsBackend does for
// typed views, but through the caches' own typed load and dump.

#include <string>
#include <utility>

#include "backends/cache.h"

namespace backends::testing {

class JsonCacheAsBackend final : public Backend {
 public:
  explicit JsonCacheAsBackend(JsonCache cache) : cache_(std::move(cache)) {}

  Result<std::optional<std::string>> load(std::string_view key) override {
    BACKENDS_ASSIGN_OR_RETURN(auto value, cache_.load(key));
    if (!value) return std::optional<std::string>();
    BACKENDS_ASSIGN_OR_RETURN(auto text, DumpJson(*value));
    return std::optional<std::string>(std::move(text));
  }
  Status dump(std::string_view key, std::string_view bytes) override {
    auto value = ParseJson(bytes);
    if (!value.ok()) return InvalidArgumentError(value.status().message());
    return cache_.dump(key, *value);
  }
  Result<bool> remove(std::string_view key) override {
    return cache_.remove(key);
  }
  Result<std::string> dump_if(std::string_view key, std::string_view bytes,
                              const WriteCondition& condition) override {
    return cache_.store().dump_if(key, bytes, condition);
  }
  Result<bool> copy(std::string_view src_key,
                    std::string_view dst_key) override {
    return cache_.store().copy(src_key, dst_key);
  }
  Result<bool> rename(std::string_view src_key,
                      std::string_view dst_key) override {
    return cache_.store().rename(src_key, dst_key);
  }
  Result<std::vector<std::string>> list(std::string_view prefix) override {
    return cache_.list(prefix);
  }
  Result<std::optional<KeyInfo>> stat(std::string_view key) override {
    return cache_.store().stat(key);
  }
  Result<EntryPage> list_entries(const ListRequest& request) override {
    return cache_.store().list_entries(request);
  }
  Result<bool> contains(std::string_view key) override {
    return cache_.contains(key);
  }
  Result<std::size_t> size() override { return cache_.size(); }
  Result<std::vector<Entry>> items() override {
    BACKENDS_ASSIGN_OR_RETURN(auto typed, cache_.items());
    std::vector<Entry> out;
    for (auto& [key, value] : typed) {
      BACKENDS_ASSIGN_OR_RETURN(auto text, DumpJson(value));
      out.emplace_back(key, std::move(text));
    }
    return out;
  }
  Status clear() override { return cache_.clear(); }
  std::string url() const override { return cache_.url(); }

 private:
  JsonCache cache_;
};

class TextCacheAsBackend final : public Backend {
 public:
  explicit TextCacheAsBackend(TextCache cache) : cache_(std::move(cache)) {}

  Result<std::optional<std::string>> load(std::string_view key) override {
    return cache_.load(key);
  }
  Status dump(std::string_view key, std::string_view bytes) override {
    return cache_.dump(key, std::string(bytes));
  }
  Result<bool> remove(std::string_view key) override {
    return cache_.remove(key);
  }
  Result<std::string> dump_if(std::string_view key, std::string_view bytes,
                              const WriteCondition& condition) override {
    return cache_.store().dump_if(key, bytes, condition);
  }
  Result<bool> copy(std::string_view src_key,
                    std::string_view dst_key) override {
    return cache_.store().copy(src_key, dst_key);
  }
  Result<bool> rename(std::string_view src_key,
                      std::string_view dst_key) override {
    return cache_.store().rename(src_key, dst_key);
  }
  Result<std::vector<std::string>> list(std::string_view prefix) override {
    return cache_.list(prefix);
  }
  Result<std::optional<KeyInfo>> stat(std::string_view key) override {
    return cache_.store().stat(key);
  }
  Result<EntryPage> list_entries(const ListRequest& request) override {
    return cache_.store().list_entries(request);
  }
  Result<bool> contains(std::string_view key) override {
    return cache_.contains(key);
  }
  Result<std::size_t> size() override { return cache_.size(); }
  Result<std::vector<Entry>> items() override { return cache_.items(); }
  Status clear() override { return cache_.clear(); }
  std::string url() const override { return cache_.url(); }

 private:
  TextCache cache_;
};

}  // namespace backends::testing

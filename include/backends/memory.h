#pragma once

// VolatileBackend: the in-memory store (the original's name).
//
// Values live in this process only and vanish with the object. Any key that
// passes ValidateKey (backend.h) is accepted, including `a//b` and `./x`.
// Thread safety: safe for concurrent use; readers copy values under a shared
// lock, so a reader never sees a torn value. url() is "memory://", which
// reopens an empty store.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/backend.h"

namespace backends {

/// The in-memory store (see memory.h): safe for concurrent use.
/// Every method has Backend's contract; the only errors are kInvalidArgument
/// for an invalid key and those of the conditional writes (Backend::dump_if).
class VolatileBackend final : public Backend {
 public:
  /// An empty store.
  VolatileBackend();
  ~VolatileBackend() override;

  Result<std::optional<std::string>> load(std::string_view key) override;
  Status dump(std::string_view key, std::string_view value) override;
  Result<bool> remove(std::string_view key) override;
  Result<std::optional<std::string>> load_range(std::string_view key,
                                                std::uint64_t offset,
                                                std::uint64_t length) override;
  Result<bool> copy(std::string_view src_key,
                    std::string_view dst_key) override;
  Result<bool> rename(std::string_view src_key,
                      std::string_view dst_key) override;
  Result<std::string> dump_if(std::string_view key, std::string_view value,
                              const WriteCondition& condition) override;
  Result<bool> remove_if(std::string_view key,
                         const RemovalCheck& should_remove) override;
  Result<std::vector<std::string>> list(std::string_view prefix) override;
  Result<KeyPage> list_page(std::string_view prefix,
                            std::string_view start_after,
                            std::size_t limit) override;
  Result<EntryPage> list_entries(const ListRequest& request) override;
  Result<std::optional<KeyInfo>> stat(std::string_view key) override;
  Result<bool> contains(std::string_view key) override;
  Result<std::size_t> size() override;
  Status clear() override;
  std::string url() const override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace backends

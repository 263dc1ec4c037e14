#pragma once

// RedisBackend's transport on a Redis Cluster: a Client (pool) per node,
// the slot map read with CLUSTER SLOTS, each command sent to the master of
// its key's slot, MOVED and ASK followed, and a pipeline split per node,
// every node's part sent before any reply is read.

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "redis/redis_client.h"

namespace backends::redis {

inline constexpr int kClusterSlots = 16384;

/// The slot of `key`: CRC16 (XMODEM) of its hash tag (the text between the
/// first '{' and the next '}', when not empty) or of the whole key,
/// modulo 16384, as CLUSTER KEYSLOT computes it.
int KeySlot(std::string_view key);

class ClusterClient : public Transport {
 public:
  /// `options` name one node (the seed); options.retry_budget bounds how
  /// long a call follows redirections and waits out a failover.
  explicit ClusterClient(RedisOptions options);
  ~ClusterClient() override;

  Result<std::vector<Reply>> Run(std::span<const Command> commands,
                                 Idempotent idempotent,
                                 std::string_view what) override;
  Status ForEachMaster(
      std::string_view what,
      const std::function<Status(Transport& master)>& visit) override;
  std::string NextTo(std::string_view name,
                     std::string_view suffix) const override;
  Status Check() override;
  const std::string& where() const override { return where_; }

 private:
  struct Node;
  struct Unit;

  /// Reads the slot map from a node that answers (masters first).
  Status Refresh(std::string_view what);
  Client* NodeAt(const std::string& host, int port);
  Client* MasterOf(int slot) const;

  const RedisOptions options_;
  const std::string where_;
  mutable std::shared_mutex mu_;
  std::vector<std::unique_ptr<Node>> nodes_;  // never removed
  std::array<Client*, kClusterSlots> slots_{};
  std::vector<Client*> masters_;
  std::mutex refresh_mu_;
};

}  // namespace backends::redis

#pragma once

// The Redis client under RedisBackend: pooled connections shared by
// threads, pipelines, reconnection and retries of idempotent commands.
//
// Connections (redis_connection.h): hiredis 0.14's synchronous context
// for plain TCP and Unix sockets; our own socket, OpenSSL and hiredis's
// RESP reader for TLS, which hiredis 0.14 lacks.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/redis.h"
#include "backends/status.h"
#include "redis/redis_connection.h"

namespace backends::redis {

/// One command's arguments, viewing the caller's memory.
using Command = std::vector<std::string_view>;

/// Whether a failed pipeline may be sent again on a new connection.
enum class Idempotent { kNo, kYes };

class Client;

/// What RedisBackend sends commands through: one server (Client) or a
/// Redis Cluster (ClusterClient, redis_cluster.h), which routes each
/// command by its key.
class Transport {
 public:
  virtual ~Transport() = default;

  /// Sends `commands` as pipelines and returns one reply each, in order
  /// (see Client::Run).
  virtual Result<std::vector<Reply>> Run(std::span<const Command> commands,
                                         Idempotent idempotent,
                                         std::string_view what) = 0;
  Result<Reply> RunOne(const Command& command, Idempotent idempotent,
                       std::string_view what);

  /// Calls `visit` on every master (one server: itself), for commands
  /// without a key (SCAN, DBSIZE). A cluster refreshes its map first.
  virtual Status ForEachMaster(
      std::string_view what,
      const std::function<Status(Transport& master)>& visit) = 0;

  /// A name for a helper key (a temporary or a snapshot) that a
  /// transaction or a script may use together with `name`: on a cluster it
  /// lies in the same slot.
  virtual std::string NextTo(std::string_view name,
                             std::string_view suffix) const = 0;

  /// Connects (checking address, credentials and db; a cluster also
  /// reads its slot map), without retrying.
  virtual Status Check() = 0;

  /// "redis 127.0.0.1:6379", "redis /path.sock", "redis cluster ...".
  virtual const std::string& where() const = 0;
};

/// A pipeline sent by Client::Start, its replies read by Client::Finish:
/// pipelines to several servers are all sent before any is read.
struct Sent {
  std::unique_ptr<Connection> connection;
  std::size_t count = 0;
  bool was_idle = false;  // a pooled connection, not a new one
  Status failure;         // when opening or writing failed
  bool nothing_sent = false;  // with a failure: no byte reached the server
};

/// How a pipeline failed when Finish returns an error.
struct Failure {
  Status status;
  bool sent_nothing = true;  // nothing reached the server: safe to resend
  bool stale = false;        // a pooled connection the server had closed
};

class Client : public Transport {
 public:
  explicit Client(RedisOptions options);
  ~Client() override;

  /// Sends `commands` as one pipeline on a pooled connection and returns
  /// one reply each, in order. An error reply is a reply (see ReplyStatus).
  /// A lost connection (or a server still loading) is retried on a new one
  /// within options.retry_budget when `idempotent`; otherwise, and when
  /// the budget runs out, the call fails with kUnavailable. `what` names the
  /// operation in errors, e.g. `load "k"`.
  Result<std::vector<Reply>> Run(std::span<const Command> commands,
                                 Idempotent idempotent,
                                 std::string_view what) override;
  Status ForEachMaster(
      std::string_view what,
      const std::function<Status(Transport& master)>& visit) override;
  std::string NextTo(std::string_view name,
                     std::string_view suffix) const override;

  /// One try, in two steps: Start takes a connection (pooled or new) and
  /// writes `wire` (`count` commands in RESP) to it; Finish reads the
  /// replies and pools the connection again. No retry.
  Sent Start(std::string_view wire, std::size_t count, std::string_view what);
  Result<std::vector<Reply>> Finish(Sent& sent, std::string_view what,
                                    Failure* failure = nullptr);

  /// Opens one connection (checking address, credentials and db) into the
  /// pool.
  Status Check() override;

  /// "redis 127.0.0.1:6379", "rediss 127.0.0.1:6380" (TLS) or
  /// "redis /path.sock", for messages.
  const std::string& where() const override { return where_; }

 private:
  using ConnectionPtr = std::unique_ptr<Connection>;

  Result<ConnectionPtr> Open(std::string_view what);
  ConnectionPtr TakeIdle();
  void GiveBack(ConnectionPtr connection);
  /// `status` with "what: where: " before its message.
  Status Named(const Status& status, std::string_view what) const;

  const RedisOptions options_;
  const std::string where_;
  const Connector connector_{options_};
  std::mutex mu_;
  std::vector<ConnectionPtr> idle_;
};

/// The Status an error reply stands for (OK for any other reply): WRONGPASS
/// and NOAUTH are kUnauthenticated, NOPERM kPermissionDenied, WRONGTYPE
/// kFailedPrecondition, LOADING / BUSY / TRYAGAIN / MASTERDOWN /
/// CLUSTERDOWN / NOREPLICAS kUnavailable.
Status ReplyStatus(const redisReply& reply, std::string_view what,
                   std::string_view where);

/// Appends `command` in RESP (as redisFormatCommandArgv would) to `wire`.
void Encode(const Command& command, std::string& wire);
/// At least the bytes Encode appends for `command`: a pipeline's buffer is
/// reserved once (grown by doubling, a 1 MB pipeline cost 4x its send).
std::size_t EncodedBound(const Command& command);

/// The text of a string (or status) reply.
inline std::string_view ReplyText(const redisReply& reply) {
  return {reply.str, reply.len};
}

}  // namespace backends::redis

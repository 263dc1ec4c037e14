#pragma once

// The Redis client under RedisBackend: pooled connections shared by
// threads, pipelines, reconnection and retries of idempotent commands.
//
// Built on hiredis 0.14's synchronous context (Debian's libhiredis-dev):
// it gives connect and read timeouts, TCP_NODELAY and the RESP reader over
// plain TCP and Unix sockets, which is all a plain server needs. (hiredis
// 0.14 has no TLS: a TLS connection would need our own socket feeding its
// redisReader.)

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/redis.h"
#include "backends/status.h"

namespace backends::redis {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

/// One command's arguments, viewing the caller's memory.
using Command = std::vector<std::string_view>;

/// Whether a failed pipeline may be sent again on a new connection.
enum class Idempotent { kNo, kYes };

class Client {
 public:
  explicit Client(RedisOptions options);
  ~Client();

  /// Sends `commands` as one pipeline on a pooled connection and returns
  /// one reply each, in order. An error reply is a reply (see ReplyStatus).
  /// A lost connection (or a server still loading) is retried on a new one
  /// within options.retry_budget when `idempotent`; otherwise, and when
  /// the budget runs out, the call fails with kUnavailable. `what` names the
  /// operation in errors, e.g. `load "k"`.
  Result<std::vector<Reply>> Run(std::span<const Command> commands,
                                 Idempotent idempotent, std::string_view what);
  Result<Reply> RunOne(const Command& command, Idempotent idempotent,
                       std::string_view what);

  /// Opens one connection (checking address, credentials and db) into the
  /// pool.
  Status Check();

  /// "redis 127.0.0.1:6379" or "redis /path.sock", for messages.
  const std::string& where() const { return where_; }

 private:
  using ConnectionPtr = std::unique_ptr<redisContext, void (*)(redisContext*)>;

  Result<ConnectionPtr> Open(std::string_view what);
  ConnectionPtr TakeIdle();
  void GiveBack(ConnectionPtr connection);
  Status ConnectionError(const redisContext& context, std::string_view what,
                         std::string_view step) const;

  const RedisOptions options_;
  const std::string where_;
  std::mutex mu_;
  std::vector<ConnectionPtr> idle_;
};

/// The Status an error reply stands for (OK for any other reply): WRONGPASS
/// and NOAUTH are kUnauthenticated, NOPERM kPermissionDenied, WRONGTYPE
/// kFailedPrecondition, LOADING / BUSY / TRYAGAIN / MASTERDOWN kUnavailable.
Status ReplyStatus(const redisReply& reply, std::string_view what,
                   std::string_view where);

/// The text of a string (or status) reply.
inline std::string_view ReplyText(const redisReply& reply) {
  return {reply.str, reply.len};
}

}  // namespace backends::redis

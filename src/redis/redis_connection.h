#pragma once

// One connection to a Redis server, as Client pools them: plain TCP or a
// Unix socket through hiredis's synchronous context, or TLS (rediss://)
// through our own socket, OpenSSL and hiredis's RESP reader (redisReader),
// because hiredis 0.14 (Debian's libhiredis-dev) has no TLS. Either way a
// reply is a hiredis redisReply.

#include <hiredis/hiredis.h>

#include <cstddef>
#include <memory>
#include <string_view>

#include "backends/redis.h"
#include "backends/status.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace backends::redis {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

class Connection {
 public:
  virtual ~Connection() = default;

  /// Writes all of `wire` (RESP). On an error `written` says how many bytes
  /// went out (0: nothing reached the server). Errors: kUnavailable,
  /// kDeadlineExceeded past options.read_timeout; messages start with the
  /// step ("send: ...").
  virtual Status Write(std::string_view wire, std::size_t& written) = 0;

  /// Reads the next reply (waiting at most options.read_timeout for each
  /// piece of it). `eof`: the error is the server having closed the
  /// connection.
  virtual Result<Reply> Read(bool& eof) = 0;
};

/// Opens a client's connections, with its TLS settings (CAs, client
/// certificate) loaded once for all of them.
class Connector {
 public:
  /// `options` must outlive the Connector.
  explicit Connector(const RedisOptions& options);
  ~Connector();

  /// A connection, connected (TCP with TCP_NODELAY, and the TLS handshake)
  /// within options.connect_timeout. Errors: kUnavailable,
  /// kDeadlineExceeded, kUnauthenticated (a certificate refused either
  /// way), kInvalidArgument (a TLS file that cannot be used); messages
  /// start with the step ("connect: ...", "TLS handshake: ...").
  Result<std::unique_ptr<Connection>> Connect() const;

 private:
  const RedisOptions& options_;
  std::unique_ptr<ssl_ctx_st, void (*)(ssl_ctx_st*)> tls_{nullptr, nullptr};
  Status tls_status_;  // why tls_ could not be made
};

}  // namespace backends::redis

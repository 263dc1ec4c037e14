#pragma once

// The Redis store: a key is a Redis key under an optional prefix (several
// stores share one database), a value is a Redis string.
//
//   redis://[user[:password]@]host[:port][/db][?prefix=P]
//   rediss://...[?cacert=PATH][&cert=PATH&key=PATH]            TLS
//   redis+unix:///path/to/redis.sock[?db=N&prefix=P]
//   redis://host:port?cluster=1[&wait_replicas=N][&prefix=P]   Redis Cluster
//
// A password may also come from REDISCLI_AUTH (as redis-cli takes it); it
// never appears in an error or in url().
//
// The Redis way (docs/backends/redis.md): batches are pipelines; listings
// SCAN with MATCH on the prefix (never KEYS) and sort what they find;
// size() counts by SCAN under a prefix and asks DBSIZE without one; clear()
// SCANs and UNLINKs in batches, so the server is never blocked for long.
// A streamed value is written into a temporary key (SETRANGE, with an
// expiry so an abandoned one goes away) and renamed into place, so a
// half-written value is never visible; a value over max_value_bytes (Redis's
// own limit, 512 MB) is refused before anything is written.
//
// Thread safety: connections are pooled; each call takes one for itself.
// A lost connection is reopened, and idempotent commands (GET, SET, UNLINK,
// SCAN, SETRANGE at an offset) are sent again until retry_budget runs out
// (then kUnavailable). Redis keeps no modification time or version, so
// stat() and listings give sizes only.
//
// Redis Cluster (cluster = true; docs/backends/redis.md): host:port is one
// node, the others come from CLUSTER SLOTS. Each key goes to the master of
// its slot (CRC16 of the key, or of its hash tag {...}; the prefix is part
// of the key, so prefix={app}: puts all of a store's keys in one slot).
// MOVED and ASK are followed; batches are split per node and the nodes'
// pipelines sent together; listings, size() and clear() visit every
// master. While a failover runs, calls are retried within retry_budget,
// then fail with kUnavailable; never with a wrong value. A write is
// acknowledged once its master has it; with wait_replicas > 0 only once
// that many replicas have it too (WAIT), so a failover cannot lose it.
//
// TLS (rediss://, tls = true; docs/backends/redis.md): the server's
// certificate is checked against tls_ca_file (else the system's CAs) and
// its name against host; a certificate the client does not trust, or a
// client certificate the server refuses, is kUnauthenticated naming why.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/cache.h"

namespace backends {

/// Redis's limit on a string value (proto-max-bulk-len's default).
inline constexpr std::uint64_t kRedisMaxValueBytes = 512ull << 20;

/// Where and how NewRedisBackend connects (ParseRedisUrl makes one).
struct RedisOptions {
  /// The server's address (TCP).
  ///@{
  std::string host = "127.0.0.1";
  int port = 6379;
  ///@}
  /// When set, a Unix socket instead of host:port.
  std::string unix_socket;
  /// The database number (SELECT).
  int db = 0;
  /// ACL user; empty means "default" (AUTH with the password only).
  std::string user;
  /// Never printed; empty means no AUTH.
  std::string password;
  /// Prepended to every key; listings, size() and clear() see only keys
  /// that start with it.
  std::string prefix;
  /// Deadlines of a connection attempt and of each reply
  /// (kDeadlineExceeded past them).
  ///@{
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds read_timeout{10000};
  ///@}
  /// How long a call keeps reconnecting and resending an idempotent command
  /// after a lost connection or a server still loading its data.
  std::chrono::milliseconds retry_budget{10000};
  /// Idle connections kept for reuse.
  std::size_t max_idle_connections = 16;
  /// A larger value is refused with kInvalidArgument before it is written.
  std::uint64_t max_value_bytes = kRedisMaxValueBytes;
  /// Redis Cluster: host:port is one node of it (db must be 0).
  bool cluster = false;
  /// Cluster: writes wait (WAIT) for this many replicas, at most
  /// wait_timeout; fewer is kUnavailable (the write may stay on the master).
  int wait_replicas = 0;
  /// How long a write waits for its replicas (wait_replicas > 0).
  std::chrono::milliseconds wait_timeout{1000};
  /// TLS (rediss://): on, the server's certificate is checked against
  /// tls_ca_file (PEM; empty: the system's default CAs) and against host
  /// (a name, or an IP address); tls_cert_file and tls_key_file (PEM, both
  /// or neither) are the client certificate a server may ask for.
  /// tls_insecure skips the server's certificate check: dangerous, anyone
  /// on the path can pose as the server; for tests only.
  ///@{
  bool tls = false;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  bool tls_insecure = false;
  ///@}
};

/// The store, with what Redis adds to the Backend contract. Thread safety:
/// see redis.h.
class RedisBackend : public Backend {
 public:
  /// Batches: one pipeline (one round trip's worth of writes, then the
  /// replies); one result per input, in input order.
  ///@{
  virtual std::vector<Result<std::optional<std::string>>> load_many(
      std::span<const std::string> keys) = 0;
  virtual std::vector<Status> dump_many(
      std::span<const std::pair<std::string, std::string>> items) = 0;
  ///@}
  /// Whether each key existed.
  virtual std::vector<Result<bool>> remove_many(
      std::span<const std::string> keys) = 0;

  /// dump with an expiry Redis keeps (SET ... PX): the key is gone `ttl`
  /// from now, whoever reads it. A `ttl` of 0 or less removes the key.
  virtual Status dump_expiring(std::string_view key, std::string_view value,
                               std::chrono::milliseconds ttl) = 0;

  /// dump_if (see Backend) with an expiry as dump_expiring's; nullopt: none.
  /// The check and the write are one server-side script, so atomic.
  virtual Result<std::string> dump_if_expiring(
      std::string_view key, std::string_view value,
      const WriteCondition& condition,
      std::optional<std::chrono::milliseconds> ttl) = 0;

  /// The options the store was opened with (the password included).
  virtual const RedisOptions& options() const = 0;
};

/// The expiring caches on Redis, with the expiry kept by Redis (SET ... PX):
/// an expired entry is gone for every reader, never comes back, and
/// prune() has nothing to do (it returns 0). JsonCache's semantics: JSON
/// values (stored as JSON text in options.format, readable by redis-cli),
/// a default and a per-object timeout (0: already expired, so nothing is
/// stored; kNeverExpires: no expiry). TextCache's: any bytes, each
/// expiring options.timeout after its dump. Expiry follows the server's
/// clock, not options.clock; limits and decoded_bytes do not apply (Redis's
/// own maxmemory policy bounds a cache). stats() counts hits and misses;
/// expirations stay 0 (Redis expires entries unseen). A dump with a
/// negative timeout is kInvalidArgument.
///@{
Result<std::unique_ptr<JsonEnvelopeBackend>> NewRedisJsonCache(
    std::unique_ptr<RedisBackend> store, ExpiryOptions options = {});
Result<std::unique_ptr<ExpiringBackend>> NewRedisTextCache(
    std::unique_ptr<RedisBackend> store, ExpiryOptions options = {});
///@}

/// Parses a redis://, rediss:// or redis+unix:// URL (see the top of this
/// file; `cluster=1`, `wait_replicas=N`, and for rediss:// `cacert=PATH`,
/// `cert=PATH`, `key=PATH`, `insecure=1` set those options), the
/// password from REDISCLI_AUTH when the URL has none. Errors:
/// kInvalidArgument naming what is wrong (never the password).
Result<RedisOptions> ParseRedisUrl(std::string_view url);

/// Connects (one connection, to check the address, credentials and db).
/// Errors: kUnavailable when the server cannot be reached,
/// kDeadlineExceeded on a timeout, kUnauthenticated for a wrong user or
/// password or a certificate refused either way (TLS), kInvalidArgument for
/// a bad option (a TLS file that cannot be read among them).
Result<std::unique_ptr<RedisBackend>> NewRedisBackend(RedisOptions options);

}  // namespace backends

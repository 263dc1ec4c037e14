#include "redis/redis_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>

namespace backends::redis {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

timeval ToTimeval(milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

Status SendError(int error) {
  std::string message = std::string("send: ") + std::strerror(error);
  return error == EAGAIN || error == EWOULDBLOCK
             ? DeadlineExceededError(std::move(message))
             : UnavailableError(std::move(message));
}

// ---- Plain TCP and Unix sockets: hiredis's context.

Status ContextError(const redisContext& context, std::string_view step) {
  std::string message = std::string(step) + ": " + context.errstr;
  // hiredis reports a timeout as an I/O error with errno EAGAIN (reads) or
  // ETIMEDOUT / EINPROGRESS (connect).
  const std::string_view text = context.errstr;
  if (text.find("temporarily unavailable") != std::string_view::npos ||
      text.find("timed out") != std::string_view::npos ||
      text.find("in progress") != std::string_view::npos) {
    return DeadlineExceededError(std::move(message));
  }
  return UnavailableError(std::move(message));
}

class PlainConnection final : public Connection {
 public:
  explicit PlainConnection(redisContext* context) : context_(context) {}
  ~PlainConnection() override { redisFree(context_); }
  PlainConnection(const PlainConnection&) = delete;
  PlainConnection& operator=(const PlainConnection&) = delete;

  // Written here rather than by hiredis (which writes when the first reply
  // is asked for): pipelines to several servers all go out before any reply
  // is read, and MSG_NOSIGNAL keeps a closed socket from raising SIGPIPE.
  Status Write(std::string_view wire, std::size_t& written) override {
    for (written = 0; written < wire.size();) {
      const ssize_t n = ::send(context_->fd, wire.data() + written,
                               wire.size() - written, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return SendError(errno);
      written += static_cast<std::size_t>(n);
    }
    return Status::OK();
  }

  Result<Reply> Read(bool& eof) override {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK) {
      eof = context_->err == REDIS_ERR_EOF;
      return ContextError(*context_, "connection lost");
    }
    return Reply(static_cast<redisReply*>(raw));
  }

 private:
  redisContext* const context_;
};

Result<std::unique_ptr<Connection>> ConnectPlain(const RedisOptions& options) {
  const timeval connect_timeout = ToTimeval(options.connect_timeout);
  redisContext* context =
      options.unix_socket.empty()
          ? redisConnectWithTimeout(options.host.c_str(), options.port,
                                    connect_timeout)
          : redisConnectUnixWithTimeout(options.unix_socket.c_str(),
                                        connect_timeout);
  if (context == nullptr) {
    return UnavailableError("connect: out of memory opening a connection");
  }
  auto connection = std::make_unique<PlainConnection>(context);
  if (context->err != 0) return ContextError(*context, "connect");
  if (redisSetTimeout(context, ToTimeval(options.read_timeout)) != REDIS_OK) {
    return ContextError(*context, "set timeout");
  }
  return std::unique_ptr<Connection>(std::move(connection));
}

// ---- TLS: our socket, OpenSSL over memory BIOs, hiredis's reader.

// The reasons in OpenSSL's error queue, "; "-separated; empties the queue.
std::string OpenSslErrors() {
  std::string out;
  while (const unsigned long error = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(error);
    char text[256];
    if (reason == nullptr) ERR_error_string_n(error, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += reason != nullptr ? reason : text;
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

// The alerts with which a server refuses the client's certificate (or its
// absence).
bool IsCertificateRefusal(int reason) {
  switch (reason) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
      return true;
    default:
      return false;
  }
}

Status Readable(const std::string& path, std::string_view param) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return InvalidArgumentError("TLS: " + std::string(param) + " file \"" +
                                path + "\": " + std::strerror(errno));
  }
  ::close(fd);
  return Status::OK();
}

Status BadFile(const std::string& path, std::string_view param,
               std::string_view expected) {
  return InvalidArgumentError("TLS: " + std::string(param) + " file \"" +
                              path + "\" is not " + std::string(expected) +
                              ": " + OpenSslErrors());
}

// A key protected by a pass phrase is refused rather than asked for on the
// terminal (OpenSSL's default).
int NoPassphrase(char*, int, int, void*) { return 0; }

Status LoadTls(SSL_CTX* context, const RedisOptions& options) {
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_default_passwd_cb(context, NoPassphrase);
  SSL_CTX_set_verify(context,
                     options.tls_insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                     nullptr);
  if (!options.tls_ca_file.empty()) {
    BACKENDS_RETURN_IF_ERROR(Readable(options.tls_ca_file, "cacert"));
    if (SSL_CTX_load_verify_locations(context, options.tls_ca_file.c_str(),
                                      nullptr) != 1) {
      return BadFile(options.tls_ca_file, "cacert", "PEM CA certificates");
    }
  } else if (SSL_CTX_set_default_verify_paths(context) != 1) {
    return InternalError("TLS: the system's CA certificates: " +
                         OpenSslErrors());
  }
  if (options.tls_cert_file.empty()) return Status::OK();
  BACKENDS_RETURN_IF_ERROR(Readable(options.tls_cert_file, "cert"));
  BACKENDS_RETURN_IF_ERROR(Readable(options.tls_key_file, "key"));
  if (SSL_CTX_use_certificate_chain_file(context,
                                         options.tls_cert_file.c_str()) != 1) {
    return BadFile(options.tls_cert_file, "cert", "a PEM certificate");
  }
  if (SSL_CTX_use_PrivateKey_file(context, options.tls_key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1 &&
      ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
    return BadFile(options.tls_key_file, "key",
                   "a PEM private key without a pass phrase");
  }
  if (SSL_CTX_check_private_key(context) != 1) {
    return InvalidArgumentError("TLS: key file \"" + options.tls_key_file +
                                "\" does not match cert file \"" +
                                options.tls_cert_file +
                                "\": " + OpenSslErrors());
  }
  return Status::OK();
}

bool IsIpAddress(const std::string& host) {
  in6_addr address;
  return inet_pton(AF_INET, host.c_str(), &address) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// How long to wait for the socket: until a deadline (connect and
// handshake), or at most read_timeout each time (as SO_RCVTIMEO does on
// the plain path).
struct Wait {
  std::optional<Clock::time_point> deadline;
  milliseconds each{0};

  // For poll(): -1 waits without end (a read_timeout of 0, as on the plain
  // path).
  int Millis() const {
    if (!deadline) return each.count() > 0 ? static_cast<int>(each.count()) : -1;
    const auto left = std::chrono::duration_cast<milliseconds>(
        *deadline - Clock::now());
    return static_cast<int>(std::max<milliseconds::rep>(left.count(), 0));
  }
};

// Waits until `fd` is ready for `events`.
Status PollFor(int fd, short events, const Wait& wait, std::string_view step) {
  while (true) {
    pollfd entry{fd, events, 0};
    const int millis = wait.Millis();
    const int n = millis != 0 ? ::poll(&entry, 1, millis) : 0;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return UnavailableError(std::string(step) + ": poll: " +
                              std::strerror(errno));
    }
    if (n == 0) {
      return DeadlineExceededError(std::string(step) + ": timed out");
    }
    return Status::OK();
  }
}

Result<Socket> ConnectTcp(const RedisOptions& options, const Wait& wait) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options.port);
  if (const int error =
          ::getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found);
      error != 0) {
    return UnavailableError("connect: cannot resolve \"" + options.host +
                            "\": " + gai_strerror(error));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(found, freeaddrinfo);
  Status last = UnavailableError("connect: no address");
  for (const addrinfo* at = found; at != nullptr; at = at->ai_next) {
    Socket socket(::socket(at->ai_family,
                           SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (socket.get() < 0) {
      last = UnavailableError(std::string("connect: socket: ") +
                              std::strerror(errno));
      continue;
    }
    if (::connect(socket.get(), at->ai_addr, at->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = UnavailableError(std::string("connect: ") + std::strerror(errno));
        continue;
      }
      last = PollFor(socket.get(), POLLOUT, wait, "connect");
      if (!last.ok()) continue;
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) {
        last = UnavailableError(std::string("connect: ") + std::strerror(error));
        continue;
      }
    }
    const int one = 1;
    ::setsockopt(socket.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return socket;
  }
  return last;
}

// OpenSSL works on two memory BIOs and this class moves their bytes to and
// from the (non-blocking) socket, so every wait is a poll() with a
// timeout, and no write can raise SIGPIPE (send with MSG_NOSIGNAL). An SSL
// call is always made before the socket is waited on, so bytes OpenSSL
// already holds (SSL_pending) are never left waiting for more.
class TlsConnection final : public Connection {
 public:
  TlsConnection(Socket socket, SSL* ssl, const RedisOptions& options)
      : socket_(std::move(socket)),
        ssl_(ssl),
        in_(BIO_new(BIO_s_mem())),
        out_(BIO_new(BIO_s_mem())),
        reader_(redisReaderCreate()),
        has_certificate_(!options.tls_cert_file.empty()),
        each_{.each = options.read_timeout} {
    if (in_ != nullptr && out_ != nullptr) {
      SSL_set_bio(ssl_, in_, out_);  // ssl_ owns them now
    } else {
      BIO_free(in_);
      BIO_free(out_);
      in_ = out_ = nullptr;
    }
  }
  ~TlsConnection() override {
    if (healthy_ && SSL_shutdown(ssl_) >= 0) {  // close_notify, best effort
      char buffer[512];
      const int n = BIO_read(out_, buffer, sizeof buffer);
      if (n > 0) {
        (void)::send(socket_.get(), buffer, static_cast<std::size_t>(n),
                     MSG_NOSIGNAL | MSG_DONTWAIT);
      }
    }
    if (reader_ != nullptr) redisReaderFree(reader_);
    SSL_free(ssl_);
  }
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  Status Handshake(const Wait& wait) {
    if (in_ == nullptr || reader_ == nullptr) {
      return UnavailableError("TLS: out of memory");
    }
    bool eof = false;
    Status status = Drive([&] { return SSL_connect(ssl_); }, "TLS handshake",
                          wait, eof);
    // A plain server closes the connection, or waits for the end of a
    // line that never comes.
    if (eof || status.code() == ErrorCode::kDeadlineExceeded) {
      return Status(status.code(),
                    status.message() + " (is the port a TLS port?)");
    }
    healthy_ = status.ok();
    return status;
  }

  Status Write(std::string_view wire, std::size_t& written) override {
    const std::uint64_t before = bytes_sent_;
    bool eof = false;
    Status status;
    // In pieces: OpenSSL encrypts a whole write into the memory BIO first.
    for (std::size_t at = 0; at < wire.size() && status.ok();) {
      const std::size_t piece = std::min<std::size_t>(wire.size() - at, 1 << 16);
      std::size_t n = 0;
      status = Drive(
          [&] { return SSL_write_ex(ssl_, wire.data() + at, piece, &n); },
          "send", each_, eof);
      at += n;
    }
    written = static_cast<std::size_t>(bytes_sent_ - before);
    healthy_ = healthy_ && status.ok();
    return status;
  }

  Result<Reply> Read(bool& eof) override {
    while (true) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
        healthy_ = false;
        return UnavailableError(std::string("protocol error: ") +
                                reader_->errstr);
      }
      if (raw != nullptr) return Reply(static_cast<redisReply*>(raw));
      std::size_t n = 0;
      Status status = Drive(
          [&] { return SSL_read_ex(ssl_, buffer_, sizeof buffer_, &n); },
          "connection lost", each_, eof);
      if (!status.ok()) {
        healthy_ = false;
        return status;
      }
      if (redisReaderFeed(reader_, buffer_, n) != REDIS_OK) {
        healthy_ = false;
        return UnavailableError(std::string("protocol error: ") +
                                reader_->errstr);
      }
    }
  }

 private:
  // Runs `step` (an SSL call returning > 0 on success) until it succeeds,
  // sending what OpenSSL writes and feeding it what the socket reads.
  template <typename Step>
  Status Drive(Step step, std::string_view name, const Wait& wait, bool& eof) {
    while (true) {
      ERR_clear_error();
      const int result = step();
      const int error =
          result > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, result);
      // What OpenSSL wrote (records, an alert) goes out first.
      Status flushed = Flush(name, wait);
      if (error == SSL_ERROR_NONE || error == SSL_ERROR_WANT_WRITE) {
        if (!flushed.ok() || error == SSL_ERROR_NONE) return flushed;
        continue;
      }
      if (error == SSL_ERROR_WANT_READ) {
        BACKENDS_RETURN_IF_ERROR(flushed);
        BACKENDS_RETURN_IF_ERROR(Fill(name, wait, eof));
        continue;
      }
      if (error == SSL_ERROR_ZERO_RETURN) {
        eof = true;
        return UnavailableError(std::string(name) +
                                ": the server closed the TLS session");
      }
      return SslError(name);
    }
  }

  Status Flush(std::string_view name, const Wait& wait) {
    while (BIO_ctrl_pending(out_) > 0) {
      const int n = BIO_read(out_, io_, sizeof io_);
      if (n <= 0) break;
      for (int at = 0; at < n;) {
        const ssize_t sent = ::send(socket_.get(), io_ + at,
                                    static_cast<std::size_t>(n - at),
                                    MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          BACKENDS_RETURN_IF_ERROR(PollFor(socket_.get(), POLLOUT, wait, name));
          continue;
        }
        if (sent < 0) {
          Status failed = SendError(errno);
          if (name != "send") failed = failed.WithContext(name);
          Status refused = RefusalBeforeReset(name);
          return refused.ok() ? failed : refused;
        }
        at += static_cast<int>(sent);
        bytes_sent_ += static_cast<std::uint64_t>(sent);
      }
    }
    return Status::OK();
  }

  Status Fill(std::string_view name, const Wait& wait, bool& eof) {
    while (true) {
      const ssize_t n = ::recv(socket_.get(), io_, sizeof io_, 0);
      if (n > 0) {
        if (BIO_write(in_, io_, static_cast<int>(n)) != n) {
          return UnavailableError(std::string(name) + ": out of memory");
        }
        return Status::OK();
      }
      if (n == 0) {
        eof = true;
        return UnavailableError(std::string(name) +
                                ": the server closed the connection");
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return UnavailableError(std::string(name) + ": recv: " +
                                std::strerror(errno));
      }
      BACKENDS_RETURN_IF_ERROR(PollFor(socket_.get(), POLLIN, wait, name));
    }
  }

  // Under TLS 1.3 a server refuses a client certificate after the
  // handshake, with an alert, and closes: our next write may fail with a
  // reset. The alert, when it arrived, says why; an error when it does.
  Status RefusalBeforeReset(std::string_view name) {
    char scratch[4096];
    ssize_t n;
    while ((n = ::recv(socket_.get(), scratch, sizeof scratch, MSG_DONTWAIT)) >
           0) {
      BIO_write(in_, scratch, static_cast<int>(n));
    }
    if (BIO_ctrl_pending(in_) == 0) return Status::OK();
    ERR_clear_error();
    std::size_t read = 0;
    const int result = SSL_read_ex(ssl_, scratch, sizeof scratch, &read);
    if (result > 0 || SSL_get_error(ssl_, result) != SSL_ERROR_SSL) {
      return Status::OK();
    }
    Status status = SslError(name);
    return status.code() == ErrorCode::kUnauthenticated ? status : Status::OK();
  }

  // An SSL call's failure, named: a server certificate we do not trust and
  // a client certificate the server refuses are kUnauthenticated.
  Status SslError(std::string_view name) {
    const int reason = ERR_GET_REASON(ERR_peek_error());
    const long verify = SSL_get_verify_result(ssl_);
    std::string errors = OpenSslErrors();
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK) {
      return UnauthenticatedError(
          std::string(name) + ": the server's certificate was refused: " +
          X509_verify_cert_error_string(verify) +
          " (cacert= names the CA that signed it)");
    }
    if (IsCertificateRefusal(reason)) {
      return UnauthenticatedError(
          std::string(name) + ": the server refused " +
          (has_certificate_ ? "our client certificate"
                            : "us without a client certificate (cert=, key=)") +
          ": " + errors);
    }
    return UnavailableError(std::string(name) + ": TLS: " + errors);
  }

  Socket socket_;
  SSL* const ssl_;
  BIO* in_;   // what the socket read, for OpenSSL
  BIO* out_;  // what OpenSSL wrote, for the socket
  redisReader* const reader_;
  const bool has_certificate_;
  const Wait each_;
  bool healthy_ = false;  // handshake done, no error since
  std::uint64_t bytes_sent_ = 0;
  char buffer_[16 * 1024];  // replies, for the reader
  char io_[16 * 1024 + 512];  // bytes between the socket and the BIOs
};

Result<std::unique_ptr<Connection>> ConnectTls(SSL_CTX* context,
                                               const RedisOptions& options) {
  const Wait wait{.deadline = Clock::now() + options.connect_timeout};
  BACKENDS_ASSIGN_OR_RETURN(Socket socket, ConnectTcp(options, wait));
  ERR_clear_error();
  SSL* ssl = SSL_new(context);
  if (ssl == nullptr) return UnavailableError("TLS: SSL_new: " + OpenSslErrors());
  auto connection =
      std::make_unique<TlsConnection>(std::move(socket), ssl, options);
  // The name the server's certificate must carry: the host we connect to.
  if (IsIpAddress(options.host)) {
    if (!options.tls_insecure &&
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
                                      options.host.c_str()) != 1) {
      return InternalError("TLS: set1_ip_asc: " + OpenSslErrors());
    }
  } else {
    if (SSL_set_tlsext_host_name(ssl, options.host.c_str()) != 1 ||
        (!options.tls_insecure &&
         SSL_set1_host(ssl, options.host.c_str()) != 1)) {
      return InternalError("TLS: host name \"" + options.host +
                           "\": " + OpenSslErrors());
    }
  }
  BACKENDS_RETURN_IF_ERROR(connection->Handshake(wait));
  return std::unique_ptr<Connection>(std::move(connection));
}

void FreeSslContext(ssl_ctx_st* context) { SSL_CTX_free(context); }

}  // namespace

Connector::Connector(const RedisOptions& options) : options_(options) {
  if (!options_.tls) return;
  ERR_clear_error();
  tls_ = {SSL_CTX_new(TLS_client_method()), FreeSslContext};
  if (tls_ == nullptr) {
    tls_status_ = InternalError("TLS: SSL_CTX_new: " + OpenSslErrors());
    return;
  }
  tls_status_ = LoadTls(tls_.get(), options_);
}

Connector::~Connector() = default;

Result<std::unique_ptr<Connection>> Connector::Connect() const {
  if (!options_.tls) return ConnectPlain(options_);
  BACKENDS_RETURN_IF_ERROR(tls_status_);
  return ConnectTls(tls_.get(), options_);
}

}  // namespace backends::redis

#pragma once

// A fault-injecting HTTP/1.1 proxy for the S3 tests: it listens on
// 127.0.0.1 (a free port), forwards every request to the real S3 server and
// its answer back, and, by schedule, breaks some exchanges instead:
//
//   FaultProxy proxy("127.0.0.1", 7480);
//   options.endpoint = proxy.endpoint();
//   proxy.Schedule({.fault = Fault::kStatus, .status = 503}, 3);  // next 3
//   proxy.Schedule({.fault = Fault::kResetAfterBytes, .bytes = 100,
//                   .method = "GET"});  // the next GET only
//
// Each request takes the first scheduled fault whose method filter matches
// it (empty: any method); requests that match none are forwarded intact.
// Faults (body offsets count bytes of the answer's body, after its head):
//   kStatus             answer `status` (500, 503, ...) with an S3 error
//                       document, without forwarding (nothing happens on
//                       the server); the connection stays open.
//   kResetBeforeForward read the request, then reset the connection (RST);
//                       the server never sees the request.
//   kResetDuringUpload  read `bytes` of the request body, then reset; the
//                       server never sees the request.
//   kResetAfterForward  forward (the server acts), then reset instead of
//                       answering: the answer is lost.
//   kResetAfterBytes    forward, send the answer's head and `bytes` bytes of
//                       its body, then reset.
//   kTruncate           like kResetAfterBytes but closes cleanly (FIN), so
//                       the body is shorter than its Content-Length.
//   kStall              forward, send the head and `bytes` body bytes, then
//                       send nothing more (until the client gives up or the
//                       proxy stops). With bytes == 0 not even the head is
//                       sent: curl's stall check averages over a few
//                       seconds, so any byte sent delays its verdict.
// The byte-counting faults never deliver the whole answer: an offset past
// the body's end stops one byte short, and an answer without a body is cut
// inside its status line (curl accepts a head cut between two header lines).
//
// One upstream connection per client connection, so keep-alive on the
// client side is kept on the server side; connections() counts the client
// connections accepted (to check connection reuse), bytes_from_client() and
// bytes_to_client() the bytes each way (heads and bodies). AfterAnswer(M, f)
// runs f once, after the server has answered the next M request and before
// the client gets the answer (to change the server's state at that point).
//
// Thread safety: Schedule/counters may be called while requests run.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "loopback.h"

namespace backends::testing {

enum class Fault {
  kStatus,
  kResetBeforeForward,
  kResetDuringUpload,
  kResetAfterForward,
  kResetAfterBytes,
  kTruncate,
  kStall,
};

struct FaultSpec {
  Fault fault = Fault::kStatus;
  int status = 503;       // kStatus
  std::size_t bytes = 0;  // body offset for the byte-counting faults
  std::string method{};   // only requests with this method; empty: any
};

class FaultProxy {
 public:
  FaultProxy(std::string upstream_host, int upstream_port)
      : upstream_host_(std::move(upstream_host)),
        upstream_port_(upstream_port) {
    listener_ = ListenOnLoopback(&port_);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  /// A proxy for the server at `endpoint` ("http://HOST:PORT").
  static std::unique_ptr<FaultProxy> ForEndpoint(const std::string& endpoint) {
    std::string rest = endpoint.substr(endpoint.find("//") + 2);
    auto colon = rest.rfind(':');
    int port = colon == std::string::npos
                   ? 80
                   : std::atoi(rest.substr(colon + 1).c_str());
    return std::make_unique<FaultProxy>(rest.substr(0, colon), port);
  }

  ~FaultProxy() {
    stop_ = true;
    acceptor_.join();
    std::vector<std::thread> workers;
    {
      std::scoped_lock lock(mutex_);
      workers.swap(workers_);
    }
    for (auto& worker : workers) worker.join();
    ::close(listener_);
  }

  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::string endpoint() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  /// Appends `spec` to the schedule `times` times.
  void Schedule(const FaultSpec& spec, int times = 1) {
    std::scoped_lock lock(mutex_);
    for (int i = 0; i < times; ++i) schedule_.push_back(spec);
  }
  void ClearSchedule() {
    std::scoped_lock lock(mutex_);
    schedule_.clear();
  }
  std::size_t scheduled() const {
    std::scoped_lock lock(mutex_);
    return schedule_.size();
  }

  int requests() const { return requests_; }
  /// Requests with this method ("GET", "PUT", ...) seen so far.
  int requests(const std::string& method) const {
    std::scoped_lock lock(mutex_);
    auto it = methods_.find(method);
    return it == methods_.end() ? 0 : it->second;
  }
  int faults() const { return faults_; }
  int connections() const { return connections_; }
  std::uint64_t bytes_from_client() const { return bytes_from_client_; }
  std::uint64_t bytes_to_client() const { return bytes_to_client_; }

  /// Runs `hook` (on the proxy's thread) once, when the server has answered
  /// the next request with `method`, before the answer goes on.
  void AfterAnswer(std::string method, std::function<void()> hook) {
    std::scoped_lock lock(mutex_);
    hook_method_ = std::move(method);
    hook_ = std::move(hook);
  }

 private:
  // ---- socket helpers ----
  static void Reset(int fd) {
    linger hard{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ::close(fd);
  }

  // Waits until `fd` is readable; false when the proxy stops first.
  bool WaitReadable(int fd) const {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      int n = ::poll(&p, 1, 50);
      if (n > 0) return true;
      if (n < 0) return false;
    }
    return false;
  }

  // Appends what `fd` has to `buffer`; false at EOF, error or stop.
  bool ReadSome(int fd, std::string& buffer) const {
    if (!WaitReadable(fd)) return false;
    char chunk[16384];
    auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  static bool WriteAll(int fd, std::string_view data) {
    while (!data.empty()) {
      auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  static std::string Lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(c));
    return s;
  }

  // The value of header `name` (lower case) in an HTTP head, or nullopt.
  static std::optional<std::string> Header(const std::string& head,
                                           const std::string& name) {
    std::string lower = Lower(head);
    auto at = lower.find("\r\n" + name + ":");
    if (at == std::string::npos) return std::nullopt;
    auto start = at + 3 + name.size();
    auto end = head.find("\r\n", start);
    std::string value = head.substr(start, end - start);
    value.erase(0, value.find_first_not_of(' '));
    return value;
  }

  // Reads one HTTP message head (through "\r\n\r\n") from `fd` into
  // `head`, leaving any following bytes in `buffer`.
  bool ReadHead(int fd, std::string& buffer, std::string& head) const {
    std::size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadSome(fd, buffer)) return false;
    }
    head = buffer.substr(0, end + 4);
    buffer.erase(0, end + 4);
    return true;
  }

  bool ReadExactly(int fd, std::string& buffer, std::size_t n,
                   std::string& out) const {
    while (buffer.size() < n) {
      if (!ReadSome(fd, buffer)) return false;
    }
    out = buffer.substr(0, n);
    buffer.erase(0, n);
    return true;
  }

  // Reads a chunked body, raw (chunk framing kept), into `out`.
  bool ReadChunked(int fd, std::string& buffer, std::string& out) const {
    while (true) {
      std::size_t line_end;
      while ((line_end = buffer.find("\r\n")) == std::string::npos) {
        if (!ReadSome(fd, buffer)) return false;
      }
      std::size_t size = std::strtoul(buffer.c_str(), nullptr, 16);
      std::string piece;
      if (!ReadExactly(fd, buffer, line_end + 2 + size + 2, piece)) {
        return false;
      }
      out += piece;
      if (size == 0) return true;  // (no trailers from S3 servers)
    }
  }

  int ConnectUpstream() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    ::inet_pton(AF_INET, upstream_host_.c_str(), &address.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) !=
        0) {
      ::close(fd);
      return -1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
  }

  // The next scheduled fault for `method`, if any.
  std::optional<FaultSpec> TakeFault(const std::string& method) {
    std::scoped_lock lock(mutex_);
    for (auto it = schedule_.begin(); it != schedule_.end(); ++it) {
      if (it->method.empty() || it->method == method) {
        FaultSpec spec = *it;
        schedule_.erase(it);
        return spec;
      }
    }
    return std::nullopt;
  }

  void AcceptLoop() {
    while (WaitReadable(listener_)) {
      int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      ++connections_;
      std::scoped_lock lock(mutex_);
      workers_.emplace_back([this, client] { Serve(client); });
    }
  }

  // Forwards the exchanges of one client connection.
  void Serve(int client) {
    int upstream = -1;
    std::string from_client, from_upstream;
    bool open = true;
    while (open && !stop_) {
      std::string head, body;
      if (!ReadHead(client, from_client, head)) break;
      ++requests_;
      const std::string method = head.substr(0, head.find(' '));
      {
        std::scoped_lock lock(mutex_);
        ++methods_[method];
      }
      const std::size_t length = std::strtoul(
          Header(head, "content-length").value_or("0").c_str(), nullptr, 10);
      auto fault = TakeFault(method);
      if (fault) ++faults_;
      if (fault && fault->fault == Fault::kResetDuringUpload) {
        std::string part;
        ReadExactly(client, from_client, std::min(fault->bytes, length), part);
        Reset(client);
        client = -1;
        break;
      }
      if (!ReadExactly(client, from_client, length, body)) break;
      bytes_from_client_ += head.size() + body.size();
      if (fault && fault->fault == Fault::kStatus) {
        std::string xml =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" +
            std::string(fault->status == 503 ? "SlowDown" : "InternalError") +
            "</Code><Message>injected by the fault proxy</Message></Error>";
        std::string answer = "HTTP/1.1 " + std::to_string(fault->status) +
                             " Injected\r\nContent-Type: application/xml\r\n"
                             "Content-Length: " +
                             std::to_string(method == "HEAD" ? 0 : xml.size()) +
                             "\r\n\r\n" + (method == "HEAD" ? "" : xml);
        if (!WriteAll(client, answer)) break;
        continue;
      }
      if (fault && fault->fault == Fault::kResetBeforeForward) {
        Reset(client);
        client = -1;
        break;
      }
      // Forward the request and read the whole answer.
      if (upstream < 0) upstream = ConnectUpstream();
      if (upstream < 0 || !WriteAll(upstream, head + body)) break;
      std::string answer_head, answer_body;
      if (!ReadHead(upstream, from_upstream, answer_head)) break;
      const int status = std::atoi(answer_head.c_str() + 9);
      const auto answer_length = Header(answer_head, "content-length");
      if (method == "HEAD" || status == 204 || status == 304) {
        // no body
      } else if (answer_length) {
        if (!ReadExactly(upstream, from_upstream,
                         std::strtoul(answer_length->c_str(), nullptr, 10),
                         answer_body)) {
          break;
        }
      } else if (Lower(Header(answer_head, "transfer-encoding").value_or("")) ==
                 "chunked") {
        if (!ReadChunked(upstream, from_upstream, answer_body)) break;
      } else {
        while (ReadSome(upstream, from_upstream)) {
        }
        answer_body.swap(from_upstream);
        open = false;
      }
      std::function<void()> hook;
      {
        std::scoped_lock lock(mutex_);
        if (hook_ && hook_method_ == method) hook.swap(hook_);
      }
      if (hook) hook();
      if (!fault) {
        bytes_to_client_ += answer_head.size() + answer_body.size();
        if (!WriteAll(client, answer_head + answer_body)) break;
        continue;
      }
      // Never the whole answer: an empty body is cut inside the head.
      const std::string partial =
          answer_body.empty()
              ? answer_head.substr(0, 10)  // "HTTP/1.1 2"
              : answer_head +
                    answer_body.substr(
                        0, std::min(fault->bytes, answer_body.size() - 1));
      switch (fault->fault) {
        case Fault::kResetAfterForward:
          Reset(client);
          break;
        case Fault::kResetAfterBytes:
          WriteAll(client, partial);
          Reset(client);
          break;
        case Fault::kTruncate:
          WriteAll(client, partial);
          ::shutdown(client, SHUT_RDWR);
          ::close(client);
          break;
        case Fault::kStall: {
          if (fault->bytes > 0) WriteAll(client, partial);
          // Hold the connection, silent, until the client closes it.
          std::string ignored;
          while (ReadSome(client, ignored)) {
          }
          ::close(client);
          break;
        }
        default:
          break;
      }
      client = -1;
      break;
    }
    if (client >= 0) ::close(client);
    if (upstream >= 0) ::close(upstream);
  }

  const std::string upstream_host_;
  const int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::atomic<std::uint64_t> bytes_from_client_{0}, bytes_to_client_{0};
  std::atomic<int> faults_{0};
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  // Guarded by mutex_.
  std::deque<FaultSpec> schedule_;
  std::map<std::string, int> methods_;  // Requests by method.
  std::string hook_method_;
  std::function<void()> hook_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace backends::testing

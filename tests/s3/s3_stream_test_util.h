#pragma once

// What the streaming tests share: generated content (deterministic, not
// compressible, cheap), a raw S3 client for requests the store does not
// make (ListMultipartUploads), and CutProxy, a TCP proxy on 127.0.0.1 in
// front of the real server that cuts one GET answer mid-body.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backends/s3.h"
#include "loopback.h"
#include "s3/credentials.h"
#include "s3/s3_client.h"
#include "s3_test_env.h"

namespace backends::testing {

/// `size` bytes of a xorshift stream seeded by `seed`, from `offset`
/// (offset must be a multiple of 8).
inline std::string Generated(std::uint64_t seed, std::uint64_t offset,
                             std::size_t size) {
  std::string out(size, '\0');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + offset / 8 + 1;
  for (std::size_t i = 0; i < size; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::uint64_t v = x + offset + i;
    for (std::size_t j = 0; j < 8 && i + j < size; ++j) {
      out[i + j] = static_cast<char>(v >> (8 * j));
    }
  }
  return out;
}

/// A client on the test server with the environment's credentials.
inline std::unique_ptr<s3::S3Client> RawClient() {
  auto provider = s3::MakeCredentialsProvider(s3::CredentialsOptions{});
  if (!provider.ok()) return nullptr;
  std::shared_ptr<s3::CredentialsProvider> shared = std::move(*provider);
  std::string endpoint = EnvOr("S3_ENDPOINT");
  s3::S3Endpoint where{.scheme = "http",
                       .authority = endpoint.substr(endpoint.find("//") + 2),
                       .bucket = EnvOr("S3_BUCKET"),
                       .region = EnvOr("AWS_DEFAULT_REGION"),
                       .path_style = true};
  return std::make_unique<s3::S3Client>(
      where, [shared] { return shared->GetCredentials(); },
      s3::NewCurlTransport({}), DefaultClock());
}

/// How many multipart uploads are in progress under `prefix` (-1 when the
/// listing fails).
inline int MultipartUploadsUnder(const std::string& prefix) {
  auto client = RawClient();
  if (!client) return -1;
  s3::S3Client::Request request{.method = "GET"};
  request.query = {{"prefix", prefix}, {"uploads", ""}};
  auto response = client->Send(request, "list uploads");
  if (!response.ok() || response->status != 200) return -1;
  int count = 0;
  for (auto at = response->body.find("<Upload>"); at != std::string::npos;
       at = response->body.find("<Upload>", at + 1)) {
    ++count;
  }
  return count;
}

/// A TCP proxy on 127.0.0.1 in front of the S3 server. Requests pass
/// through unchanged (the signature covers the proxy's host:port, which is
/// what the server sees). When armed with CutNextGet(n), the next answer
/// to a GET is cut after n body bytes: `on_cut` runs first (while the
/// client waits), then both connections are closed.
class CutProxy {
 public:
  explicit CutProxy(std::string upstream_endpoint) {
    auto hostport = upstream_endpoint.substr(upstream_endpoint.find("//") + 2);
    upstream_port_ = std::stoi(hostport.substr(hostport.find(':') + 1));
    listener_ = ListenOnLoopback(&port_);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~CutProxy() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::scoped_lock lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  std::string endpoint() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }
  void CutNextGet(std::uint64_t body_bytes,
                  std::function<void()> on_cut = nullptr) {
    std::scoped_lock lock(mutex_);
    on_cut_ = std::move(on_cut);
    cut_after_ = static_cast<std::int64_t>(body_bytes);
  }
  int cuts() const { return cuts_.load(); }
  /// The request heads (request line and headers) seen, in order.
  std::vector<std::string> requests() {
    std::scoped_lock lock(mutex_);
    return requests_;
  }

 private:
  void Accept() {
    for (;;) {
      int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      std::scoped_lock lock(mutex_);
      threads_.emplace_back([this, client] { Serve(client); });
    }
  }

  void Serve(int client) {
    int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(upstream_port_));
    if (::connect(upstream, reinterpret_cast<sockaddr*>(&address),
                  sizeof address) != 0) {
      ::close(upstream);
      ::close(client);
      return;
    }
    std::string head;       // the request being read
    std::int64_t cut = -1;  // body bytes left before the cut, or -1
    bool in_head = false;   // reading an answer's head
    std::string answer_head;
    char buffer[65536];
    pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 2, 30'000) <= 0) break;
      if (fds[0].revents != 0) {
        auto n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        head.append(buffer, static_cast<std::size_t>(n));
        auto end = head.find("\r\n\r\n");
        if (end != std::string::npos) {
          std::scoped_lock lock(mutex_);
          requests_.push_back(head.substr(0, end));
          if (head.starts_with("GET ") && cut_after_ >= 0) {
            cut = cut_after_;
            cut_after_ = -1;
            in_head = true;
            answer_head.clear();
          }
          head.clear();  // bodies of PUTs are not inspected
        } else if (!head.starts_with("GET ") && !head.starts_with("HEAD ")) {
          head.clear();
        }
        if (!SendAll(upstream, buffer, static_cast<std::size_t>(n))) break;
      }
      if (fds[1].revents != 0) {
        auto n = ::recv(upstream, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        std::size_t pass = static_cast<std::size_t>(n);
        if (cut >= 0) {
          std::size_t body_from = 0;
          if (in_head) {
            std::size_t before = answer_head.size();
            answer_head.append(buffer, pass);
            auto end = answer_head.find("\r\n\r\n");
            if (end == std::string::npos) {
              body_from = pass;
            } else {
              in_head = false;
              body_from = end + 4 - before;
            }
          }
          if (!in_head && pass - body_from >= static_cast<std::size_t>(cut)) {
            pass = body_from + static_cast<std::size_t>(cut);
            SendAll(client, buffer, pass);
            std::function<void()> on_cut;
            {
              std::scoped_lock lock(mutex_);
              on_cut = std::move(on_cut_);
            }
            if (on_cut) on_cut();
            ++cuts_;
            break;
          }
          if (!in_head) cut -= static_cast<std::int64_t>(pass - body_from);
        }
        if (!SendAll(client, buffer, pass)) break;
      }
    }
    ::close(upstream);
    ::close(client);
  }

  static bool SendAll(int fd, const char* data, std::size_t size) {
    while (size > 0) {
      auto n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return true;
  }

  int listener_ = -1;
  int port_ = 0;
  int upstream_port_ = 0;
  std::thread acceptor_;
  std::atomic<int> cuts_{0};
  std::mutex mutex_;
  // Guarded by mutex_.
  std::vector<std::thread> threads_;
  std::vector<std::string> requests_;
  std::int64_t cut_after_ = -1;
  std::function<void()> on_cut_;
};

}  // namespace backends::testing

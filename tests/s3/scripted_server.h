#pragma once

// A tiny HTTP/1.1 server on 127.0.0.1 (a free port) that plays a misbehaving
// S3 server: each request's head goes to `respond`, which writes whatever it
// likes to the socket, as slowly as it likes (a slowloris dribbles a few
// bytes a second), and returns whether to keep the connection open.
//
//   ScriptedServer server([](int fd, const std::string& head,
//                            const std::atomic<bool>& stopping) {
//     return SendSlowly(fd, "HTTP/1.1 200 OK\r\n", milliseconds(50),
//                       stopping);
//   });
//   options.endpoint = server.endpoint();
//
// Stopping the server (destructor) ends every respond in time: SendSlowly
// checks `stopping` between bytes, and open sockets are shut down.
//
// Thread safety: requests() may be read while requests run.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "loopback.h"
namespace backends::testing {

/// Sends all of `text`; false if the peer is gone.
inline bool SendAll(int fd, std::string_view text) {
  while (!text.empty()) {
    auto n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// Sends `text` one byte every `interval`; false if the peer is gone or the
/// server is stopping.
inline bool SendSlowly(int fd, std::string_view text,
                       std::chrono::milliseconds interval,
                       const std::atomic<bool>& stopping) {
  for (char c : text) {
    if (stopping || !SendAll(fd, std::string_view(&c, 1))) return false;
    std::this_thread::sleep_for(interval);
  }
  return true;
}

/// The value of query parameter `name` in the request line of `head`
/// (undecoded), or "" if absent.
inline std::string QueryParam(const std::string& head, std::string_view name) {
  const std::string line = head.substr(0, head.find("\r\n"));
  const std::string key = std::string(name) + "=";
  for (std::size_t at = line.find(key); at != std::string::npos;
       at = line.find(key, at + 1)) {
    if (at > 0 && line[at - 1] != '?' && line[at - 1] != '&') continue;
    const std::size_t begin = at + key.size();
    return line.substr(begin, line.find_first_of("& ", begin) - begin);
  }
  return "";
}

class ScriptedServer {
 public:
  using Respond = std::function<bool(int fd, const std::string& head,
                                     const std::atomic<bool>& stopping)>;

  explicit ScriptedServer(Respond respond) : respond_(std::move(respond)) {
    listener_ = ListenOnLoopback(&port_);
    acceptor_ = std::thread([this] { Accept(); });
  }

  ~ScriptedServer() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    {
      std::scoped_lock lock(mutex_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& connection : connections_) connection.join();
    ::close(listener_);
  }

  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  std::string endpoint() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }
  int requests() const { return requests_; }

 private:
  void Accept() {
    for (;;) {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      if (stopping_) {
        ::close(fd);
        return;
      }
      {
        std::scoped_lock lock(mutex_);
        open_.insert(fd);
      }
      connections_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  void Serve(int fd) {
    std::string buffer;
    char chunk[4096];
    while (!stopping_) {
      const auto end = buffer.find("\r\n\r\n");
      if (end == std::string::npos) {
        auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        buffer.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      // The tests send GETs only: a request is its head.
      const std::string head = buffer.substr(0, end + 4);
      buffer.erase(0, end + 4);
      ++requests_;
      if (!respond_(fd, head, stopping_)) break;
    }
    {
      std::scoped_lock lock(mutex_);
      open_.erase(fd);
    }
    ::close(fd);
  }

  const Respond respond_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // touched by the acceptor only
  std::mutex mutex_;
  std::set<int> open_;  // guarded by mutex_
};

}  // namespace backends::testing

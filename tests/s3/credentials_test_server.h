#pragma once

// A tiny HTTP/1.1 server on 127.0.0.1 for the credential-source tests: one
// thread, one request per connection (Connection: close), answers from a
// handler, and records every request it saw.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace backends::testing {

class LocalHttpServer {
 public:
  struct Request {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string header(const std::string& name) const {
      auto it = headers.find(name);
      return it == headers.end() ? std::string() : it->second;
    }
  };
  struct Response {
    int status = 200;
    std::string body;
  };
  using Handler = std::function<Response(const Request&)>;

  explicit LocalHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(listen_fd_, 16);
    socklen_t length = sizeof(address);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    if (pipe(wake_) != 0) wake_[0] = wake_[1] = -1;
    thread_ = std::thread([this] { Serve(); });
  }

  ~LocalHttpServer() {
    char byte = 0;
    if (write(wake_[1], &byte, 1) < 0) {
      // The thread still stops when the listening socket closes below.
    }
    thread_.join();
    close(listen_fd_);
    close(wake_[0]);
    close(wake_[1]);
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  std::vector<Request> requests() const {
    std::scoped_lock lock(mutex_);
    return requests_;
  }

  void set_handler(Handler handler) {
    std::scoped_lock lock(mutex_);
    handler_ = std::move(handler);
  }

  /// A loopback URL where nothing listens (for "no answer" tests).
  static std::string UnusedUrl() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    close(fd);  // bound, never listened: connections are refused
    return "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  }

 private:
  void Serve() {
    while (true) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents != 0) return;
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      HandleConnection(client);
      close(client);
    }
  }

  void HandleConnection(int client) {
    std::string data;
    char buffer[4096];
    std::size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
      ssize_t n = read(client, buffer, sizeof(buffer));
      if (n <= 0) return;
      data.append(buffer, static_cast<std::size_t>(n));
      header_end = data.find("\r\n\r\n");
    }
    Request request;
    std::size_t line_end = data.find("\r\n");
    const std::string line = data.substr(0, line_end);
    const std::size_t space1 = line.find(' ');
    const std::size_t space2 = line.find(' ', space1 + 1);
    request.method = line.substr(0, space1);
    request.path = line.substr(space1 + 1, space2 - space1 - 1);
    std::size_t pos = line_end + 2;
    while (pos < header_end) {
      std::size_t end = data.find("\r\n", pos);
      const std::string header = data.substr(pos, end - pos);
      pos = end + 2;
      const std::size_t colon = header.find(':');
      std::string name = header.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      std::string value = header.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      request.headers[name] = value;
    }
    const std::size_t length =
        request.headers.count("content-length")
            ? std::stoul(request.headers["content-length"])
            : 0;
    request.body = data.substr(header_end + 4);
    while (request.body.size() < length) {
      ssize_t n = read(client, buffer, sizeof(buffer));
      if (n <= 0) break;
      request.body.append(buffer, static_cast<std::size_t>(n));
    }
    Handler handler;
    {
      std::scoped_lock lock(mutex_);
      requests_.push_back(request);
      handler = handler_;
    }
    const Response response = handler(request);
    const std::string out =
        "HTTP/1.1 " + std::to_string(response.status) +
        " X\r\nContent-Length: " + std::to_string(response.body.size()) +
        "\r\nConnection: close\r\n\r\n" + response.body;
    std::size_t sent = 0;
    while (sent < out.size()) {
      ssize_t n = write(client, out.data() + sent, out.size() - sent);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
  }

  mutable std::mutex mutex_;
  Handler handler_;                // guarded by mutex_
  std::vector<Request> requests_;  // guarded by mutex_
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::thread thread_;
};

}  // namespace backends::testing

#pragma once

// The listening socket every test server here starts with.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace backends::testing {

/// A socket listening on 127.0.0.1 at a free port, stored in `*port`.
inline int ListenOnLoopback(int* port, int backlog = 64) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::listen(fd, backlog);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  *port = ntohs(address.sin_port);
  return fd;
}

}  // namespace backends::testing

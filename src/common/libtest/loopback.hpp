// Loopback sockets for tests and benchmarks: 127.0.0.1 addresses, and sockets bound there on a
// port the kernel picks (never a fixed port).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace cairn::test {

// 127.0.0.1:port.
inline sockaddr_in loopback_addr(int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(static_cast<uint16_t>(port));
  return sa;
}

// A socket of `type` (SOCK_DGRAM, SOCK_STREAM) bound to 127.0.0.1 on a free port; its address
// goes to *addr. Returns the fd, or -1 with errno set.
inline int bind_loopback(int type, sockaddr_in* addr) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in sa = loopback_addr(0);
  socklen_t len = sizeof sa;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) < 0) {
    ::close(fd);
    return -1;
  }
  *addr = sa;
  return fd;
}

// A port that was free a moment ago (bound, read, closed), or 0 on error. A server given it may
// still lose a race for it: callers retry with a new port when the server fails to bind.
inline int free_loopback_port(int type) {
  sockaddr_in sa{};
  int fd = bind_loopback(type, &sa);
  if (fd < 0) return 0;
  ::close(fd);
  return ntohs(sa.sin_port);
}

}  // namespace cairn::test

// Test helper: a UDP socket bound on 127.0.0.1 port 0 that receives what libstats sends, so
// tests assert the exact datagrams a statsd server would get.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cairn::stats::testing {

class UdpSink {
 public:
  UdpSink() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
      throw std::runtime_error("bind");
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    int size = 4 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  ~UdpSink() {
    if (fd_ >= 0) ::close(fd_);
  }
  UdpSink(const UdpSink&) = delete;
  UdpSink& operator=(const UdpSink&) = delete;

  int fd() const { return fd_; }
  int port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

  // The next datagram, waiting at most timeout_ms; nullopt if none came.
  std::optional<std::string> recv(int timeout_ms = 2000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }
  // Every datagram already queued (waits briefly for the first only if wait_ms > 0).
  std::vector<std::string> drain(int wait_ms = 0) {
    std::vector<std::string> out;
    auto first = recv(wait_ms);
    if (!first) return out;
    out.push_back(*first);
    while (auto more = recv(0)) out.push_back(*more);
    return out;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace cairn::stats::testing

// cairn::test::UdpSink: a UDP socket bound on 127.0.0.1 on a free port that receives what a
// statsd client (libstats, a jobtap plugin) sends, so tests assert the exact datagrams a statsd
// server would get. Invariants: bound from construction to destruction; recv() waits at most
// the time it is given.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "libtest/loopback.hpp"
#include "libutil/fd.hpp"

namespace cairn::test {

class UdpSink {
 public:
  // Throws std::runtime_error if the socket cannot be made or bound.
  UdpSink() {
    sockaddr_in sa{};
    fd_.reset(bind_loopback(SOCK_DGRAM, &sa));
    if (!fd_) throw std::runtime_error(std::string("udp sink: ") + std::strerror(errno));
    port_ = ntohs(sa.sin_port);
    // A deeper queue: a test may send a burst before it reads anything.
    int size = 4 << 20;
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  UdpSink(const UdpSink&) = delete;
  UdpSink& operator=(const UdpSink&) = delete;

  int fd() const { return fd_.get(); }
  int port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

  // The next datagram, waiting at most timeout_ms; nullopt if none came.
  std::optional<std::string> recv(int timeout_ms = 2000) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    char buf[65536];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
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
  util::UniqueFd fd_;
  int port_ = 0;
};

}  // namespace cairn::test

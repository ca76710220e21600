// The UDP side of libstats (see sender.hpp): endpoint resolution, the connected non-blocking
// socket, the packet builder and the self counters.
#include "libstats/sender.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "libstats/endpoint.hpp"

namespace cairn::stats {

namespace {

// The largest UDP payload over IPv4.
constexpr size_t kMaxDatagram = 65507;

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};

}  // namespace

Sender::Sender(Options opts)
    : max_packet_(std::clamp<size_t>(opts.max_packet, 1, kMaxDatagram)), log_(std::move(opts.log)) {
  if (opts.endpoint.empty()) return;
  if (open(opts.endpoint)) {
    endpoint_ = opts.endpoint;
    packet_ = std::make_unique<char[]>(max_packet_);
  }
}

Sender::~Sender() {
  if (fd_ >= 0) ::close(fd_);
}

bool Sender::open(const std::string& text) {
  const std::string hint =
      "; expected HOST:PORT or [IPv6]:PORT, e.g. 127.0.0.1:8125; telemetry is disabled";
  std::string why;
  auto ep = parse_endpoint(text, why);
  if (!ep) {
    log(3, "stats: parse error in endpoint \"" + text + "\": " + why + hint);
    return false;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(ep->port);
  int rc = getaddrinfo(ep->host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    log(3, "stats: parse error in endpoint \"" + text + "\": cannot resolve \"" + ep->host +
               "\": " + gai_strerror(rc) + hint);
    return false;
  }
  std::unique_ptr<addrinfo, AddrInfoDeleter> list(res);
  int last_errno = 0;
  for (addrinfo* ai = list.get(); ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                      ai->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      fd_ = fd;
      return true;
    }
    last_errno = errno;
    ::close(fd);
  }
  log(3, "stats: cannot use endpoint \"" + text + "\": " + std::strerror(last_errno) +
             "; telemetry is disabled");
  return false;
}

char* Sender::write(char* out, const Line& line) {
  auto put = [&out](std::string_view s) {
    std::memcpy(out, s.data(), s.size());
    out += s.size();
  };
  if (!line.prefix.empty()) {
    put(line.prefix);
    *out++ = '.';
  }
  put(line.name);
  *out++ = ':';
  put(line.value);
  *out++ = '|';
  put(line.type);
  *out++ = '\n';
  return out;
}

void Sender::add(const Line* lines, size_t n) {
  if (fd_ < 0) return;
  size_t need = 0;
  for (size_t i = 0; i < n; ++i) need += lines[i].size();
  if (need > max_packet_) {
    counters_.dropped_lines += n;
    return;
  }
  if (used_ + need > max_packet_) send_packet();
  char* out = packet_.get() + used_;
  for (size_t i = 0; i < n; ++i) out = write(out, lines[i]);
  used_ += need;
}

void Sender::send_packet() {
  if (used_ == 0) return;
  ssize_t rc = ::send(fd_, packet_.get(), used_, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (rc < 0) {
    ++counters_.send_errors;
  } else {
    ++counters_.packets;
    counters_.bytes += static_cast<uint64_t>(rc);
  }
  used_ = 0;
}

}  // namespace cairn::stats

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
// Bytes of packets batched into one sendmmsg().
constexpr size_t kBatchBytes = 64 * 1024;
constexpr size_t kMaxBatch = 64;

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};

}  // namespace

Sender::Sender(Options opts)
    : max_packet_(std::clamp<size_t>(opts.max_packet, 1, kMaxDatagram)), log_(std::move(opts.log)) {
  if (opts.endpoint.empty()) return;
  if (open(opts.endpoint)) {
    endpoint_ = opts.endpoint;
    batch_ = std::clamp<size_t>(kBatchBytes / max_packet_, 1, kMaxBatch);
    buffer_ = std::make_unique<char[]>(batch_ * max_packet_);
    sizes_ = std::make_unique<size_t[]>(batch_);
  }
}

bool Sender::open(const std::string& text) {
  const std::string hint =
      "; expected HOST:PORT or [IPv6]:PORT, e.g. 127.0.0.1:8125; telemetry is disabled";
  auto ep = parse_endpoint(text);
  if (!ep) {
    log(3, "stats: parse error in endpoint \"" + text + "\": " + ep.error().text + hint);
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
    util::UniqueFd fd(
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (fd.get() < 0) {
      last_errno = errno;
      continue;
    }
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
      fd_ = std::move(fd);
      return true;
    }
    last_errno = errno;
  }
  log(3, "stats: cannot use endpoint \"" + text + "\": " + std::strerror(last_errno) +
             "; telemetry is disabled");
  return false;
}

namespace {

// memcpy for the short strings of a line, without a library call: fixed-size copies inline.
inline void copy_short(char* dst, const char* src, size_t n) {
  if (n >= 8) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) std::memcpy(dst + i, src + i, 8);
    if (i < n) std::memcpy(dst + n - 8, src + n - 8, 8);
  } else if (n >= 4) {
    std::memcpy(dst, src, 4);
    std::memcpy(dst + n - 4, src + n - 4, 4);
  } else if (n > 0) {
    dst[0] = src[0];
    dst[n / 2] = src[n / 2];
    dst[n - 1] = src[n - 1];
  }
}

}  // namespace

char* Sender::write(char* out, const Line& line) {
  for (std::string_view part : {line.head, line.value, line.suffix}) {
    copy_short(out, part.data(), part.size());
    out += part.size();
  }
  return out;
}

void Sender::add(const Line* lines, size_t n) {
  if (!enabled()) return;
  size_t need = 0;
  for (size_t i = 0; i < n; ++i) need += lines[i].size();
  if (need > max_packet_) {
    counters_.dropped_lines += n;
    return;
  }
  if (used_ + need > max_packet_) close_packet();
  char* out = packet(closed_) + used_;
  for (size_t i = 0; i < n; ++i) out = write(out, lines[i]);
  used_ += need;
}

void Sender::add_int_line_slow(std::string_view head, int64_t value, bool plus,
                               std::string_view suffix) {
  char text[kMaxIntText];
  char* end = write_int(text, value, plus);
  Line line{head, {text, static_cast<size_t>(end - text)}, suffix};
  add(&line, 1);
}

void Sender::close_packet() {
  sizes_[closed_++] = used_;
  used_ = 0;
  if (closed_ == batch_) send_batch();
}

void Sender::send_packet() {
  if (!enabled()) return;
  if (used_ > 0) close_packet();
  send_batch();
}

void Sender::send_batch() {
  if (closed_ == 1) {
    // The common case of immediate mode: a plain send() is cheaper than sendmmsg().
    ssize_t rc = ::send(fd_.get(), packet(0), sizes_[0], MSG_DONTWAIT | MSG_NOSIGNAL);
    if (rc < 0) {
      ++counters_.send_errors;
    } else {
      ++counters_.packets;
      counters_.bytes += static_cast<uint64_t>(rc);
    }
  } else if (closed_ > 1) {
    iovec iov[kMaxBatch];
    mmsghdr msgs[kMaxBatch] = {};
    for (size_t i = 0; i < closed_; ++i) {
      iov[i] = {packet(i), sizes_[i]};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    // A failed datagram is counted and skipped; each round sends or skips at least one, so
    // this ends after at most closed_ calls.
    for (size_t i = 0; i < closed_;) {
      int rc = ::sendmmsg(fd_.get(), msgs + i, static_cast<unsigned>(closed_ - i),
                          MSG_DONTWAIT | MSG_NOSIGNAL);
      if (rc <= 0) {
        ++counters_.send_errors;
        ++i;
        continue;
      }
      for (int k = 0; k < rc; ++k, ++i) {
        ++counters_.packets;
        counters_.bytes += msgs[i].msg_len;
      }
    }
  }
  closed_ = 0;
}

}  // namespace cairn::stats

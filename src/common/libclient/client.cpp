// cairn::client::Client: connection set-up (URI, CURVE from the environment), the two
// transports, and the request/response matching and batching described in client.hpp.
// Invariants: a tag is in in_flight_ from send() until its last response is received (or rpc()
// gives up on it); queued_ holds the requests sent since the last flush, queued_tags_ their
// tags; ready_ holds responses already received, and settled, but not yet handed to the caller.
#include "libclient/client.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "libmsg/curve_cert.hpp"
#include "libmsg/stream.hpp"
#include "libmsg/zmq_handle.hpp"
#include "libmsg/zmq_io.hpp"
#include "libutil/fd.hpp"

namespace cairn::client {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr double kDefaultTimeoutSeconds = 60.0;

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v && *v) ? v : nullptr;
}

std::string seconds_text(milliseconds t) {
  double s = static_cast<double>(t.count()) / 1000.0;
  return fmt::format("{:g}", s);
}

// A failure to connect, reported as `cairn: <what>: <why>`.
util::Error connect_error(int errnum, std::string_view what, std::string_view why) {
  return util::Error{errnum, fmt::format("{}: {}", what, why)};
}

// CURVE setup for tcp://: the client's own key pair and the broker's public key.
util::Status setup_curve(void* sock) {
  const char* cert_path = env("CAIRN_CLIENT_CERT");
  if (!cert_path) {
    return connect_error(EINVAL, "CAIRN_CLIENT_CERT is not set",
                         "a tcp:// URI needs CURVE: set it to the secret certificate file "
                         "(PATH_secret) written by `cairn keygen PATH`");
  }
  const char* server_key = env("CAIRN_SERVER_KEY");
  if (!server_key) {
    return connect_error(EINVAL, "CAIRN_SERVER_KEY is not set",
                         "a tcp:// URI needs the broker's public key: set it to the 40-character "
                         "Z85 key `cairn keygen` printed for the broker's certificate");
  }
  uint8_t server_bin[32];
  if (std::strlen(server_key) != 40 || !zmq_z85_decode(server_bin, server_key)) {
    return connect_error(
        EINVAL, "CAIRN_SERVER_KEY",
        fmt::format("'{}' is not a 40-character Z85 public key (as printed by `cairn keygen`)",
                    server_key));
  }
  auto cert = msg::load_curve_cert(cert_path);
  if (!cert) {
    return connect_error(
        cert.error().errnum, "CAIRN_CLIENT_CERT",
        fmt::format("cannot load a certificate from '{}': {} (write one with `cairn keygen`)",
                    cert_path, cert.error().text));
  }
  if (!cert->has_secret) {
    return connect_error(EINVAL, "CAIRN_CLIENT_CERT",
                         fmt::format("'{}' holds no secret key: use the PATH_secret file `cairn "
                                     "keygen PATH` wrote",
                                     cert_path));
  }
  int rc = 0;
  rc |= zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, cert->public_key.data(), 32);
  rc |= zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, cert->secret_key.data(), 32);
  rc |= zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_bin, 32);
  int setsockopt_errno = rc != 0 ? zmq_errno() : 0;
  if (rc != 0) {
    return connect_error(
        setsockopt_errno, "CURVE",
        fmt::format("cannot set up the socket: {}", zmq_strerror(setsockopt_errno)));
  }
  return {};
}

}  // namespace

std::string Response::error_text() const {
  if (errnum == 0) return {};
  if (!payload.empty()) return payload;
  return std::strerror(errnum);
}

util::Result<milliseconds> timeout_from_env() {
  const char* v = env("CAIRN_RPC_TIMEOUT");
  if (!v) return milliseconds(static_cast<int64_t>(kDefaultTimeoutSeconds * 1000));
  char* end = nullptr;
  errno = 0;
  double s = std::strtod(v, &end);
  if (errno != 0 || end == v || *end != '\0' || !std::isfinite(s) || s <= 0 || s > 1e7) {
    return util::Error{EINVAL, fmt::format("'{}' is not a positive number of seconds", v)};
  }
  return milliseconds(std::max<int64_t>(1, static_cast<int64_t>(std::llround(s * 1000))));
}

// Moves batches between a Client and its broker. send_* never waits past `wait_ms` (-1:
// forever); receive() waits up to `wait_ms` for at least one message and passes each response
// in it to `sink`. Failures carry the errno and "<what>: <why>".
class Transport {
 public:
  using Sink = std::function<void(msg::Message&)>;
  virtual ~Transport() = default;
  // Sends one batch frame whole (its buffer may be taken).
  virtual util::Status send_batch(std::string& frame, int wait_ms, const Sink& sink) = 0;
  // Sends one request by itself, at once (a batch limit of 1).
  virtual util::Status send_one(const msg::Message& fields, std::string_view topic,
                                std::string_view payload, int wait_ms, const Sink& sink) = 0;
  // ETIMEDOUT when nothing came within `wait_ms`.
  virtual util::Status receive(int wait_ms, const Sink& sink) = 0;
  virtual int pollfd() const = 0;
  // Bytes or a message wait to be received (a receive of 0 ms would find them).
  virtual bool readable() = 0;
};

namespace {

util::Error timed_out() { return util::Error{ETIMEDOUT, "no response within the timeout"}; }

// Milliseconds left until `deadline` (-1 stays -1: no deadline).
int left_ms(int wait_ms, Clock::time_point deadline) {
  if (wait_ms < 0) return -1;
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT32_MAX));
}

Clock::time_point deadline_of(int wait_ms) {
  return Clock::now() + milliseconds(wait_ms < 0 ? 0 : wait_ms);
}

// Passes every response of one received batch frame to `sink`; a malformed one is dropped.
void deliver_batch(std::string_view frame, msg::Message& decoded, const Transport::Sink& sink) {
  auto batch = msg::BatchReader::open(frame);
  if (!batch) return;
  while (!batch->done())
    if (batch->next(decoded)) sink(decoded);
}

// local://: a Unix stream socket, frames behind a length prefix (libmsg/stream.hpp). The socket
// stays blocking for reads, which then wait in one system call (SO_RCVTIMEO bounds them);
// writes never block (MSG_DONTWAIT), and while one waits for room, replies are read and kept.
class StreamTransport final : public Transport {
 public:
  explicit StreamTransport(util::UniqueFd fd)
      : fd_(std::move(fd)), decoder_(msg::kMaxStreamFrame), buffer_(new char[kReadBytes]) {}

  util::Status send_batch(std::string& frame, int wait_ms, const Sink& sink) override {
    if (!broken_.text.empty()) return broken_;
    char prefix[msg::kStreamPrefixBytes];
    msg::encode_stream_prefix(static_cast<uint32_t>(frame.size()), prefix);
    iovec iov[2] = {{prefix, sizeof prefix}, {frame.data(), frame.size()}};
    return write_all(iov, 2, wait_ms, sink);
  }

  util::Status send_one(const msg::Message& fields, std::string_view topic,
                        std::string_view payload, int wait_ms, const Sink& sink) override {
    single_.clear();
    single_.add(fields, topic, payload);
    return send_batch(single_.frame(), wait_ms, sink);
  }

  util::Status receive(int wait_ms, const Sink& sink) override {
    if (!broken_.text.empty()) return broken_;
    const auto deadline = deadline_of(wait_ms);
    for (;;) {
      int flags = 0;
      int wait = left_ms(wait_ms, deadline);
      if (wait == 0) {
        flags = MSG_DONTWAIT;
      } else if (wait != rcvtimeo_ms_) {
        timeval tv{};  // zero: wait for ever
        if (wait > 0) {
          tv.tv_sec = wait / 1000;
          tv.tv_usec = (wait % 1000) * 1000;
        }
        setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        rcvtimeo_ms_ = wait;
      }
      size_t got = 0;
      util::Status st = read_once(flags, sink, got);
      if (!st) return st;
      if (got > 0) return {};
      if (left_ms(wait_ms, deadline) == 0) return timed_out();
    }
  }

  int pollfd() const override { return fd_.get(); }

  bool readable() override {
    struct pollfd p {
      fd_.get(), POLLIN, 0
    };
    return poll(&p, 1, 0) > 0;
  }

 private:
  static constexpr size_t kReadBytes = 256 * 1024;

  // One read; `got` counts the messages it completed. EAGAIN is not a failure.
  util::Status read_once(int flags, const Sink& sink, size_t& got) {
    ssize_t n = ::recv(fd_.get(), buffer_.get(), kReadBytes, flags);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {};
      int err = errno;
      return util::Error{err, fmt::format("receive: {}", std::strerror(err))};
    }
    if (n == 0)
      return util::Error{ECONNRESET,
                         "receive: the broker closed the connection (did it stop? see its log)"};
    util::Status st = decoder_.feed(std::string_view(buffer_.get(), static_cast<size_t>(n)),
                                    [&](std::string_view frame) {
                                      deliver_batch(frame, decoded_, [&](msg::Message& m) {
                                        ++got;
                                        sink(m);
                                      });
                                      return true;
                                    });
    if (!st) return util::Error{EPROTO, "receive: " + st.error().text};
    return {};
  }

  // Writes the iovecs whole. A failure after part of them went leaves the stream cut in the
  // middle of a frame: the connection is then broken for good, and says so on every later call.
  util::Status write_all(iovec* iov, int count, int wait_ms, const Sink& sink) {
    bool partial = false;
    util::Status st = write_iov(iov, count, wait_ms, sink, partial);
    if (!st && partial)
      broken_ = util::Error{st.error().errnum,
                            st.error().text + " (part of a request was sent: reconnect)"};
    return st;
  }

  util::Status write_iov(iovec* iov, int count, int wait_ms, const Sink& sink, bool& partial) {
    const auto deadline = deadline_of(wait_ms);
    msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = static_cast<size_t>(count);
    while (mh.msg_iovlen > 0) {
      ssize_t n = sendmsg(fd_.get(), &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        int err = errno;
        if (err == EINTR) continue;
        if (err != EAGAIN && err != EWOULDBLOCK)
          return util::Error{err, fmt::format("send: {}", std::strerror(err))};
        // No room: wait for it, reading replies meanwhile so the broker can go on writing.
        struct pollfd p {
          fd_.get(), POLLIN | POLLOUT, 0
        };
        int rc = poll(&p, 1, left_ms(wait_ms, deadline));
        if (rc == 0) return util::Error{ETIMEDOUT, "send: the broker is not reading its socket"};
        if (rc > 0 && (p.revents & POLLIN)) {
          size_t got = 0;
          if (util::Status st = read_once(MSG_DONTWAIT, sink, got); !st) return st;
        }
        continue;
      }
      size_t sent = static_cast<size_t>(n);
      partial = true;
      while (mh.msg_iovlen > 0 && sent >= mh.msg_iov->iov_len) {
        sent -= mh.msg_iov->iov_len;
        ++mh.msg_iov;
        --mh.msg_iovlen;
      }
      if (mh.msg_iovlen > 0) {
        mh.msg_iov->iov_base = static_cast<char*>(mh.msg_iov->iov_base) + sent;
        mh.msg_iov->iov_len -= sent;
      }
    }
    return {};
  }

  util::UniqueFd fd_;
  msg::FrameDecoder decoder_;
  std::unique_ptr<char[]> buffer_;
  msg::Message decoded_;     // the response being decoded, its buffers reused
  msg::BatchWriter single_;  // a request sent by itself
  int rcvtimeo_ms_ = -2;     // SO_RCVTIMEO last set (-2: not yet)
  util::Error broken_;       // a write failed part-way: every later call fails with it
};

// tcp://: a ZeroMQ DEALER socket (CURVE). A batch is one single-frame message; a request sent
// by itself is a three-frame message.
class ZmqTransport final : public Transport {
 public:
  ZmqTransport() = default;
  bool ok() const { return static_cast<bool>(ctx_) && static_cast<bool>(sock_); }
  msg::ZmqContext& context() { return ctx_; }
  void set_socket(msg::ZmqSocket sock) { sock_ = std::move(sock); }
  void* socket() const { return sock_.get(); }

  util::Status send_batch(std::string& frame, int, const Sink&) override {
    if (msg::send_frame(sock_.get(), frame)) return {};
    return send_error();
  }

  util::Status send_one(const msg::Message& fields, std::string_view topic,
                        std::string_view payload, int, const Sink&) override {
    if (msg::send_body(sock_.get(), fields, topic, payload)) return {};
    return send_error();
  }

  util::Status receive(int wait_ms, const Sink& sink) override {
    // A blocking receive bounded by ZMQ_RCVTIMEO: it returns at once when a response is queued
    // (pipelining), and otherwise sleeps in libzmq's own wait, which costs fewer system calls
    // than a non-blocking try followed by zmq_poll.
    if (wait_ms != rcvtimeo_ms_) {
      zmq_setsockopt(sock_.get(), ZMQ_RCVTIMEO, &wait_ms, sizeof wait_ms);
      rcvtimeo_ms_ = wait_ms;
    }
    int got;
    do {
      got = received_.receive(sock_.get());
    } while (got < 0 && zmq_errno() == EINTR);
    if (got < 0) {
      int errnum = zmq_errno();
      return util::Error{errnum, fmt::format("receive: {}", zmq_strerror(errnum))};
    }
    if (got == 0) return timed_out();  // EAGAIN: nothing within the timeout
    // Tolerate a REQ-style empty delimiter in front of the message.
    size_t first =
        (received_.count() == 2 || received_.count() == 4) && received_.part(0).empty() ? 1 : 0;
    if (received_.count() == first + 1 && msg::looks_like_batch(received_.part(first)))
      deliver_batch(received_.part(first), decoded_, sink);
    else if (received_.decode_into(first, decoded_))
      sink(decoded_);
    received_.clear();  // the payloads now live in the client: do not hold a second copy
    return {};
  }

  int pollfd() const override {
    int fd = -1;
    size_t len = sizeof fd;
    zmq_getsockopt(sock_.get(), ZMQ_FD, &fd, &len);
    return fd;
  }

  bool readable() override {
    int events = 0;
    size_t len = sizeof events;
    if (zmq_getsockopt(sock_.get(), ZMQ_EVENTS, &events, &len) != 0) return false;
    return (events & ZMQ_POLLIN) != 0;
  }

 private:
  static util::Error send_error() {
    int errnum = zmq_errno();
    return util::Error{errnum, fmt::format("cannot send the request: {}", zmq_strerror(errnum))};
  }

  msg::ZmqContext ctx_;  // declared before sock_: the socket closes first
  msg::ZmqSocket sock_;
  msg::ZmqReceived received_;  // receive buffer, reused
  msg::Message decoded_;       // the message being decoded, its buffers reused
  int rcvtimeo_ms_ = -2;       // ZMQ_RCVTIMEO last set (-2: not yet)
};

constexpr std::string_view kLocalScheme = "local://";
constexpr std::string_view kTcpScheme = "tcp://";
constexpr const char* kUseTheUri = "use the URI `cairn start` printed";

// Connects to the broker's local:// socket at `path`.
util::Result<util::UniqueFd> connect_local(const std::string& uri, const std::string& path) {
  sockaddr_un sa{};
  if (path.empty() || path.size() >= sizeof sa.sun_path)
    return connect_error(EINVAL, uri,
                         fmt::format("the socket path must be 1 to {} bytes long ({})",
                                     sizeof sa.sun_path - 1, kUseTheUri));
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  util::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    int err = errno;
    return connect_error(err, uri, fmt::format("cannot make a socket: {}", std::strerror(err)));
  }
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return fd;
  int err = errno;
  std::string why = std::strerror(err);
  if (err == ECONNREFUSED || err == ENOENT)
    why += " (no broker is running on that socket; start one with `cairn start`, or " +
           std::string(kUseTheUri) + ")";
  else if (err == EACCES)
    why += " (the broker's broker.socket-group and broker.socket-mode decide who may connect)";
  return connect_error(err, uri, fmt::format("cannot connect: {}", why));
}

// The HOST and PORT of tcp://HOST:PORT (HOST without IPv6 brackets), or why the URI is not one.
util::Status parse_tcp(const std::string& uri, std::string& host, std::string& port) {
  std::string_view rest = std::string_view(uri).substr(kTcpScheme.size());
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return util::Error{EINVAL, "expected tcp://HOST:PORT"};
  host = rest.substr(0, colon);
  port = rest.substr(colon + 1);
  char* end = nullptr;
  long n = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || n < 1 || n > 65535)
    return util::Error{EINVAL, fmt::format("port '{}' is not a number from 1 to 65535", port)};
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return {};
}

// zmq_connect on tcp:// connects in the background and retries for ever; find out first, and
// within a second, whether the host resolves and something accepts connections on the port. A
// host that neither accepts nor refuses within a second is left to ZeroMQ (and the reply
// timeout).
util::Status probe_tcp(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int gai = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (gai != 0)
    return util::Error{EHOSTUNREACH,
                       fmt::format("cannot resolve the host '{}': {}", host, gai_strerror(gai))};
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addrs(found, freeaddrinfo);
  int last_err = 0;
  for (addrinfo* a = addrs.get(); a; a = a->ai_next) {
    util::UniqueFd fd(socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) continue;
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return {};
    if (errno != EINPROGRESS) {
      last_err = errno;
      continue;
    }
    struct pollfd p {
      fd.get(), POLLOUT, 0
    };
    if (poll(&p, 1, 1000) <= 0) return {};  // neither yes nor no yet: ZeroMQ keeps trying
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0) return {};
    last_err = err;
  }
  if (last_err == 0) return {};
  std::string why = std::strerror(last_err);
  if (last_err == ECONNREFUSED) why += " (no broker listens on that port)";
  return util::Error{last_err, why};
}

util::Result<std::unique_ptr<Transport>> connect_tcp(const std::string& uri) {
  auto t = std::make_unique<ZmqTransport>();
  if (!t->context()) {
    int errnum = zmq_errno();
    return connect_error(errnum, "zmq",
                         fmt::format("cannot create a context: {}", zmq_strerror(errnum)));
  }
  msg::ZmqSocket sock(t->context(), ZMQ_DEALER);
  if (!sock) {
    int errnum = zmq_errno();
    return connect_error(errnum, "zmq",
                         fmt::format("cannot create a socket: {}", zmq_strerror(errnum)));
  }
  // The URI, then the CURVE settings, then the network: what the user wrote is checked first.
  std::string host, port;
  if (auto parsed = parse_tcp(uri, host, port); !parsed)
    return connect_error(EINVAL, uri, fmt::format("cannot connect: {}", parsed.error().text));
  if (auto curve = setup_curve(sock.get()); !curve) return curve.error();
  if (auto reachable = probe_tcp(host, port); !reachable)
    return connect_error(reachable.error().errnum, uri,
                         fmt::format("cannot connect: {}", reachable.error().text));
  if (zmq_connect(sock.get(), uri.c_str()) != 0) {
    int errnum = zmq_errno();
    return connect_error(errnum, uri,
                         fmt::format("cannot connect: {} ({})", zmq_strerror(errnum), kUseTheUri));
  }
  t->set_socket(std::move(sock));
  return std::unique_ptr<Transport>(std::move(t));
}

}  // namespace

Client::Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

util::Result<Client> Client::connect(std::string_view uri_arg) {
  std::string uri(uri_arg);
  if (uri.empty()) {
    const char* v = env("CAIRN_URI");
    if (!v) {
      return connect_error(EINVAL, "CAIRN_URI is not set",
                           "run the command under `cairn start`, or set CAIRN_URI to the URI "
                           "`cairn start` printed");
    }
    uri = v;
  }
  auto timeout = timeout_from_env();
  if (!timeout) return connect_error(EINVAL, "CAIRN_RPC_TIMEOUT", timeout.error().text);

  Client c;
  c.uri_ = uri;
  c.timeout_ = *timeout;
  if (uri.starts_with(kLocalScheme)) {
    auto fd = connect_local(uri, uri.substr(kLocalScheme.size()));
    if (!fd) return fd.error();
    c.transport_ = std::make_unique<StreamTransport>(std::move(fd).value());
  } else if (uri.starts_with(kTcpScheme)) {
    auto t = connect_tcp(uri);
    if (!t) return t.error();
    c.transport_ = std::move(t).value();
  } else if (uri.starts_with("ipc://")) {
    return connect_error(EINVAL, uri,
                         fmt::format("ipc:// is retired: local clients connect to local://PATH "
                                     "(here local://{}); {}",
                                     uri.substr(6), kUseTheUri));
  } else {
    return connect_error(
        EINVAL, uri,
        fmt::format("not a cairn URI: give local://PATH or tcp://HOST:PORT ({})", kUseTheUri));
  }
  return c;
}

int Client::pollfd() const { return transport_ ? transport_->pollfd() : -1; }

void Client::track(uint32_t tag, std::string_view topic, bool streaming) {
  if (spare_.empty()) {
    in_flight_.emplace(tag, Pending{std::string(topic), streaming});
    return;
  }
  auto node = std::move(spare_.back());
  spare_.pop_back();
  node.key() = tag;
  node.mapped().topic.assign(topic);
  node.mapped().streaming = streaming;
  in_flight_.insert(std::move(node));
}

uint32_t Client::send(std::string_view topic, std::string_view payload, uint32_t flags) {
  uint32_t tag = next_tag_;
  // Skip 0 (means "no tag") and any tag still in flight after a wrap-around.
  while (tag == 0 || in_flight_.count(tag)) ++tag;
  next_tag_ = tag + 1;

  // Header fields only: topic and payload are copied once, into the batch or the transport.
  msg::Message fields = msg::Message::request({}, {}, tag, flags);
  if (batch_limit_ <= 1) {
    util::Status sent = transport_->send_one(fields, topic, payload, send_wait_ms(),
                                             [this](msg::Message& m) { accept(m); });
    if (!sent) {
      errno = sent.error().errnum;
      return 0;
    }
  } else {
    // A batch that would outgrow its bound leaves first; a large request then travels alone.
    if (queued_.count() > 0 &&
        queued_.size() + msg::kBatchEntryBytes + topic.size() + payload.size() > kBatchBytes)
      flush();
    queued_.add(fields, topic, payload);
    queued_tags_.push_back(tag);
  }
  track(tag, topic, (flags & msg::kFlagStreaming) != 0);
  if (queued_.count() >= batch_limit_) flush();
  return tag;
}

int Client::send_wait_ms() const {
  return static_cast<int>(std::min<int64_t>(timeout_.count(), INT32_MAX));
}

void Client::fail_queued(const util::Error& error) {
  for (uint32_t tag : queued_tags_) {
    auto it = in_flight_.find(tag);
    if (it == in_flight_.end()) continue;
    Response r;
    r.topic = it->second.topic;
    r.matchtag = tag;
    r.errnum = error.errnum;
    r.payload = error.text.starts_with("cannot send the request")
                    ? error.text
                    : fmt::format("cannot send the request: {}", error.text);
    ready_.push_back(std::move(r));
    forget(it);
  }
}

void Client::flush() {
  if (queued_.count() == 0) return;
  util::Status sent = transport_->send_batch(queued_.frame(), send_wait_ms(),
                                             [this](msg::Message& m) { accept(m); });
  if (!sent) fail_queued(sent.error());
  queued_.clear();
  queued_tags_.clear();
}

void Client::accept(msg::Message& m) {
  if (m.type != msg::Type::kResponse) return;
  auto it = in_flight_.find(m.matchtag);
  if (it == in_flight_.end()) return;  // not ours (any more): drop
  Response r;
  r.topic = std::move(m.topic);
  r.matchtag = m.matchtag;
  r.errnum = m.errnum;
  r.payload = std::move(m.payload);
  // The last response of a request (the only one, unless it streams) settles it.
  if (!it->second.streaming || r.errnum != 0) forget(it);
  ready_.push_back(std::move(r));
}

util::Status Client::receive_some(milliseconds timeout) {
  flush();
  const auto deadline = Clock::now() + timeout;
  const size_t before = ready_.size();
  while (ready_.size() == before) {
    int wait_ms = -1;
    if (timeout.count() >= 0) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      wait_ms = static_cast<int>(std::clamp<int64_t>(left, 0, INT32_MAX));
    }
    util::Status got = transport_->receive(wait_ms, [this](msg::Message& m) { accept(m); });
    if (!got) return got;
  }
  return {};
}

void Client::forget(std::unordered_map<uint32_t, Pending>::iterator it) {
  auto node = in_flight_.extract(it);
  if (spare_.size() < kSpareNodes) spare_.push_back(std::move(node));
}

Response Client::timeout_response(uint32_t matchtag, std::string topic) const {
  Response r;
  r.topic = std::move(topic);
  r.matchtag = matchtag;
  r.errnum = ETIMEDOUT;
  r.payload = fmt::format(
      "no answer from the broker within {} s (is it running? for tcp://, is your key "
      "allowed?); wait longer with CAIRN_RPC_TIMEOUT=SECONDS or `cairn --timeout SECONDS`",
      seconds_text(timeout_));
  return r;
}

Response Client::read_failure(const util::Error& error, uint32_t matchtag,
                              std::string topic) const {
  if (error.errnum == ETIMEDOUT) return timeout_response(matchtag, std::move(topic));
  Response r;
  r.topic = std::move(topic);
  r.matchtag = matchtag;
  r.errnum = error.errnum;
  r.payload = error.text;
  return r;
}

Response Client::recv(milliseconds timeout) {
  if (ready_.empty()) {
    if (auto got = receive_some(timeout); !got) return read_failure(got.error(), 0, {});
  }
  Response r = std::move(ready_.front());
  ready_.pop_front();
  return r;
}

Response Client::recv_for(uint32_t matchtag, milliseconds timeout) {
  auto find_from = [this, matchtag](size_t from) {
    return std::find_if(ready_.begin() + static_cast<std::ptrdiff_t>(from), ready_.end(),
                        [matchtag](const Response& r) { return r.matchtag == matchtag; });
  };
  std::string topic;
  if (auto p = in_flight_.find(matchtag); p != in_flight_.end()) topic = p->second.topic;
  const auto deadline = Clock::now() + timeout;
  for (size_t searched = 0;;) {
    if (auto it = find_from(searched); it != ready_.end()) {
      Response r = std::move(*it);
      ready_.erase(it);
      return r;
    }
    searched = ready_.size();
    milliseconds left = timeout;
    if (timeout.count() >= 0)
      left = std::max(milliseconds(0),
                      std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
    if (auto got = receive_some(left); !got) return read_failure(got.error(), matchtag, topic);
  }
}

Response Client::rpc(std::string_view topic, std::string_view payload) {
  uint32_t tag = send(topic, payload);
  if (tag == 0) {
    Response r;
    r.topic = std::string(topic);
    r.errnum = errno;
    r.payload = fmt::format("cannot send the request: {}", std::strerror(r.errnum));
    return r;
  }
  Response r = recv_for(tag, timeout_);
  // Still in flight: no answer came (a timeout, a lost connection); a late one is dropped.
  if (auto it = in_flight_.find(tag); it != in_flight_.end()) forget(it);
  return r;
}

bool Client::has_ready() { return !ready_.empty() || (transport_ && transport_->readable()); }

}  // namespace cairn::client

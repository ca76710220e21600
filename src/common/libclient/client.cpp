// cairn::client::Client: connection set-up (URI, CURVE from the environment) and the
// request/response matching and batching described in client.hpp. Invariants: a tag is in
// in_flight_ from send() until its last response is received (or rpc() gives up on it);
// queued_ holds the requests sent since the last flush, queued_tags_ their tags; ready_ holds
// responses already received, and settled, but not yet handed to the caller.
#include "libclient/client.hpp"

#include <czmq.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

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
  zcert_t* cert = zcert_load(cert_path);
  if (!cert) {
    int errnum = errno ? errno : EINVAL;
    return connect_error(
        errnum, "CAIRN_CLIENT_CERT",
        fmt::format("cannot load a certificate from '{}': {} (write one with `cairn keygen`)",
                    cert_path, std::strerror(errnum)));
  }
  const uint8_t* secret = zcert_secret_key(cert);
  bool has_secret = std::any_of(secret, secret + 32, [](uint8_t b) { return b != 0; });
  int rc = 0;
  if (has_secret) {
    rc |= zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, zcert_public_key(cert), 32);
    rc |= zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret, 32);
    rc |= zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_bin, 32);
  }
  int setsockopt_errno = rc != 0 ? zmq_errno() : 0;
  zcert_destroy(&cert);
  if (!has_secret) {
    return connect_error(EINVAL, "CAIRN_CLIENT_CERT",
                         fmt::format("'{}' holds no secret key: use the PATH_secret file `cairn "
                                     "keygen PATH` wrote",
                                     cert_path));
  }
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

namespace {

// Checks what zmq_connect would only find out later (it connects in the background and retries
// forever): an ipc:// socket file that is missing, forbidden or has no broker behind it, and a
// tcp:// port out of range. Success if the URI is worth connecting to, else the errno and why
// not.
util::Status precheck(const std::string& uri) {
  if (uri.rfind("ipc://", 0) == 0) {
    std::string path = uri.substr(6);
    if (path.empty() || path[0] == '@') return {};  // abstract namespace: nothing to check
    sockaddr_un sa{};
    if (path.size() >= sizeof sa.sun_path)
      return util::Error{ENAMETOOLONG, "the socket path is too long"};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return {};
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    int err = errno;
    close(fd);
    if (rc == 0) return {};
    if (err == ECONNREFUSED)
      return util::Error{err, "Connection refused (no broker is running on that socket)"};
    return util::Error{err, std::strerror(err)};
  }
  if (uri.rfind("tcp://", 0) == 0) {
    auto colon = uri.rfind(':');
    if (colon == std::string::npos || colon < 6)
      return util::Error{EINVAL, "expected tcp://HOST:PORT"};
    std::string port = uri.substr(colon + 1);
    char* end = nullptr;
    long n = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || n < 1 || n > 65535)
      return util::Error{EINVAL, fmt::format("port '{}' is not a number from 1 to 65535", port)};
  }
  return {};
}

}  // namespace

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
  if (!c.ctx_) {
    int errnum = zmq_errno();
    return connect_error(errnum, "zmq",
                         fmt::format("cannot create a context: {}", zmq_strerror(errnum)));
  }
  c.sock_ = msg::ZmqSocket(c.ctx_, ZMQ_DEALER);
  if (!c.sock_) {
    int errnum = zmq_errno();
    return connect_error(errnum, "zmq",
                         fmt::format("cannot create a socket: {}", zmq_strerror(errnum)));
  }
  // A send must not block forever when the broker is gone and the queue is full.
  int sndtimeo = static_cast<int>(std::min<int64_t>(c.timeout_.count(), INT32_MAX));
  zmq_setsockopt(c.sock_.get(), ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
  if (auto worth = precheck(uri); !worth) {
    return connect_error(
        worth.error().errnum, uri,
        fmt::format("cannot connect: {} (use the URI `cairn start` printed)", worth.error().text));
  }
  if (uri.rfind("tcp://", 0) == 0) {
    if (auto curve = setup_curve(c.sock_.get()); !curve) return curve.error();
  }
  if (zmq_connect(c.sock_.get(), uri.c_str()) != 0) {
    int errnum = zmq_errno();
    return connect_error(errnum, uri,
                         fmt::format("cannot connect: {} (use the URI `cairn start` printed)",
                                     zmq_strerror(errnum)));
  }
  return c;
}

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

  // Header fields only: topic and payload are copied once, into the batch or into ZeroMQ.
  msg::Message fields = msg::Message::request({}, {}, tag, flags);
  if (batch_limit_ <= 1) {
    if (!msg::send_body(sock_.get(), fields, topic, payload)) return 0;
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

void Client::flush() {
  if (queued_.count() == 0) return;
  bool sent = msg::send_frame(sock_.get(), queued_.frame());
  if (!sent) {
    // Each queued request is answered here, so no caller waits for a reply that cannot come.
    int errnum = zmq_errno();
    for (uint32_t tag : queued_tags_) {
      auto it = in_flight_.find(tag);
      if (it == in_flight_.end()) continue;
      Response r;
      r.topic = it->second.topic;
      r.matchtag = tag;
      r.errnum = errnum;
      r.payload = fmt::format("cannot send the request: {}", zmq_strerror(errnum));
      ready_.push_back(std::move(r));
      forget(it);
    }
  }
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
    // A blocking receive bounded by ZMQ_RCVTIMEO: it returns at once when a response is queued
    // (pipelining), and otherwise sleeps in libzmq's own wait, which costs fewer system calls
    // than a non-blocking try followed by zmq_poll.
    int wait_ms = -1;
    if (timeout.count() >= 0) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      wait_ms = static_cast<int>(std::clamp<int64_t>(left, 0, INT32_MAX));
    }
    if (wait_ms != rcvtimeo_ms_) {
      zmq_setsockopt(sock_.get(), ZMQ_RCVTIMEO, &wait_ms, sizeof wait_ms);
      rcvtimeo_ms_ = wait_ms;
    }
    int got = received_.receive(sock_.get());
    if (got < 0) {
      int errnum = zmq_errno();
      if (errnum == EINTR) continue;
      return util::Error{errnum, fmt::format("receive: {}", zmq_strerror(errnum))};
    }
    if (got == 0)  // EAGAIN: nothing within the timeout
      return util::Error{ETIMEDOUT, "no response within the timeout"};
    // Tolerate a REQ-style empty delimiter in front of the message.
    size_t first =
        (received_.count() == 2 || received_.count() == 4) && received_.part(0).empty() ? 1 : 0;
    if (received_.count() == first + 1 && msg::looks_like_batch(received_.part(first))) {
      if (auto batch = msg::BatchReader::open(received_.part(first))) {
        while (!batch->done())
          if (batch->next(decoded_)) accept(decoded_);
      }
    } else if (received_.decode_into(first, decoded_)) {
      accept(decoded_);
    }
    received_.clear();  // the payloads now live in ready_: do not hold a second copy
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
      "no answer from the broker within {} s (is it running? for tcp://, is your key allowed?)",
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
    r.errnum = zmq_errno();
    r.payload = fmt::format("cannot send the request: {}", zmq_strerror(r.errnum));
    return r;
  }
  Response r = recv_for(tag, timeout_);
  if (r.errnum == ETIMEDOUT && r.matchtag == tag) {  // a late reply is dropped
    if (auto it = in_flight_.find(tag); it != in_flight_.end()) forget(it);
  }
  return r;
}

// ---- Event-loop hooks (ZeroMQ only). ----

int Client::pollfd() const {
  int fd = -1;
  size_t len = sizeof fd;
  if (zmq_getsockopt(sock_.get(), ZMQ_FD, &fd, &len) != 0) return -1;
  return fd;
}

bool Client::has_ready() {
  if (!ready_.empty()) return true;
  int events = 0;
  size_t len = sizeof events;
  if (zmq_getsockopt(sock_.get(), ZMQ_EVENTS, &events, &len) != 0) return false;
  return (events & ZMQ_POLLIN) != 0;
}

}  // namespace cairn::client

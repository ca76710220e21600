// LocalListener and LocalConnection (see local_listener.hpp): accept, read and frame, write
// with one sendmsg per batch, and the limits that keep one peer from costing the others.
#include "broker/local_listener.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "broker/broker.hpp"

namespace cairn::broker {

namespace {

constexpr const char* kClosedSource = "local:// connections closed";
// A buffer this large, once empty, is given back rather than kept for the next reply.
constexpr size_t kKeptOutBytes = 1024 * 1024;

sockaddr_un address_of(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof sa.sun_path)
    throw StartupError("listen", fmt::format("local://{}: the socket path must be 1 to {} bytes "
                                             "long: give a shorter --listen local://PATH or "
                                             "--statedir",
                                             path, sizeof sa.sun_path - 1));
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  return sa;
}

// Makes room for a new socket at `path`: removes a socket file that no broker answers on;
// refuses a live one and anything that is not a socket.
void clear_stale_socket(const std::string& path, const sockaddr_un& sa) {
  struct stat st;
  if (lstat(path.c_str(), &st) < 0) return;  // nothing there (or we will fail at bind)
  if (!S_ISSOCK(st.st_mode))
    throw StartupError("listen", fmt::format("local://{}: the path exists and is not a socket: "
                                             "remove it or give another --listen local://PATH",
                                             path));
  util::UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (probe && connect(probe.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0)
    throw StartupError("listen", fmt::format("local://{}: another broker is listening there: "
                                             "stop it, or give another --listen local://PATH",
                                             path));
  unlink(path.c_str());
}

// A listening socket bound at `path`, or a StartupError saying why there cannot be one.
util::UniqueFd bind_socket(const std::string& path) {
  sockaddr_un sa = address_of(path);
  clear_stale_socket(path, sa);
  util::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd)
    throw StartupError("listen", fmt::format("local://{}: socket: {}", path, strerror(errno)));
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0)
    throw StartupError("listen", fmt::format("cannot bind local://{}: {}", path, strerror(errno)));
  if (listen(fd.get(), SOMAXCONN) < 0) {
    int err = errno;
    unlink(path.c_str());
    throw StartupError("listen",
                       fmt::format("cannot listen on local://{}: {}", path, strerror(err)));
  }
  return fd;
}

}  // namespace

// --- LocalConnection ---

LocalConnection::LocalConnection(LocalListener& listener, util::UniqueFd fd, const LocalPeer& peer)
    : listener_(listener),
      fd_(std::move(fd)),
      peer_(peer),
      io_(listener.loop_, fd_.get(), reactor::kRead, [this](reactor::Io&, int ev) { on_io(ev); }),
      decoder_(listener.limits_.max_frame) {
  io_.start();
}

LocalConnection::~LocalConnection() { io_.stop(); }

std::string LocalConnection::describe() const {
  return fmt::format("uid {} pid {}", peer_.uid, peer_.pid);
}

void LocalConnection::queue(const msg::Message& reply, std::string_view payload) {
  if (closed_) return;
  replies_.add(reply, reply.topic, payload);
  if (replies_.size() >= LocalListener::kBatchBytes) {
    send_batch();
    return;
  }
  if (!dirty_) listener_.mark_dirty(*this);
}

void LocalConnection::on_io(int revents) {
  if (revents & reactor::kWrite) write_pending();
  if (!closed_ && (revents & reactor::kRead)) read_some();
}

void LocalConnection::read_some() {
  char* buf = listener_.read_buffer_.get();
  for (int i = 0; i < LocalListener::kReadsPerWakeup && !closed_; ++i) {
    ssize_t n = ::read(fd_.get(), buf, LocalListener::kReadBytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      listener_.close(*this, fmt::format("read: {}", std::strerror(errno)));
      return;
    }
    if (n == 0) {
      if (decoder_.mid_frame())
        listener_.close(*this, fmt::format("the client closed the connection in the middle of "
                                           "a frame ({} bytes of it sent)",
                                           decoder_.buffered()));
      else
        listener_.close(*this);
      return;
    }
    auto self = listener_.connections_.find(this);
    std::weak_ptr<LocalConnection> handle = self->second;
    util::Status st = decoder_.feed(std::string_view(buf, static_cast<size_t>(n)),
                                    [this, &handle](std::string_view frame) {
                                      if (closed_) return false;  // e.g. a reply past the limit
                                      if (listener_.on_frame_(*this, handle, frame)) return true;
                                      listener_.close(*this);  // the broker logged why
                                      return false;
                                    });
    if (!st) {
      listener_.close(*this, st.error().text);
      return;
    }
    if (static_cast<size_t>(n) < LocalListener::kReadBytes) return;  // drained for now
  }
}

void LocalConnection::send_batch() {
  if (closed_ || replies_.count() == 0) return;
  std::string& frame = replies_.frame();
  char prefix[msg::kStreamPrefixBytes];
  msg::encode_stream_prefix(static_cast<uint32_t>(frame.size()), prefix);
  const size_t total = sizeof prefix + frame.size();
  if (pending() > 0) {
    // The peer has not read what went before: queue behind it, within the limit.
    if (pending() + total > listener_.limits_.peer_queue_limit) {
      ++listener_.slow_dropped_;
      listener_.close(*this, fmt::format("the client left {} bytes of replies unread, past "
                                         "broker.peer-queue-limit ({}): disconnected",
                                         pending() + total, listener_.limits_.peer_queue_limit));
      return;
    }
    out_.append(prefix, sizeof prefix);
    out_.append(frame);
    replies_.clear();
    return;
  }
  iovec iov[2] = {{prefix, sizeof prefix}, {frame.data(), frame.size()}};
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = 2;
  ssize_t n;
  do {
    n = sendmsg(fd_.get(), &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    // EPIPE or ECONNRESET: the peer is gone; its replies go with it.
    listener_.close(*this);
    return;
  }
  size_t sent = n < 0 ? 0 : static_cast<size_t>(n);
  if (sent < total) {
    // Keep the rest, without copying the frame when the prefix went.
    out_at_ = 0;
    if (sent < sizeof prefix) {
      out_.assign(prefix + sent, sizeof prefix - sent);
      out_.append(frame);
    } else {
      out_.swap(frame);
      out_at_ = sent - sizeof prefix;
    }
    io_.set_events(reactor::kRead | reactor::kWrite);
  }
  replies_.clear();
}

void LocalConnection::write_pending() {
  while (pending() > 0) {
    ssize_t n = ::send(fd_.get(), out_.data() + out_at_, pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      listener_.close(*this);
      return;
    }
    out_at_ += static_cast<size_t>(n);
  }
  out_.clear();
  if (out_.capacity() > kKeptOutBytes) std::string().swap(out_);
  out_at_ = 0;
  io_.set_events(reactor::kRead);
}

// --- LocalListener ---

LocalListener::LocalListener(reactor::Loop& loop, std::string path, Log& log, Limits limits,
                             IsOwner is_owner, OnFrame on_frame)
    : loop_(loop),
      path_(std::move(path)),
      log_(log),
      limits_(limits),
      is_owner_(std::move(is_owner)),
      on_frame_(std::move(on_frame)),
      fd_(bind_socket(path_)),
      accept_io_(loop, fd_.get(), reactor::kRead, [this](reactor::Io&, int) { on_accept(); }),
      accept_pause_(loop, kAcceptPause, 0, [this](reactor::Timer&) { resume_accepting(); }),
      read_buffer_(new char[kReadBytes]) {
  accept_io_.start();
}

LocalListener::~LocalListener() {
  accept_io_.stop();
  accept_pause_.stop();
  dirty_.clear();
  closing_.clear();
  connections_.clear();
  if (fd_) unlink(path_.c_str());
}

void LocalListener::on_accept() {
  // A bounded number per wake-up, so a connection storm does not starve the peers being served.
  for (int i = 0; i < 64; ++i) {
    util::UniqueFd fd(accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
      pause_accepting(err);
      return;
    }
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
      log_.log_limited(kClosedSource, Level::kWarning,
                       fmt::format("local://{}: refused a connection whose credentials cannot be "
                                   "read: {}",
                                   path_, strerror(errno)));
      continue;
    }
    LocalPeer peer{cred.pid, cred.uid, cred.gid, is_owner_(cred.uid, cred.gid)};
    auto conn = std::make_shared<LocalConnection>(*this, std::move(fd), peer);
    LocalConnection* key = conn.get();
    connections_.emplace(key, std::move(conn));
  }
}

void LocalListener::pause_accepting(int errnum) {
  ++accept_errors_;
  log_.log_limited("local:// accept failures", Level::kWarning,
                   fmt::format("local://{}: cannot accept a connection: {}; pausing new "
                               "connections for {} s (raise the broker's open-file limit, e.g. "
                               "LimitNOFILE= in its unit)",
                               path_, strerror(errnum), kAcceptPause));
  accept_io_.stop();
  accept_pause_.stop();
  accept_pause_.set(kAcceptPause, 0);
  accept_pause_.start();
}

void LocalListener::resume_accepting() {
  accept_pause_.stop();
  if (!accept_io_.active()) accept_io_.start();
}

void LocalListener::close(LocalConnection& conn, std::string_view why) {
  if (conn.closed_) return;
  conn.closed_ = true;
  conn.io_.stop();
  conn.fd_.reset();
  if (!why.empty())
    log_.log_limited(kClosedSource, Level::kWarning,
                     fmt::format("closed the local:// connection of {}: {}", conn.describe(), why));
  auto it = connections_.find(&conn);
  if (it != connections_.end()) {
    // Freed at the next flush(), once no callback of its own is on the stack.
    closing_.push_back(std::move(it->second));
    connections_.erase(it);
  }
  // A descriptor is free again: a paused accept may go on.
  if (!accept_io_.active() && accept_pause_.active()) resume_accepting();
}

void LocalListener::mark_dirty(LocalConnection& conn) {
  auto it = connections_.find(&conn);
  if (it == connections_.end()) return;
  conn.dirty_ = true;
  dirty_.push_back(it->second);
}

void LocalListener::flush() {
  // send_batch may close a connection, which only moves it to closing_: dirty_ stays intact.
  for (auto& conn : dirty_) {
    conn->dirty_ = false;
    conn->send_batch();
  }
  dirty_.clear();
  closing_.clear();
}

}  // namespace cairn::broker

// Owning handles for a ZeroMQ context and socket, the one pair cairn uses (broker, libclient,
// tests, benchmarks). Each wraps one C handle and releases it in its destructor; a socket is
// made with linger 0, so closing it never waits for unsent messages and a context whose
// sockets are all closed terminates at once. Move-only; a moved-from handle owns nothing.
// Declare a context before its sockets, so that the sockets close first.
// Header-only: its users link libzmq themselves (libmsg itself does not).
#pragma once

#include <zmq.h>

#include <utility>

namespace cairn::msg {

class ZmqContext {
 public:
  // A new context; false (errno from zmq) if libzmq could not make one.
  ZmqContext() : ctx_(zmq_ctx_new()) {}
  ~ZmqContext() { term(); }
  ZmqContext(ZmqContext&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)) {}
  ZmqContext& operator=(ZmqContext&& o) noexcept {
    if (this != &o) {
      term();
      ctx_ = std::exchange(o.ctx_, nullptr);
    }
    return *this;
  }
  ZmqContext(const ZmqContext&) = delete;
  ZmqContext& operator=(const ZmqContext&) = delete;

  void* get() const { return ctx_; }
  explicit operator bool() const { return ctx_ != nullptr; }

 private:
  void term() {
    if (ctx_) zmq_ctx_term(std::exchange(ctx_, nullptr));
  }
  void* ctx_;
};

class ZmqSocket {
 public:
  ZmqSocket() = default;
  // A socket of `type` (ZMQ_DEALER, ZMQ_ROUTER, ...) with linger 0; false (errno from zmq) if
  // it could not be made.
  ZmqSocket(const ZmqContext& ctx, int type) : sock_(zmq_socket(ctx.get(), type)) {
    if (sock_) {
      int linger = 0;
      zmq_setsockopt(sock_, ZMQ_LINGER, &linger, sizeof linger);
    }
  }
  ~ZmqSocket() { close(); }
  ZmqSocket(ZmqSocket&& o) noexcept : sock_(std::exchange(o.sock_, nullptr)) {}
  ZmqSocket& operator=(ZmqSocket&& o) noexcept {
    if (this != &o) {
      close();
      sock_ = std::exchange(o.sock_, nullptr);
    }
    return *this;
  }
  ZmqSocket(const ZmqSocket&) = delete;
  ZmqSocket& operator=(const ZmqSocket&) = delete;

  void* get() const { return sock_; }
  explicit operator bool() const { return sock_ != nullptr; }

  void close() {
    if (sock_) zmq_close(std::exchange(sock_, nullptr));
  }

 private:
  void* sock_ = nullptr;
};

}  // namespace cairn::msg

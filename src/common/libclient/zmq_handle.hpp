// Owning handles for a ZeroMQ context and socket: each wraps one C handle and releases it in
// its destructor (a socket is closed with linger 0, so destruction never blocks). Move-only;
// a moved-from handle owns nothing.
#pragma once

#include <zmq.h>

#include <utility>

namespace cairn::client {

class ZmqContext {
 public:
  ZmqContext() : ctx_(zmq_ctx_new()) {}
  ~ZmqContext() {
    if (ctx_) zmq_ctx_term(ctx_);
  }
  ZmqContext(ZmqContext&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)) {}
  ZmqContext& operator=(ZmqContext&& o) noexcept {
    if (this != &o) {
      if (ctx_) zmq_ctx_term(ctx_);
      ctx_ = std::exchange(o.ctx_, nullptr);
    }
    return *this;
  }
  ZmqContext(const ZmqContext&) = delete;
  ZmqContext& operator=(const ZmqContext&) = delete;

  void* get() const { return ctx_; }
  explicit operator bool() const { return ctx_ != nullptr; }

 private:
  void* ctx_;
};

class ZmqSocket {
 public:
  ZmqSocket() = default;
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

}  // namespace cairn::client

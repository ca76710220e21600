// Moving cairn messages through a ZeroMQ socket without intermediate copies, for the broker and
// libclient. ZmqReceived holds one received multipart message in libzmq's own buffers (reused
// from one message to the next), so decoding copies topic and payload once, into the Message;
// send_body() hands header, topic and payload straight to zmq_send. send_frames() and
// recv_frames() move a whole multipart message as Frames, for the broker's ZAP handler, tests
// and benchmarks. Header-only: its users link libzmq themselves (libmsg itself does not).
#pragma once

#include <zmq.h>

#include <cerrno>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "libmsg/message.hpp"

namespace cairn::msg {

class ZmqReceived {
 public:
  // Parts kept: a ROUTER's identity and empty delimiter, then header, topic and payload. The
  // rest of a longer message is read and dropped; count() still says how many parts it had.
  static constexpr size_t kMaxParts = 5;
  // Parts this small are not worth freeing early (libzmq keeps up to 33 bytes inline).
  static constexpr size_t kSmallPart = 256;

  ZmqReceived() {
    for (auto& p : parts_) zmq_msg_init(&p);
    zmq_msg_init(&overflow_);
  }
  ~ZmqReceived() {
    for (auto& p : parts_) zmq_msg_close(&p);
    zmq_msg_close(&overflow_);
  }
  ZmqReceived(ZmqReceived&& o) noexcept : ZmqReceived() { *this = std::move(o); }
  ZmqReceived& operator=(ZmqReceived&& o) noexcept {
    if (this == &o) return *this;
    for (size_t i = 0; i < kMaxParts; ++i) zmq_msg_move(&parts_[i], &o.parts_[i]);
    count_ = o.count_;
    o.count_ = 0;
    // A small part's bytes live inside its zmq_msg_t, which has just moved: look again.
    for (size_t i = 0; i < count_ && i < kMaxParts; ++i) view_[i] = view_of(parts_[i]);
    return *this;
  }

  // Receives one whole message, the first part with `flags` (ZMQ_DONTWAIT, or 0 to wait up to
  // the socket's ZMQ_RCVTIMEO). Returns 1 when a message was read (one cut short by an error
  // as far as it got), 0 when none came (EAGAIN), -1 on error (errno from zmq).
  int receive(void* socket, int flags = 0) {
    count_ = 0;
    for (;;) {
      zmq_msg_t* into = count_ < kMaxParts ? &parts_[count_] : &overflow_;
      // zmq_msg_recv releases what `into` held before.
      if (zmq_msg_recv(into, socket, flags) < 0) {
        if (count_ > 0) return 1;
        return zmq_errno() == EAGAIN ? 0 : -1;
      }
      if (count_ < kMaxParts) view_[count_] = view_of(*into);
      ++count_;
      if (!zmq_msg_more(into)) return 1;
      flags = 0;  // the rest of a multipart message has arrived with its first part
    }
  }

  // Forgets the last message and frees the buffers of its large parts, so a large payload
  // does not stay until the next receive. (Small parts live inside zmq_msg_t itself: nothing
  // to free.)
  void clear() {
    for (size_t i = 0; i < count_ && i < kMaxParts; ++i) {
      if (view_[i].size() <= kSmallPart) continue;
      zmq_msg_close(&parts_[i]);
      zmq_msg_init(&parts_[i]);
    }
    count_ = 0;
  }

  // Parts in the last message received (may exceed kMaxParts).
  size_t count() const { return count_; }
  // Part i, for i < min(count(), kMaxParts).
  std::string_view part(size_t i) const { return view_[i]; }
  // A metadata property of part i (zmq_msg_gets: "User-Id", "Peer-Address", ...); nullptr if
  // the connection has none.
  const char* property(size_t i, const char* name) const { return zmq_msg_gets(&parts_[i], name); }

  // Decodes parts first..count() as a cairn message (see codec.cpp); EPROTO if malformed.
  util::Result<Message> decode(size_t first = 0) const {
    Message m;
    if (auto st = decode_into(first, m); !st) return st.error();
    return m;
  }
  // The same into `into`, reusing its buffers (msg::decode_into).
  util::Status decode_into(size_t first, Message& into) const {
    if (count_ > kMaxParts) return util::Error{EPROTO, frame_count_error(count_ - first)};
    if (first > count_) first = count_;
    return msg::decode_into(std::span<const std::string_view>(view_ + first, count_ - first), into);
  }

 private:
  static std::string_view view_of(zmq_msg_t& part) {
    return {static_cast<const char*>(zmq_msg_data(&part)), zmq_msg_size(&part)};
  }

  zmq_msg_t parts_[kMaxParts];
  std::string_view view_[kMaxParts];  // each kept part's bytes, found once when it arrives
  zmq_msg_t overflow_;                // parts beyond kMaxParts, each dropped by the next
  size_t count_ = 0;
};

// Sends the three frames of a message whose header fields (type, match tag, flags, errnum) are
// those of `fields`, with `topic` and `payload` as given: the end of a multipart message whose
// envelope, if any, the caller has sent with ZMQ_SNDMORE. `flags` is added to every part
// (ZMQ_DONTWAIT). False (errno from zmq) if a part was not sent.
inline bool send_body(void* socket, const Message& fields, std::string_view topic,
                      std::string_view payload, int flags = 0) {
  char header[kHeaderBytes];
  encode_header(fields, header);
  return zmq_send(socket, header, sizeof header, flags | ZMQ_SNDMORE) >= 0 &&
         zmq_send(socket, topic.data(), topic.size(), flags | ZMQ_SNDMORE) >= 0 &&
         zmq_send(socket, payload.data(), payload.size(), flags) >= 0;
}

namespace detail {
inline void free_string(void*, void* hint) { delete static_cast<std::string*>(hint); }
}  // namespace detail

// Frames at least this large are handed to ZeroMQ without a copy by send_frame().
constexpr size_t kZeroCopyBytes = 64 * 1024;

// Sends `frame` as the last (or only) part of a message, `flags` added (ZMQ_DONTWAIT). False
// (errno from zmq) on failure. A frame of kZeroCopyBytes or more is moved into the message
// rather than copied, leaving `frame` empty whether or not it was sent.
inline bool send_frame(void* sock, std::string& frame, int flags = 0) {
  if (frame.size() < kZeroCopyBytes) return zmq_send(sock, frame.data(), frame.size(), flags) >= 0;
  auto* owned = new std::string(std::move(frame));
  frame.clear();
  zmq_msg_t part;
  zmq_msg_init_data(&part, owned->data(), owned->size(), detail::free_string, owned);
  if (zmq_msg_send(&part, sock, flags) >= 0) return true;
  int errnum = zmq_errno();
  zmq_msg_close(&part);  // frees `owned`
  errno = errnum;
  return false;
}

// Sends `frames` as one multipart message, `flags` (ZMQ_DONTWAIT) added to every part. Returns
// false (errno from zmq) if a part failed.
inline bool send_frames(void* sock, const Frames& frames, int flags = 0) {
  for (size_t i = 0; i < frames.size(); ++i) {
    int more = i + 1 < frames.size() ? ZMQ_SNDMORE : 0;
    if (zmq_send(sock, frames[i].data(), frames[i].size(), flags | more) < 0) return false;
  }
  return true;
}

// Receives one whole multipart message into `frames` (replacing its contents), the first part
// with `flags`. Returns 0 when nothing is waiting (with ZMQ_DONTWAIT) or nothing came within the
// socket's ZMQ_RCVTIMEO, 1 when a message was read (a message cut short by an error is
// returned as far as it got), -1 on error (errno from zmq).
inline int recv_frames(void* sock, Frames& frames, int flags = 0) {
  frames.clear();
  for (;;) {
    zmq_msg_t part;
    zmq_msg_init(&part);
    if (zmq_msg_recv(&part, sock, flags) < 0) {
      zmq_msg_close(&part);
      if (!frames.empty()) return 1;
      return zmq_errno() == EAGAIN ? 0 : -1;
    }
    frames.emplace_back(static_cast<const char*>(zmq_msg_data(&part)), zmq_msg_size(&part));
    bool more = zmq_msg_more(&part);
    zmq_msg_close(&part);
    if (!more) return 1;
    flags = 0;  // the rest of a multipart message has arrived with its first part
  }
}

}  // namespace cairn::msg

// Sending and receiving one whole multipart message as msg::Frames on a raw ZeroMQ socket:
// the one place the client side (libclient, its tests, t/perf) moves frames in and out of zmq.
#pragma once

#include <zmq.h>

#include "libmsg/message.hpp"

namespace cairn::client {

// Sends `frames` as one multipart message. Returns false (errno from zmq) if a part failed.
inline bool send_frames(void* sock, const msg::Frames& frames, int flags = 0) {
  for (size_t i = 0; i < frames.size(); ++i) {
    int more = i + 1 < frames.size() ? ZMQ_SNDMORE : 0;
    if (zmq_send(sock, frames[i].data(), frames[i].size(), flags | more) < 0) return false;
  }
  return true;
}

// Receives one whole multipart message into `frames` (replacing its contents). Returns 0 when
// nothing is waiting (with ZMQ_DONTWAIT) or nothing came within the socket's ZMQ_RCVTIMEO, 1
// when a message was read (a message cut short by an error is returned as far as it got), -1
// on error (errno from zmq).
inline int recv_frames(void* sock, msg::Frames& frames, int flags = 0) {
  frames.clear();
  int more = 0;
  do {
    zmq_msg_t part;
    zmq_msg_init(&part);
    if (zmq_msg_recv(&part, sock, flags) < 0) {
      zmq_msg_close(&part);
      if (!frames.empty()) return 1;
      return zmq_errno() == EAGAIN ? 0 : -1;
    }
    frames.emplace_back(static_cast<const char*>(zmq_msg_data(&part)), zmq_msg_size(&part));
    more = zmq_msg_more(&part);
    zmq_msg_close(&part);
  } while (more);
  return 1;
}

}  // namespace cairn::client
